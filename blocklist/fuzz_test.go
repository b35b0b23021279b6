package blocklist

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every set it returns is
// well formed, and that String round-trips: Parse(s.String()) equals s.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Add(reservedConf)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		checkWellFormed(t, s)
		again, err := Parse(strings.NewReader(s.String()), "again")
		if err != nil {
			t.Fatalf("Parse(String()) failed: %v\n%s", err, s)
		}
		if !again.Equal(s) {
			t.Fatalf("Parse(String()) != set:\n%s\nvs\n%s", again, s)
		}
	})
}

// checkWellFormed verifies the Set invariants: sorted, disjoint,
// non-adjacent ranges whose sizes add up to Count, and At/Contains
// agreeing at every range boundary.
func checkWellFormed(t *testing.T, s *Set) {
	t.Helper()
	var sum uint64
	for k, e := range s.ents {
		if e.lo > e.hi {
			t.Fatalf("range %d reversed: %+v", k, e)
		}
		if k > 0 && uint64(s.ents[k-1].hi)+1 >= uint64(e.lo) {
			t.Fatalf("ranges %d and %d overlap or touch: %+v %+v", k-1, k, s.ents[k-1], e)
		}
		if e.before != sum {
			t.Fatalf("range %d: before = %d, want %d", k, e.before, sum)
		}
		if got := s.At(sum); got != addr(e.lo) {
			t.Fatalf("At(%d) = %v, want %v", sum, got, addr(e.lo))
		}
		sum += uint64(e.hi-e.lo) + 1
		if got := s.At(sum - 1); got != addr(e.hi) {
			t.Fatalf("At(%d) = %v, want %v", sum-1, got, addr(e.hi))
		}
		if !s.Contains(addr(e.lo)) || !s.Contains(addr(e.hi)) {
			t.Fatalf("range %d ends not contained", k)
		}
		if e.lo > 0 && s.Contains(addr(e.lo-1)) {
			t.Fatalf("address before range %d contained", k)
		}
		if e.hi < 1<<32-1 && s.Contains(addr(e.hi+1)) {
			t.Fatalf("address after range %d contained", k)
		}
	}
	if sum != s.Count() {
		t.Fatalf("Count() = %d, ranges hold %d", s.Count(), sum)
	}
}

// FuzzSetOps drives two sets in a 4096-address universe from the fuzz
// bytes and checks union, intersection, subtraction, At, Contains and
// Count against the bitmap reference. The first byte picks the universe
// (bottom, middle or top of the address space); then every 4 bytes add
// one range: flags (bit 0: which set), a 12-bit offset and a length.
func FuzzSetOps(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0x00, 0x10, 5, 1, 0x00, 0x14, 10})
	f.Add([]byte{2, 0, 0x0f, 0xff, 0, 1, 0x0f, 0xf0, 255, 0, 0x00, 0x00, 255})
	f.Add([]byte{0, 0, 0x00, 0x00, 0, 1, 0x00, 0x00, 0, 0, 0x00, 0x02, 3, 1, 0x00, 0x01, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		u := universes[int(data[0])%len(universes)]
		data = data[1:]
		refs := [2]*refSet{newRef(u.base, 4096), newRef(u.base, 4096)}
		var rs [2][]Range
		for ; len(data) >= 4; data = data[4:] {
			which := data[0] & 1
			off := (uint32(data[1])<<8 | uint32(data[2])) & 0xfff
			lo := u.base + off
			hi := u.base + min(off+uint32(data[3]), 4095)
			refs[which].add(lo, hi)
			rs[which] = append(rs[which], Range{addr(lo), addr(hi)})
		}
		a, b := NewSet(rs[0]...), NewSet(rs[1]...)
		ra, rb := refs[0], refs[1]
		for _, c := range []struct {
			s   *Set
			ref *refSet
		}{
			{a, ra},
			{b, rb},
			{a.Union(b), ra.op(rb, func(x, y bool) bool { return x || y })},
			{a.Intersect(b), ra.op(rb, func(x, y bool) bool { return x && y })},
			{a.Subtract(b), ra.op(rb, func(x, y bool) bool { return x && !y })},
			{b.Subtract(a), rb.op(ra, func(x, y bool) bool { return x && !y })},
		} {
			checkWellFormed(t, c.s)
			checkAgainstRef(t, c.s, c.ref)
		}
		if !a.Union(b).Equal(b.Union(a)) || !a.Intersect(b).Equal(b.Intersect(a)) {
			t.Fatal("union or intersection not commutative")
		}
		if !a.Subtract(b).Union(a.Intersect(b)).Equal(a) {
			t.Fatal("(a-b) ∪ (a∩b) != a")
		}
	})
}
