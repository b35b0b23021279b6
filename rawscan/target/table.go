package target

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An addrTable maps a member index of an allowed Set to its address with,
// in the common case, two cache-friendly loads. Within one range of the set,
// address − index is a constant, the range's delta. Member indices are cut
// into buckets of 2^shift; a bucket that lies inside one range holds that
// range's number, an index into the small delta array. The few buckets that
// straddle a range boundary hold impure and defer to Set.At.
//
// Set.At costs two dependent lookups in tables sized for the whole set and
// a short search; on a permutation's random walk over a 10,000-range set it
// was most of the time per target. Holding 16-bit range numbers rather
// than 32-bit deltas halves the bucket table, which with the 40 KiB delta
// array stays in the CPU's L2 cache; that measured about a third faster
// (see bench/results/targets.md). The table is immutable and shared by
// every Iterator of a Permutation.
type addrTable struct {
	set   *blocklist.Set
	shift uint8
	rng   []uint16 // per bucket: range number, or impure
	delta []uint32 // per range: first address − first member index
}

// impure marks a bucket that spans more than one range, or one whose range
// number does not fit (sets of more than 65,535 ranges are then merely
// slower).
const impure = ^uint16(0)

// Table size: about 2^4 buckets per range, capped at 2^18 buckets
// (512 KiB). A random index then lands in an impure bucket with probability
// ≲ 1/16 (3.7% for the whole-IPv4 base set with a 10,000-line opt-out
// list). Bigger tables make fewer slow lookups but miss the CPU caches
// more.
const (
	tableBucketsPerRangeLog = 4
	tableMinBits            = 8
	tableMaxBits            = 18
)

func newAddrTable(set *blocklist.Set) *addrTable {
	return newAddrTableBits(set, min(max(bits.Len(uint(set.Len()))+tableBucketsPerRangeLog, tableMinBits), tableMaxBits))
}

// newAddrTableBits builds a table of at most 2^b buckets for a non-empty
// set.
func newAddrTableBits(set *blocklist.Set, b int) *addrTable {
	n := set.Count()
	shift := max(bits.Len64(n-1)-b, 0)
	ranges := set.Ranges()
	t := &addrTable{
		set:   set,
		shift: uint8(shift),
		rng:   make([]uint16, int((n-1)>>shift)+1),
		delta: make([]uint32, min(len(ranges), int(impure))),
	}
	size := func(r blocklist.Range) uint64 { return uint64(u32(r.Last)-u32(r.First)) + 1 }
	var before uint64 // member index of ranges[k].First
	for k, r := range ranges[:len(t.delta)] {
		t.delta[k] = u32(r.First) - uint32(before)
		before += size(r)
	}

	k, before := 0, uint64(0)
	for bk := range t.rng {
		first := uint64(bk) << shift
		last := min(first+1<<shift-1, n-1)
		for first >= before+size(ranges[k]) {
			before += size(ranges[k])
			k++
		}
		if last >= before+size(ranges[k]) || k >= len(t.delta) {
			t.rng[bk] = impure
			continue
		}
		t.rng[bk] = uint16(k)
	}
	return t
}

// at returns the i-th member of the set, i < Count().
func (t *addrTable) at(i uint64) netip.Addr {
	if k := t.rng[i>>(t.shift&63)]; k != impure {
		return addrFromUint32(uint32(i) + t.delta[k])
	}
	return t.set.At(i)
}

// addrFromUint32 returns the IPv4 address of a host-order integer. Going
// through PutUint32 compiles to two byte swaps, where building the [4]byte
// from shifted bytes costs a dozen instructions.
func addrFromUint32(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// u32 returns an IPv4 address as a host-order integer.
func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
