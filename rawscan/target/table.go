package target

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// An addrTable maps a member index of an allowed Set to its address with,
// in the common case, a single load. Member indices are cut into buckets of
// 2^shift; a bucket that lies inside one range of the set holds
// address − index, which is the same for every index of that range. The few
// buckets that straddle a range boundary hold impure and defer to Set.At.
//
// The Set's own At costs two dependent lookups and a short search; on a
// permutation's random walk over a 10,000-range set that was most of the
// time per target (see bench/results/targets.md), hence this table. It is
// immutable and shared by every Iterator of a Permutation.
type addrTable struct {
	set   *blocklist.Set
	shift uint8
	delta []uint32
}

// impure marks a bucket that spans more than one range. No pure bucket can
// hold it: delta = first − before = 2^32−1 only for the set
// {255.255.255.255}, whose one bucket is marked impure instead (it is then
// merely slower).
const impure = ^uint32(0)

// Table size bounds: about 2^5 buckets per range, so a random index lands
// in an impure bucket with probability ≲ 1/32, capped at 2^20 buckets
// (4 MiB) to stay within the memory goal of a whole-IPv4 scan.
const (
	tableBucketsPerRangeLog = 6
	tableMinBits            = 8
	tableMaxBits            = 20
)

func newAddrTable(set *blocklist.Set) *addrTable {
	return newAddrTableBits(set, min(max(bits.Len(uint(set.Len()))+tableBucketsPerRangeLog, tableMinBits), tableMaxBits))
}

// newAddrTableBits builds a table of at most 2^b buckets.
func newAddrTableBits(set *blocklist.Set, b int) *addrTable {
	n := set.Count()
	shift := max(bits.Len64(n-1)-b, 0)
	t := &addrTable{set: set, shift: uint8(shift)}
	nb := int((n-1)>>shift) + 1
	t.delta = make([]uint32, nb)

	ranges := set.Ranges()
	k := 0              // range holding the bucket's first index
	before := uint64(0) // member index of ranges[k].First
	size := func(r blocklist.Range) uint64 { return uint64(u32(r.Last)-u32(r.First)) + 1 }
	for bk := range nb {
		first := uint64(bk) << shift
		last := min(first+1<<shift-1, n-1)
		for first >= before+size(ranges[k]) {
			before += size(ranges[k])
			k++
		}
		d := u32(ranges[k].First) - uint32(before)
		if last >= before+size(ranges[k]) || d == impure {
			t.delta[bk] = impure
			continue
		}
		t.delta[bk] = d
	}
	return t
}

// at returns the i-th member of the set, i < Count().
func (t *addrTable) at(i uint64) netip.Addr {
	d := t.delta[i>>(t.shift&63)]
	if d == impure {
		return t.set.At(i)
	}
	return addrFromUint32(uint32(i) + d)
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
