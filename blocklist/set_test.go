package blocklist

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// refSet is the slow, obviously correct reference: one bool per address
// of a small universe [base, base+len(bits)).
type refSet struct {
	base uint32
	bits []bool
}

func newRef(base uint32, size int) *refSet {
	return &refSet{base: base, bits: make([]bool, size)}
}

func (r *refSet) add(lo, hi uint32) {
	for v := uint64(lo); v <= uint64(hi); v++ {
		r.bits[v-uint64(r.base)] = true
	}
}

func (r *refSet) op(o *refSet, f func(a, b bool) bool) *refSet {
	out := newRef(r.base, len(r.bits))
	for i := range r.bits {
		out.bits[i] = f(r.bits[i], o.bits[i])
	}
	return out
}

// members returns the addresses in ascending order.
func (r *refSet) members() []netip.Addr {
	var out []netip.Addr
	for i, b := range r.bits {
		if b {
			out = append(out, addr(r.base+uint32(i)))
		}
	}
	return out
}

// ranges returns the maximal runs of members.
func (r *refSet) ranges() []Range {
	out := []Range{}
	for i := 0; i < len(r.bits); i++ {
		if !r.bits[i] {
			continue
		}
		j := i
		for j+1 < len(r.bits) && r.bits[j+1] {
			j++
		}
		out = append(out, Range{addr(r.base + uint32(i)), addr(r.base + uint32(j))})
		i = j
	}
	return out
}

// randomRanges returns n random ranges inside [base, base+size), a mix of
// single addresses, aligned prefixes and arbitrary runs, and adds them to ref.
func randomRanges(rng *rand.Rand, ref *refSet, n int) []Range {
	size := uint32(len(ref.bits))
	out := make([]Range, 0, n)
	for range n {
		var lo, hi uint32
		switch rng.IntN(3) {
		case 0: // single address
			lo = rng.Uint32N(size)
			hi = lo
		case 1: // aligned prefix of 2..256 addresses
			sz := uint32(1) << (1 + rng.IntN(8))
			lo = rng.Uint32N(size) &^ (sz - 1)
			hi = lo + sz - 1
		default: // arbitrary run
			lo = rng.Uint32N(size)
			hi = min(lo+rng.Uint32N(300), size-1)
		}
		lo, hi = ref.base+lo, ref.base+hi
		ref.add(lo, hi)
		out = append(out, Range{addr(lo), addr(hi)})
	}
	return out
}

// checkAgainstRef compares every observable of s with ref over the
// universe and its immediate neighbours.
func checkAgainstRef(t *testing.T, s *Set, ref *refSet) {
	t.Helper()
	if diff := cmp.Diff(ref.ranges(), s.Ranges(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("unexpected ranges (-want +got):\n%s", diff)
	}
	want := ref.members()
	if got := s.Count(); got != uint64(len(want)) {
		t.Fatalf("Count() = %d, want %d", got, len(want))
	}
	for i, a := range want {
		if got := s.At(uint64(i)); got != a {
			t.Fatalf("At(%d) = %v, want %v", i, got, a)
		}
		if got, ok := s.Index(a); !ok || got != uint64(i) {
			t.Fatalf("Index(%v) = %d, %v; want %d, true", a, got, ok, i)
		}
	}
	for i, b := range ref.bits {
		a := addr(ref.base + uint32(i))
		if got := s.Contains(a); got != b {
			t.Fatalf("Contains(%v) = %v, want %v", a, got, b)
		}
		if _, ok := s.Index(a); ok != b {
			t.Fatalf("Index(%v) ok = %v, want %v", a, ok, b)
		}
	}
	// Neighbours outside the universe hold nothing (wrapping at the ends).
	for _, v := range []uint32{ref.base - 1, ref.base + uint32(len(ref.bits))} {
		if v >= ref.base && v < ref.base+uint32(len(ref.bits)) {
			continue
		}
		if s.Contains(addr(v)) {
			t.Fatalf("Contains(%v) = true outside the universe", addr(v))
		}
	}
}

// universes include both ends of the address space, where +1 and -1 wrap.
var universes = []struct {
	name string
	base uint32
}{
	{"bottom", 0},
	{"10.0.0.0/20", 10 << 24},
	{"top", 1<<32 - 4096},
}

func TestSetAgainstReference(t *testing.T) {
	for _, u := range universes {
		t.Run(u.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(u.base)))
			for round := range 200 {
				n := rng.IntN(60)
				if round%20 == 0 {
					n = 2000 // enough ranges for multi-level tables
				}
				refA, refB := newRef(u.base, 4096), newRef(u.base, 4096)
				a := NewSet(randomRanges(rng, refA, n)...)
				b := NewSet(randomRanges(rng, refB, rng.IntN(60))...)
				checkAgainstRef(t, a, refA)
				checkAgainstRef(t, b, refB)
				checkAgainstRef(t, a.Union(b), refA.op(refB, func(x, y bool) bool { return x || y }))
				checkAgainstRef(t, a.Intersect(b), refA.op(refB, func(x, y bool) bool { return x && y }))
				checkAgainstRef(t, a.Subtract(b), refA.op(refB, func(x, y bool) bool { return x && !y }))
				checkAgainstRef(t, b.Subtract(a), refB.op(refA, func(x, y bool) bool { return x && !y }))
				// String round-trips through Parse, and Prefixes rebuild s.
				if got := mustParse(t, a.String()); !got.Equal(a) {
					t.Fatalf("Parse(String()) != set:\n%s", a)
				}
				if got := FromPrefixes(a.Prefixes()...); !got.Equal(a) {
					t.Fatalf("FromPrefixes(Prefixes()) != set")
				}
			}
		})
	}
}

// TestAtContainsLarge checks At, Contains and Count on sets spread over
// the whole address space, where the bucket tables matter most.
func TestAtContainsLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	base := Reserved().Union(randomSet(rng, 10000))
	sets := []struct {
		name string
		set  *Set
	}{
		{"reserved", Reserved()},
		{"random10k", randomSet(rng, 10000)},
		{"allowed", All().Subtract(base)},
		{"all", All()},
		{"single", FromPrefixes(netip.MustParsePrefix("1.2.3.4/32"))},
		{"last", FromPrefixes(netip.MustParsePrefix("255.255.255.255/32"))},
		{"first", FromPrefixes(netip.MustParsePrefix("0.0.0.0/32"))},
	}
	for _, tt := range sets {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.set
			rs := s.Ranges()
			var sum uint64
			for _, r := range rs {
				sum += uint64(u32(r.Last)-u32(r.First)) + 1
			}
			if s.Count() != sum {
				t.Fatalf("Count() = %d, want %d", s.Count(), sum)
			}
			// Every range's first and last member, via At.
			var idx uint64
			for k, r := range rs {
				n := uint64(u32(r.Last)-u32(r.First)) + 1
				if got := s.At(idx); got != r.First {
					t.Fatalf("range %d: At(%d) = %v, want %v", k, idx, got, r.First)
				}
				if got := s.At(idx + n - 1); got != r.Last {
					t.Fatalf("range %d: At(%d) = %v, want %v", k, idx+n-1, got, r.Last)
				}
				for _, a := range []netip.Addr{r.First, r.Last, r.First.Prev(), r.Last.Next()} {
					want := a == r.First || a == r.Last
					if a.IsValid() && s.Contains(a) != want {
						t.Fatalf("Contains(%v) = %v, want %v", a, !want, want)
					}
				}
				idx += n
			}
			c := s.Complement()
			if c.Count()+s.Count() != 1<<32 || c.Intersect(s).Count() != 0 || !c.Union(s).Equal(All()) {
				t.Fatalf("Complement is not the complement: %d + %d addresses", c.Count(), s.Count())
			}
			// Random indices: At ascends and its results are members.
			for range 20000 {
				i := rng.Uint64N(s.Count())
				a := s.At(i)
				if !s.Contains(a) {
					t.Fatalf("Contains(At(%d) = %v) = false", i, a)
				}
				if got, ok := s.Index(a); !ok || got != i {
					t.Fatalf("Index(At(%d) = %v) = %d, %v", i, a, got, ok)
				}
				if i+1 < s.Count() {
					if b := s.At(i + 1); !a.Less(b) {
						t.Fatalf("At(%d) = %v not below At(%d) = %v", i, a, i+1, b)
					}
				}
			}
			// Random addresses: Contains agrees with a scan of the ranges
			// (fewer samples for large sets: the scan is linear).
			samples := 20000
			if len(rs) > 1000 {
				samples = 2000
			}
			for range samples {
				v := rng.Uint32()
				want := false
				for _, r := range rs {
					if u32(r.First) <= v && v <= u32(r.Last) {
						want = true
						break
					}
				}
				if got := s.Contains(addr(v)); got != want {
					t.Fatalf("Contains(%v) = %v, want %v", addr(v), got, want)
				}
			}
		})
	}
}

func TestContainsNonIPv4(t *testing.T) {
	s := FromPrefixes(netip.MustParsePrefix("1.2.3.0/24"))
	tests := []struct {
		name string
		a    netip.Addr
		want bool
	}{
		{"ipv4 member", netip.MustParseAddr("1.2.3.4"), true},
		{"4in6 member", netip.MustParseAddr("::ffff:1.2.3.4"), true},
		{"4in6 non-member", netip.MustParseAddr("::ffff:1.2.4.4"), false},
		{"ipv6", netip.MustParseAddr("2001:db8::1"), false},
		{"ipv4-compatible ipv6", netip.MustParseAddr("::1.2.3.4"), false},
		{"zero Addr", netip.Addr{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Contains(tt.a); got != tt.want {
				t.Fatalf("Contains(%v) = %v, want %v", tt.a, got, tt.want)
			}
		})
	}
}

func TestEmptyAndNil(t *testing.T) {
	for _, s := range []*Set{nil, {}, NewSet(), FromPrefixes()} {
		if s.Count() != 0 || s.Len() != 0 || s.Contains(netip.MustParseAddr("1.2.3.4")) || s.String() != "" {
			t.Fatalf("empty set %#v is not empty", s)
		}
		if !s.Equal(NewSet()) {
			t.Fatalf("empty set %#v != NewSet()", s)
		}
		if got := s.Union(All()); !got.Equal(All()) {
			t.Fatalf("empty ∪ All = %v", got)
		}
		if got := All().Subtract(s); !got.Equal(All()) {
			t.Fatalf("All - empty = %v", got)
		}
	}
}

func TestAtPanicsOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		s    *Set
		i    uint64
	}{
		{"empty", NewSet(), 0},
		{"nil", nil, 0},
		{"one past", FromPrefixes(netip.MustParsePrefix("1.2.3.0/24")), 256},
		{"all", All(), 1 << 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("At(%d) did not panic", tt.i)
				}
			}()
			tt.s.At(tt.i)
		})
	}
}

func TestNewSetNormalizes(t *testing.T) {
	r := func(a, b string) Range { return Range{netip.MustParseAddr(a), netip.MustParseAddr(b)} }
	tests := []struct {
		name string
		in   []Range
		want []Range
	}{
		{"empty", nil, []Range{}},
		{"adjacent merge", []Range{r("1.0.0.0", "1.0.0.9"), r("1.0.0.10", "1.0.0.20")}, []Range{r("1.0.0.0", "1.0.0.20")}},
		{"overlap unsorted", []Range{r("1.0.0.5", "1.0.0.30"), r("1.0.0.0", "1.0.0.9")}, []Range{r("1.0.0.0", "1.0.0.30")}},
		{"gap kept", []Range{r("1.0.0.0", "1.0.0.9"), r("1.0.0.11", "1.0.0.20")}, []Range{r("1.0.0.0", "1.0.0.9"), r("1.0.0.11", "1.0.0.20")}},
		{"contained", []Range{r("1.0.0.0", "1.0.0.255"), r("1.0.0.3", "1.0.0.4")}, []Range{r("1.0.0.0", "1.0.0.255")}},
		{"top end", []Range{r("255.255.255.255", "255.255.255.255"), r("255.255.255.0", "255.255.255.254")}, []Range{r("255.255.255.0", "255.255.255.255")}},
		{"after top end", []Range{r("0.0.0.0", "255.255.255.255"), r("1.2.3.4", "1.2.3.4")}, []Range{r("0.0.0.0", "255.255.255.255")}},
		{"4in6 unmapped", []Range{r("::ffff:1.2.3.4", "::ffff:1.2.3.5")}, []Range{r("1.2.3.4", "1.2.3.5")}},
		{"ipv6 dropped", []Range{r("::1", "::2")}, []Range{}},
		{"reversed dropped", []Range{r("1.2.3.5", "1.2.3.4")}, []Range{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewSet(tt.in...).Ranges()
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Fatalf("unexpected ranges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStringAndPrefixes(t *testing.T) {
	r := func(a, b string) Range { return Range{netip.MustParseAddr(a), netip.MustParseAddr(b)} }
	tests := []struct {
		name string
		s    *Set
		want string
	}{
		{"empty", NewSet(), ""},
		{"all", All(), "0.0.0.0/0\n"},
		{"single", NewSet(r("1.2.3.4", "1.2.3.4")), "1.2.3.4/32\n"},
		{"range split", NewSet(r("1.2.3.4", "1.2.3.9")), "1.2.3.4/30\n1.2.3.8/31\n"},
		{"top", NewSet(r("255.255.255.254", "255.255.255.255")), "255.255.255.254/31\n"},
		{"all but zero", NewSet(r("0.0.0.1", "255.255.255.255")),
			"0.0.0.1/32\n0.0.0.2/31\n0.0.0.4/30\n0.0.0.8/29\n0.0.0.16/28\n0.0.0.32/27\n0.0.0.64/26\n0.0.0.128/25\n" +
				"0.0.1.0/24\n0.0.2.0/23\n0.0.4.0/22\n0.0.8.0/21\n0.0.16.0/20\n0.0.32.0/19\n0.0.64.0/18\n0.0.128.0/17\n" +
				"0.1.0.0/16\n0.2.0.0/15\n0.4.0.0/14\n0.8.0.0/13\n0.16.0.0/12\n0.32.0.0/11\n0.64.0.0/10\n0.128.0.0/9\n" +
				"1.0.0.0/8\n2.0.0.0/7\n4.0.0.0/6\n8.0.0.0/5\n16.0.0.0/4\n32.0.0.0/3\n64.0.0.0/2\n128.0.0.0/1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.s.String()); diff != "" {
				t.Fatalf("unexpected String (-want +got):\n%s", diff)
			}
			if got := mustParse(t, tt.s.String()); !got.Equal(tt.s) {
				t.Fatalf("Parse(String()) = %v, want %v", got, tt.s)
			}
		})
	}
}

func TestRangeString(t *testing.T) {
	r := Range{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("1.2.3.9")}
	if got, want := r.String(), "1.2.3.4-1.2.3.9"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	r.Last = r.First
	if got, want := r.String(), "1.2.3.4"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// TestTableMemory bounds the memory of a 10k-range set.
func TestTableMemory(t *testing.T) {
	s := randomSet(rand.New(rand.NewPCG(3, 3)), 10000).Union(Reserved())
	bytes := len(s.ents)*16 + len(s.addrIdx)*4 + len(s.atIdx)*4
	t.Logf("%d ranges: %d bytes of tables", s.Len(), bytes)
	if bytes > 1<<20 {
		t.Fatalf("10k-range set uses %d bytes, want < 1 MiB", bytes)
	}
}

func TestZeroAllocs(t *testing.T) {
	s := Reserved().Union(randomSet(rand.New(rand.NewPCG(4, 4)), 10000))
	a := netip.MustParseAddr("8.8.8.8")
	var sink bool
	if n := testing.AllocsPerRun(1000, func() { sink = s.Contains(a) }); n != 0 {
		t.Fatalf("Contains allocates %v times per call", n)
	}
	var sinkAddr netip.Addr
	i := s.Count() / 3
	if n := testing.AllocsPerRun(1000, func() { sinkAddr = s.At(i) }); n != 0 {
		t.Fatalf("At allocates %v times per call", n)
	}
	var sinkIdx uint64
	if n := testing.AllocsPerRun(1000, func() { sinkIdx, sink = s.Index(a) }); n != 0 {
		t.Fatalf("Index allocates %v times per call", n)
	}
	_, _, _ = sink, sinkAddr, sinkIdx
}

// TestNoFlagsPath checks the lookup path of sets too large for the
// uniform-bucket flags against the flagged path.
func TestNoFlagsPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, s := range []*Set{Reserved(), randomSet(rng, 3000), All(), randomSet(rng, 3000).Complement()} {
		plain := buildSet(s.spans(), false)
		if plain.idxMask != ^uint32(0) {
			t.Fatalf("idxMask = %#x with flags off", plain.idxMask)
		}
		for range 50000 {
			a := addr(rng.Uint32())
			if got, want := plain.Contains(a), s.Contains(a); got != want {
				t.Fatalf("Contains(%v) = %v without flags, %v with", a, got, want)
			}
			gi, gok := plain.Index(a)
			wi, wok := s.Index(a)
			if gi != wi || gok != wok {
				t.Fatalf("Index(%v) = %d, %v without flags, %d, %v with", a, gi, gok, wi, wok)
			}
		}
	}
}
