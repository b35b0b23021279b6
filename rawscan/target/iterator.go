package target

import (
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An Iterator walks one thread's subshard of a Permutation. It is not safe
// for concurrent use: each sender thread owns one.
type Iterator struct {
	// Hot fields, read on every Next.
	cur     uint64 // next group element to consume
	left    uint64 // group elements not yet consumed
	emitted uint64 // targets returned so far (including before a resume)
	max     uint64 // cap on emitted
	gen     uint64
	mod     reducer // mod the prime
	n       uint64  // number of targets; elements above n are skipped
	allowed *blocklist.Set
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
		// v < prime and gen ≤ (2^64−1)/prime, so v·gen does not overflow.
		it.cur = it.mod.mod(v * it.gen)
		it.left--
		if v > it.n {
			continue // element v stands for target v−1 ≥ n: not a target
		}
		it.emitted++
		i := v - 1
		if len(it.ports) == 1 {
			return it.allowed.At(i), it.ports[0], true
		}
		a, k := it.portDiv.divMod(i)
		return it.allowed.At(a), it.ports[k], true
	}
	return netip.Addr{}, 0, false
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
