package target

import (
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An Iterator walks one thread's subshard of a Permutation. It is not safe
// for concurrent use: each sender thread owns one.
type Iterator struct {
	// Hot fields, read on every target.
	cur     uint64                      // next group element to consume, lazily reduced: in [0, 2·prime)
	left    uint64                      // group elements not yet consumed
	emitted uint64                      // targets returned so far (including before a resume)
	max     uint64                      // cap on emitted
	mul     shoupMul                    // multiplication by the generator mod the prime
	n       uint64                      // number of targets; elements above n are skipped
	rng     *[tableBuckets]uint16       // addrTable.rng
	rs      *[maxTableRanges]tableRange // addrTable.rs
	shift   uint                        // addrTable.shift
	bucket  uint64                      // 2^(32−shift): i>>shift is i·bucket>>32 for i < 2^32
	set     *blocklist.Set
	ports   []uint16
	portDiv reducer // by len(ports)

	length uint64 // elements in the subshard
	perm   *Permutation
	thread int
}

// Next returns the next target of the subshard: an address of the allowed
// set and a port. It returns false when the subshard is done or its share of
// MaxTargets is used up. It does not allocate. FillAddrs is faster for a
// caller that can take targets in batches.
func (it *Iterator) Next() (netip.Addr, uint16, bool) {
	for it.left != 0 && it.emitted != it.max {
		v := it.cur
		it.cur = it.mul.mulLazy(v)
		it.left--
		v = canon(v, it.mul.p) // off the multiplication's dependency chain
		if v > it.n {
			continue // element v stands for target v−1 ≥ n: not a target
		}
		it.emitted++
		i, port := v-1, it.ports[0]
		if len(it.ports) != 1 {
			var k uint64
			i, k = it.portDiv.divMod(i)
			port = it.ports[k]
		}
		// addrTable.at on the Iterator's copy of the table, written out so
		// that its common case is inlined.
		if it.rng == nil {
			return it.set.At(i), port, true
		}
		r := it.rng[i*it.bucket>>32&(tableBuckets-1)]
		for uint32(i) > it.rs[r].last {
			r++
		}
		return addrFromUint32(uint32(i) + it.rs[r].delta), port, true
	}
	return netip.Addr{}, 0, false
}

// FillAddrs writes the next targets of the subshard into addrs and ports,
// the address of target j as a host-order integer in addrs[j] (a.b.c.d is
// a<<24 | b<<16 | c<<8 | d, the value of the address field of an IPv4
// header) and its port in ports[j], and returns how many it wrote. It writes
// fewer than min(len(addrs), len(ports)) only when the subshard is done or
// its share of MaxTargets is used up, so 0 means the end. It yields the
// same sequence as Next and Fill, and the three can be mixed. It does not
// allocate.
//
// FillAddrs is the fast path for a sender that stamps addresses into
// packet headers: one call per batch, no netip.Addr built, and the walk
// and the address lookups in one loop the CPU overlaps (the next group
// element is known one multiplication ahead of the lookup).
func (it *Iterator) FillAddrs(addrs []uint32, ports []uint16) int {
	want := min(len(addrs), len(ports))
	if r := it.max - it.emitted; uint64(want) > r {
		want = int(r)
	}
	if it.rng == nil || len(it.ports) != 1 {
		return it.fillGeneral(addrs[:want], ports[:want])
	}
	addrs = addrs[:want]
	k := 0
	for k < want && it.left != 0 {
		out := addrs[k : k+int(min(uint64(want-k), it.left))]
		j := it.walkLookup(out)
		k += j
		if j < len(out) {
			j++ // the element that was not a target
		}
		it.left -= uint64(j)
	}
	it.emitted += uint64(k)
	fillPort(ports[:k], it.ports[0])
	return k
}

// fillPort sets every element of ports to port, by doubling copies: a few
// memmoves per batch instead of a store and a loop test per target.
func fillPort(ports []uint16, port uint16) {
	if len(ports) == 0 {
		return
	}
	ports[0] = port
	for n := 1; n < len(ports); n *= 2 {
		copy(ports[n:], ports[:n])
	}
}

// walkLookup walks from element it.cur writing the addresses of targets to
// out, one port assumed, until out is full or it meets an element that is
// not a target (there are prime−1−n of them, a handful). It updates it.cur
// to the element after the last one consumed and returns the number of
// targets written: len(out) or, after a non-target, fewer.
//
// It is not inlined, and reads the walk's constants from memory rather
// than local copies, so that its loop has the registers to itself: in
// FillAddrs with the outer loop's state, the compiler spilled and
// reloaded a dozen values per target.
//
//go:noinline
func (it *Iterator) walkLookup(out []uint32) int {
	cur, mul, n, bucket := it.cur, it.mul, it.n, it.bucket
	rng, rs := it.rng, it.rs
	_, _ = *rng, *rs // nil checks here, not per target
	for j := range out {
		v := cur
		cur = mul.mulLazy(cur)
		v = canon(v, mul.p) - 1 // off the multiplication's dependency chain
		if v >= n {
			it.cur = cur
			return j // element v+1 stands for target v ≥ n: not a target
		}
		// v is the member index, below n ≤ 2^32 with one port.
		i := uint32(v)
		r := rng[v*bucket>>32&(tableBuckets-1)]
		for i > rs[r].last {
			r++
		}
		out[j] = i + rs[r].delta
	}
	it.cur = cur
	return len(out)
}

// fillGeneral is FillAddrs for several ports or a set with too many ranges
// for the table; want = len(addrs) = len(ports) targets are allowed.
func (it *Iterator) fillGeneral(addrs []uint32, ports []uint16) int {
	k := 0
	for k < len(addrs) && it.left != 0 {
		v := it.cur
		it.cur = it.mul.mulLazy(v)
		it.left--
		v = canon(v, it.mul.p)
		if v > it.n {
			continue
		}
		i, pi := v-1, uint64(0)
		if len(it.ports) != 1 {
			i, pi = it.portDiv.divMod(i)
		}
		if it.rng != nil { // addrTable.at, written out as in Next
			r := it.rng[i*it.bucket>>32&(tableBuckets-1)]
			for uint32(i) > it.rs[r].last {
				r++
			}
			addrs[k] = uint32(i) + it.rs[r].delta
		} else {
			addrs[k] = u32(it.set.At(i))
		}
		ports[k] = it.ports[pi]
		k++
	}
	it.emitted += uint64(k)
	return k
}

// fillChunk is how many targets Fill fetches per FillAddrs call, into a
// stack array of 768 bytes.
const fillChunk = 128

// Fill writes the next targets of the subshard into dst and returns how
// many it wrote; fewer than len(dst) only when the subshard is done or its
// share of MaxTargets is used up, so 0 means the end. It yields the same
// sequence as calls to Next, and the two can be mixed. It does not allocate.
// It is FillAddrs for callers that want netip values, at the cost of
// building them.
func (it *Iterator) Fill(dst []netip.AddrPort) int {
	var (
		addrs [fillChunk]uint32
		ports [fillChunk]uint16
	)
	n := 0
	for n < len(dst) {
		want := min(len(dst)-n, fillChunk)
		k := it.FillAddrs(addrs[:want], ports[:want])
		out := dst[n : n+k]
		for j := range out {
			out[j] = netip.AddrPortFrom(addrFromUint32(addrs[j]), ports[j])
		}
		n += k
		if k < want {
			break
		}
	}
	return n
}

// Position returns the number of group elements the Iterator has consumed
// since the start of its subshard, skipped ones included. It is what a
// checkpoint records (see Permutation.State).
func (it *Iterator) Position() uint64 { return it.length - it.left }

// Emitted returns the number of targets the Iterator has returned since the
// start of its subshard, including those before a resume.
func (it *Iterator) Emitted() uint64 { return it.emitted }

// Thread returns the index of the thread whose subshard the Iterator walks.
func (it *Iterator) Thread() int { return it.thread }
