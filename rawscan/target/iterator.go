package target

import (
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An Iterator walks one thread's subshard of a Permutation. It is not safe
// for concurrent use: each sender thread owns one.
type Iterator struct {
	// Hot fields, read on every Next.
	cur     uint64   // next group element to consume, lazily reduced: in [0, 2·prime)
	left    uint64   // group elements not yet consumed
	emitted uint64   // targets returned so far (including before a resume)
	max     uint64   // cap on emitted
	mul     shoupMul // multiplication by the generator mod the prime
	n       uint64   // number of targets; elements above n are skipped
	rng     []uint16 // addrTable.rng
	delta   []uint32 // addrTable.delta
	shift   uint     // addrTable.shift
	set     *blocklist.Set
	ports   []uint16
	portDiv reducer // by len(ports)

	length uint64 // elements in the subshard
	perm   *Permutation
	thread int
}

// Next returns the next target of the subshard: an address of the allowed
// set and a port. It returns false when the subshard is done or its share of
// MaxTargets is used up. It does not allocate.
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
		// addrTable.at, written out so its common case is inlined.
		if k := it.rng[i>>(it.shift&63)]; k != impure {
			return addrFromUint32(uint32(i) + it.delta[k]), port, true
		}
		return it.set.At(i), port, true
	}
	return netip.Addr{}, 0, false
}

// fillChunk is how many targets Fill computes before looking up their
// addresses, on a 1 KiB stack array (zeroed per call, so not much bigger
// than a sender's batch).
const fillChunk = 128

// Fill writes the next targets of the subshard into dst and returns how
// many it wrote; fewer than len(dst) only when the subshard is done or its
// share of MaxTargets is used up, so 0 means the end. It yields the same
// sequence as calls to Next, and the two can be mixed. It does not allocate.
//
// Fill is meant for a sender that works in batches: it walks the group for
// a chunk of targets first and then looks up their addresses in a tight
// loop of independent loads, with one call per batch instead of one per
// target. (On the benchmark machine it measured about as fast as Next; the
// out-of-order core overlaps Next's lookups too.)
func (it *Iterator) Fill(dst []netip.AddrPort) int {
	var idx [fillChunk]uint64
	n := 0
	for n < len(dst) {
		// Walk: collect up to a chunk of target indices.
		k := 0
		want := min(len(dst)-n, fillChunk)
		cur, left, emitted := it.cur, it.left, it.emitted
		for k < want && left != 0 && emitted != it.max {
			v := cur
			cur = it.mul.mulLazy(v)
			left--
			v = canon(v, it.mul.p)
			if v > it.n {
				continue
			}
			emitted++
			idx[k] = v - 1
			k++
		}
		it.cur, it.left, it.emitted = cur, left, emitted

		// Look up: independent loads.
		out := dst[n : n+k]
		rng, delta, shift := it.rng, it.delta, it.shift&63
		if len(it.ports) == 1 {
			port := it.ports[0]
			for j, i := range idx[:len(out)] {
				var a netip.Addr
				if k := rng[i>>shift]; k != impure {
					a = addrFromUint32(uint32(i) + delta[k])
				} else {
					a = it.set.At(i)
				}
				out[j] = netip.AddrPortFrom(a, port)
			}
		} else {
			for j, i := range idx[:len(out)] {
				ai, pi := it.portDiv.divMod(i)
				var a netip.Addr
				if k := rng[ai>>shift]; k != impure {
					a = addrFromUint32(uint32(ai) + delta[k])
				} else {
					a = it.set.At(ai)
				}
				out[j] = netip.AddrPortFrom(a, it.ports[pi])
			}
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
