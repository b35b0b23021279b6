package blocklist

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// Range is an inclusive interval of IPv4 addresses, First <= Last.
// Ranges returned by a Set always hold IPv4 (never 4in6) addresses.
type Range struct {
	First, Last netip.Addr
}

// String returns the range in the file format: "a.b.c.d-e.f.g.h", or a
// single address when First == Last.
func (r Range) String() string {
	if r.First == r.Last {
		return r.First.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// span is a range as host-order integers; lo <= hi.
type span struct {
	lo, hi uint32
}

// entry is one compiled range plus the number of members in all the
// ranges before it. Keeping both in one 16-byte record puts the search key
// and the At offset on the same cache line.
type entry struct {
	lo, hi uint32
	before uint64
}

// Set is an immutable set of IPv4 addresses stored as sorted, disjoint,
// non-adjacent intervals. Its methods never modify it, so a Set is safe for
// concurrent use by any number of goroutines without locks. The zero Set and
// a nil *Set are empty.
//
// Two lookup tables, built once by the constructors and sized to the number
// of ranges, make the per-target operations constant time in practice:
// Contains indexes a table by the top bits of the address, At by the top
// bits of the member index; each then binary-searches only the few ranges
// that one bucket spans.
type Set struct {
	ents  []entry // sorted, disjoint, non-adjacent
	count uint64  // number of addresses, at most 1<<32

	// Contains: the candidates for address a are
	// ents[addrIdx[a>>addrShift] : addrIdx[a>>addrShift+1]&idxMask+1],
	// unless the bucket's entry has bucketUniform set, in which case every
	// address of the bucket is a member iff bucketFull is set.
	addrShift uint8
	addrIdx   []uint32
	idxMask   uint32 // idxMask, or all ones when the flags are off

	// At: the range holding member i is in
	// ents[atIdx[i>>atShift] : atIdx[i>>atShift+1]+1].
	atShift uint8
	atIdx   []uint32
}

// maxTableBits bounds the bucket tables to 1<<16 entries (256 KiB each).
const maxTableBits = 16

// Flags in the top bits of addrIdx entries. A bucket that lies entirely
// inside one range or entirely outside all ranges is answered from the
// table alone; for a blocklist most buckets are empty, so most lookups
// touch one table entry and no range. Range indexes fit in the remaining
// 30 bits for any set below 1<<30 ranges (16 GiB of entries); larger sets
// (at most 1<<31 ranges, so bit 31 of an index is always clear) never set
// the flags and use an all-ones mask.
const (
	bucketUniform = 1 << 31
	bucketFull    = 1 << 30
	idxMask       = bucketFull - 1
)

// NewSet returns the set of the addresses in ranges. The ranges may overlap,
// touch or come in any order; they are sorted and merged. A Range whose
// addresses are not IPv4 (after unmapping 4in6) or whose First is after its
// Last is ignored: the parsers never produce one.
func NewSet(ranges ...Range) *Set {
	spans := make([]span, 0, len(ranges))
	for _, r := range ranges {
		f, l := r.First.Unmap(), r.Last.Unmap()
		if !f.Is4() || !l.Is4() {
			continue
		}
		lo, hi := u32(f), u32(l)
		if lo > hi {
			continue
		}
		spans = append(spans, span{lo, hi})
	}
	return fromSpans(normalize(spans))
}

// FromPrefixes returns the set of the addresses in the IPv4 prefixes p.
// Host bits are masked off (1.2.3.4/24 means 1.2.3.0/24); invalid and IPv6
// prefixes are ignored.
func FromPrefixes(p ...netip.Prefix) *Set {
	spans := make([]span, 0, len(p))
	for _, pf := range p {
		if s, ok := prefixSpan(pf); ok {
			spans = append(spans, s)
		}
	}
	return fromSpans(normalize(spans))
}

// All returns the set of every IPv4 address, 0.0.0.0/0.
func All() *Set {
	return fromSpans([]span{{0, 1<<32 - 1}})
}

// prefixSpan converts an IPv4 prefix, masking host bits.
func prefixSpan(p netip.Prefix) (span, bool) {
	if !p.IsValid() || !p.Addr().Is4() {
		return span{}, false
	}
	lo := u32(p.Masked().Addr())
	hostBits := 32 - p.Bits()
	return span{lo, lo | uint32(uint64(1)<<hostBits-1)}, true
}

// normalize sorts spans and merges overlapping and adjacent ones, in place.
func normalize(s []span) []span {
	if len(s) == 0 {
		return s
	}
	slices.SortFunc(s, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		// Adjacent when x.lo == last.hi+1; last.hi == max absorbs all.
		if last.hi == 1<<32-1 || x.lo <= last.hi+1 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// fromSpans builds a Set from normalized spans and its lookup tables.
func fromSpans(s []span) *Set {
	return buildSet(s, len(s) <= idxMask)
}

// buildSet is fromSpans with the uniform-bucket flags switchable, so the
// tests can cover the path that sets of 1<<30 or more ranges take.
func buildSet(s []span, flags bool) *Set {
	set := &Set{ents: make([]entry, len(s))}
	for i, x := range s {
		set.ents[i] = entry{lo: x.lo, hi: x.hi, before: set.count}
		set.count += uint64(x.hi-x.lo) + 1
	}
	if len(s) == 0 {
		return set
	}
	// About two buckets per range keeps the search within a bucket to one
	// or two probes for evenly spread ranges.
	tb := min(bits.Len(uint(len(s)))+1, maxTableBits)

	set.addrShift = uint8(32 - tb)
	set.addrIdx = make([]uint32, 1<<tb+1)
	set.idxMask = ^uint32(0)
	if flags {
		set.idxMask = idxMask
	}
	k := 0
	for b := range 1 << tb {
		start := uint32(b) << set.addrShift
		end := start | (1<<set.addrShift - 1)
		for k < len(s)-1 && set.ents[k].hi < start {
			k++
		}
		e := set.ents[k]
		set.addrIdx[b] = uint32(k)
		switch {
		case !flags:
		case e.hi < start || e.lo > end: // no range meets the bucket
			set.addrIdx[b] |= bucketUniform
		case e.lo <= start && e.hi >= end: // one range covers it
			set.addrIdx[b] |= bucketUniform | bucketFull
		}
	}
	set.addrIdx[1<<tb] = uint32(len(s) - 1)

	// Smallest shift that maps every index 0..count-1 into 1<<tb buckets.
	shift := max(bits.Len64(set.count-1)-tb, 0)
	set.atShift = uint8(shift)
	nb := int((set.count-1)>>shift) + 1
	set.atIdx = make([]uint32, nb+1)
	k = 0
	for b := range nb {
		start := uint64(b) << shift
		for k < len(s)-1 && set.ents[k+1].before <= start {
			k++
		}
		set.atIdx[b] = uint32(k)
	}
	set.atIdx[nb] = uint32(len(s) - 1)
	return set
}

// u32 returns an IPv4 address as a host-order integer.
func u32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// addr returns the IPv4 address of a host-order integer.
func addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Contains reports whether a is in s. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is treated as its IPv4 form, so a blocklist cannot be
// bypassed by mapping; any other IPv6 address and the zero Addr are never
// members. Contains does not allocate or lock.
func (s *Set) Contains(a netip.Addr) bool {
	_, ok := s.find(a)
	return ok
}

// Index returns the position of a among the members of s in ascending
// order, the inverse of At: At(Index(a)) == a. ok is false if a is not a
// member (see Contains for non-IPv4 addresses). Index does not allocate.
func (s *Set) Index(a netip.Addr) (i uint64, ok bool) {
	e, ok := s.find(a)
	if !ok {
		return 0, false
	}
	return e.before + uint64(u32(a.Unmap())-e.lo), true
}

// find returns the range holding a, if any. For a member of a uniform
// full bucket it returns the range covering the whole bucket.
func (s *Set) find(a netip.Addr) (*entry, bool) {
	if s == nil || len(s.ents) == 0 {
		return nil, false
	}
	a = a.Unmap()
	if !a.Is4() {
		return nil, false
	}
	v := u32(a)
	b := v >> s.addrShift
	lo := s.addrIdx[b]
	if lo&bucketUniform != 0 {
		if lo&bucketFull == 0 {
			return nil, false
		}
		return &s.ents[lo&idxMask], true
	}
	hi := s.addrIdx[b+1] & s.idxMask
	// First entry in [lo, hi] whose hi >= v; ents[hi] qualifies unless v
	// is beyond the last range.
	for lo < hi {
		m := (lo + hi) >> 1
		if s.ents[m].hi < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	e := &s.ents[lo]
	return e, e.lo <= v && v <= e.hi
}

// Count returns the number of addresses in s, from 0 to 1<<32.
func (s *Set) Count() uint64 {
	if s == nil {
		return 0
	}
	return s.count
}

// At returns the i-th member of s in ascending order, 0 <= i < Count().
// It panics if i is out of range. At does not allocate or lock.
func (s *Set) At(i uint64) netip.Addr {
	if s == nil || i >= s.count {
		panic("blocklist: Set.At index out of range")
	}
	b := i >> s.atShift
	lo, hi := s.atIdx[b], s.atIdx[b+1]
	// Last entry in [lo, hi] whose before <= i.
	for lo < hi {
		m := (lo + hi + 1) >> 1
		if s.ents[m].before <= i {
			lo = m
		} else {
			hi = m - 1
		}
	}
	e := &s.ents[lo]
	return addr(e.lo + uint32(i-e.before))
}

// Len returns the number of disjoint, non-adjacent ranges in s.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.ents)
}

// Ranges returns a copy of the ranges of s in ascending order.
func (s *Set) Ranges() []Range {
	out := make([]Range, s.Len())
	for i, e := range s.spans() {
		out[i] = Range{First: addr(e.lo), Last: addr(e.hi)}
	}
	return out
}

// Prefixes returns the smallest list of CIDR prefixes that covers exactly
// the addresses of s, in ascending order.
func (s *Set) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s.spans() {
		out = appendPrefixes(out, x)
	}
	return out
}

// appendPrefixes appends the minimal CIDR decomposition of x.
func appendPrefixes(out []netip.Prefix, x span) []netip.Prefix {
	lo, hi := uint64(x.lo), uint64(x.hi)
	for lo <= hi {
		// Largest aligned block starting at lo that does not pass hi.
		size := uint64(1) << 32
		if lo != 0 {
			size = lo & -lo
		}
		for size > hi-lo+1 {
			size >>= 1
		}
		out = append(out, netip.PrefixFrom(addr(uint32(lo)), 32-bits.Len64(size-1)))
		lo += size
	}
	return out
}

// String returns s in the file format, one CIDR prefix per line in
// ascending order, each line ending in a newline; the empty set is "".
// Ranges that are not a single prefix are split into the fewest prefixes,
// so ZMap, masscan and Parse all read the output back as the same set.
func (s *Set) String() string {
	var sb strings.Builder
	for _, p := range s.Prefixes() {
		sb.WriteString(p.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Equal reports whether s and o hold the same addresses.
func (s *Set) Equal(o *Set) bool {
	a, b := s.spans(), o.spans()
	return slices.Equal(a, b)
}

// spans returns the ranges of s as integer spans (a fresh slice).
func (s *Set) spans() []span {
	if s == nil {
		return nil
	}
	out := make([]span, len(s.ents))
	for i, e := range s.ents {
		out[i] = span{e.lo, e.hi}
	}
	return out
}

// Complement returns the IPv4 addresses not in s.
func (s *Set) Complement() *Set {
	return All().Subtract(s)
}

// Union returns the addresses in s or o.
func (s *Set) Union(o *Set) *Set {
	return fromSpans(normalize(append(s.spans(), o.spans()...)))
}

// Intersect returns the addresses in both s and o.
func (s *Set) Intersect(o *Set) *Set {
	a, b := s.spans(), o.spans()
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo <= hi {
			out = append(out, span{lo, hi})
		}
		// Drop whichever ends first; it cannot meet anything further.
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	// Pieces of disjoint, non-adjacent inputs are themselves disjoint and
	// non-adjacent, so no normalization is needed.
	return fromSpans(out)
}

// Subtract returns the addresses in s that are not in o.
func (s *Set) Subtract(o *Set) *Set {
	a, b := s.spans(), o.spans()
	var out []span
	j := 0
	for _, x := range a {
		lo := uint64(x.lo) // uint64: lo may step past 255.255.255.255
		for ; j < len(b) && b[j].hi < x.lo; j++ {
		}
		for k := j; k < len(b) && b[k].lo <= x.hi; k++ {
			if uint64(b[k].lo) > lo {
				out = append(out, span{uint32(lo), b[k].lo - 1})
			}
			lo = max(lo, uint64(b[k].hi)+1)
		}
		if lo <= uint64(x.hi) {
			out = append(out, span{uint32(lo), x.hi})
		}
	}
	return fromSpans(out)
}
