package target

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An addrTable maps a member index of an allowed Set to its address with two
// cache-friendly loads and, rarely, a step or two of a linear search.
// Within one range of the set, address − index is a constant, the range's
// delta. Member indices are cut into buckets of 2^shift; each bucket holds
// the number of the range its first index falls in, an index into the
// small array of ranges. An index in a bucket that straddles a range
// boundary may lie in a later range: the lookup steps forward while the
// index is past the range's last member index. Each step is at most one
// range boundary crossed, so the expected number of steps per lookup on a
// random index is below ranges/buckets (≲ 1/16, see tableBucketsPerRangeLog)
// however unevenly the ranges are spread.
//
// Set.At costs two dependent lookups in tables sized for the whole set and
// a short search; on a permutation's random walk over a 10,000-range set it
// was most of the time per target. Holding 16-bit range numbers rather
// than 32-bit deltas halves the bucket table, which with the ranges array
// (8 bytes a range: 80 KiB for 10,000) stays in the CPU's L2 cache; see
// bench/results/targets.md. The table is immutable and shared by every
// Iterator of a Permutation.
type addrTable struct {
	set   *blocklist.Set
	shift uint8
	rng   *[tableBuckets]uint16       // per bucket: the range of its first index; nil if too many ranges
	rs    *[maxTableRanges]tableRange // per range, in order
}

// A tableRange is one range of the set in member-index terms.
type tableRange struct {
	last  uint32 // member index of the range's last address
	delta uint32 // first address − first member index, mod 2^32
}

// maxTableRanges is the most ranges a table numbers with 16 bits. A set
// with more (only pathological lists have them) is looked up with Set.At,
// merely slower.
const maxTableRanges = 1 << 16

// Table size: about 2^4 buckets per range, capped at 2^18 buckets
// (512 KiB). A random index then lands in a bucket that straddles a range
// boundary with probability ≲ 1/16 (3.7% for the whole-IPv4 base set with a
// 10,000-line opt-out list), and then needs on average about one extra
// comparison. Bigger tables miss the CPU caches more.
const (
	tableBucketsPerRangeLog = 4
	tableMinBits            = 8
	tableMaxBits            = 18
)

// The bucket and range arrays always have their largest size, so that a
// lookup's indices are provably in bounds (a bucket number masked with
// tableBuckets−1, a uint16 range number) and the hot loop needs neither
// bounds checks nor registers for the lengths. The unused tails cost
// address space, not memory: they are never touched.
const tableBuckets = 1 << tableMaxBits

func newAddrTable(set *blocklist.Set) *addrTable {
	return newAddrTableBits(set, min(max(bits.Len(uint(set.Len()))+tableBucketsPerRangeLog, tableMinBits), tableMaxBits))
}

// newAddrTableBits builds a table of at most 2^b buckets for a non-empty
// set.
func newAddrTableBits(set *blocklist.Set, b int) *addrTable {
	n := set.Count()
	shift := max(bits.Len64(n-1)-b, 0)
	ranges := set.Ranges()
	t := &addrTable{set: set, shift: uint8(shift)}
	if len(ranges) > maxTableRanges {
		return t
	}
	t.rng = new([tableBuckets]uint16)
	t.rs = new([maxTableRanges]tableRange)
	size := func(r blocklist.Range) uint64 { return uint64(u32(r.Last)-u32(r.First)) + 1 }
	var before uint64 // member index of ranges[k].First
	for k, r := range ranges {
		t.rs[k] = tableRange{
			last:  uint32(before + size(r) - 1), // < n ≤ 2^32
			delta: u32(r.First) - uint32(before),
		}
		before += size(r)
	}

	k := 0
	for bk := range t.buckets() {
		first := uint64(bk) << shift
		for first > uint64(t.rs[k].last) {
			k++
		}
		t.rng[bk] = uint16(k)
	}
	return t
}

// buckets returns the number of buckets in use: n−1 >> shift, plus one.
func (t *addrTable) buckets() int {
	if t.rng == nil {
		return 0
	}
	return int((t.set.Count()-1)>>t.shift) + 1
}

// at returns the i-th member of the set, i < Count(), as a host-order
// integer.
func (t *addrTable) at(i uint64) uint32 {
	if t.rng == nil {
		return u32(t.set.At(i))
	}
	k := t.rng[i>>(t.shift&63)&(tableBuckets-1)]
	for uint32(i) > t.rs[k].last {
		k++
	}
	return uint32(i) + t.rs[k].delta
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
