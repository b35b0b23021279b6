package target

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/blocklist"
)

// addrComparer lets cmp compare netip.Addr values, whose fields are
// unexported.
var addrComparer = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// tgt is one target, comparable for maps and cmp.
type tgt struct {
	Addr netip.Addr
	Port uint16
}

func (t tgt) String() string { return netip.AddrPortFrom(t.Addr, t.Port).String() }

// addrOf returns the IPv4 address of a host-order integer.
func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// refSet is a slow, obvious allowed set: a map of addresses, built from
// random ranges minus random blocked ranges, next to the blocklist.Set built
// from the same ranges.
type refSet struct {
	allowed *blocklist.Set
	members map[netip.Addr]bool
	blocked map[netip.Addr]bool
}

// randomRefSet draws up to maxRanges allowed ranges and as many blocked ones
// inside a window of 2^windowBits addresses at a random base, so ranges
// overlap and touch often.
func randomRefSet(r *rand.Rand, maxRanges int, windowBits uint) refSet {
	base := r.Uint32() &^ (1<<windowBits - 1)
	span := func() (uint32, uint32) {
		lo := base + r.Uint32N(1<<windowBits)
		hi := lo + r.Uint32N(1<<(windowBits/2+1))
		hi = min(hi, base+(1<<windowBits-1))
		return lo, hi
	}
	ref := refSet{members: map[netip.Addr]bool{}, blocked: map[netip.Addr]bool{}}
	var allow, block []blocklist.Range
	for range 1 + r.IntN(maxRanges) {
		lo, hi := span()
		allow = append(allow, blocklist.Range{First: addrOf(lo), Last: addrOf(hi)})
		for v := uint64(lo); v <= uint64(hi); v++ {
			ref.members[addrOf(uint32(v))] = true
		}
	}
	for range r.IntN(maxRanges + 1) {
		lo, hi := span()
		block = append(block, blocklist.Range{First: addrOf(lo), Last: addrOf(hi)})
		for v := uint64(lo); v <= uint64(hi); v++ {
			ref.blocked[addrOf(uint32(v))] = true
			delete(ref.members, addrOf(uint32(v)))
		}
	}
	ref.allowed = blocklist.NewSet(allow...).Subtract(blocklist.NewSet(block...))
	return ref
}

// drain returns every target an Iterator yields.
func drain(it *Iterator) []tgt {
	var out []tgt
	for {
		a, p, ok := it.Next()
		if !ok {
			return out
		}
		out = append(out, tgt{a, p})
	}
}

// walkAll returns the targets of every (shard, thread) of cfg's layout, in
// subshard order.
func walkAll(t *testing.T, cfg Config) [][]tgt {
	t.Helper()
	shards := max(cfg.Shards, 1)
	var subs [][]tgt
	for s := range shards {
		c := cfg
		c.Shards, c.Shard = shards, s
		p, err := New(&c)
		if err != nil {
			t.Fatalf("New(shard %d): %v", s, err)
		}
		for th := range p.Threads() {
			subs = append(subs, drain(p.Iterator(th)))
		}
	}
	return subs
}

// checkExactCover fails unless the union of subs is exactly want × ports,
// each target once, and no blocked address appears.
func checkExactCover(t *testing.T, ref refSet, ports []uint16, subs [][]tgt) {
	t.Helper()
	seen := map[tgt]int{}
	for _, sub := range subs {
		for _, x := range sub {
			if ref.blocked[x.Addr] {
				t.Fatalf("blocked address %v was emitted", x.Addr)
			}
			if !ref.members[x.Addr] {
				t.Fatalf("address %v is not in the allowed set", x.Addr)
			}
			seen[x]++
			if seen[x] > 1 {
				t.Fatalf("target %v emitted twice", x)
			}
		}
	}
	if len(ports) == 0 {
		ports = []uint16{DefaultPort}
	}
	for a := range ref.members {
		for _, p := range ports {
			if seen[tgt{a, p}] != 1 {
				t.Fatalf("target %v never emitted", tgt{a, p})
			}
		}
	}
	if got, want := len(seen), len(ref.members)*len(ports); got != want {
		t.Fatalf("emitted %d distinct targets, want %d", got, want)
	}
}

func TestExactCoverRandomSets(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20, 21))
	layouts := []struct {
		name            string
		shards, threads int
	}{
		{"one subshard", 1, 1},
		{"threads only", 1, 3},
		{"shards only", 4, 1},
		{"shards and threads", 3, 2},
		{"more subshards than targets", 7, 5},
	}
	portSets := [][]uint16{nil, {445}, {445, 139}, {80, 443, 445, 8080, 139}}
	for _, lay := range layouts {
		for pi, ports := range portSets {
			t.Run(fmt.Sprintf("%s/ports%d", lay.name, pi), func(t *testing.T) {
				for range 15 {
					ref := randomRefSet(r, 6, 10)
					if len(ref.members) == 0 {
						continue
					}
					cfg := Config{Allowed: ref.allowed, Ports: ports, Seed: r.Uint64(), Shards: lay.shards, Threads: lay.threads}
					checkExactCover(t, ref, ports, walkAll(t, cfg))
				}
			})
		}
	}
}

// TestExactCoverSmallPrimes walks every target count from 1 to 300 (so
// every small prime modulus, including p = 2 and p = 3) under several
// layouts.
func TestExactCoverSmallPrimes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(22, 23))
	for n := 1; n <= 300; n++ {
		base := r.Uint32N(1 << 30)
		ref := refSet{members: map[netip.Addr]bool{}, blocked: map[netip.Addr]bool{}}
		for v := range uint32(n) {
			ref.members[addrOf(base+v)] = true
		}
		ref.allowed = blocklist.NewSet(blocklist.Range{First: addrOf(base), Last: addrOf(base + uint32(n) - 1)})
		shards, threads := 1+r.IntN(4), 1+r.IntN(4)
		cfg := Config{Allowed: ref.allowed, Seed: r.Uint64(), Shards: shards, Threads: threads}
		checkExactCover(t, ref, nil, walkAll(t, cfg))
	}
}

func TestWalkParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		allowed   *blocklist.Set
		ports     []uint16
		wantPrime uint64
	}{
		{"one address", blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.1/32")), nil, 2},
		{"two addresses", blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/31")), nil, 3},
		{"all of IPv4, one port: ZMap's 2^32+15", blocklist.All(), nil, 1<<32 + 15},
		{"all of IPv4 less reserved", blocklist.All().Subtract(blocklist.Reserved()), nil, nextPrime(blocklist.All().Subtract(blocklist.Reserved()).Count())},
		{"all of IPv4, 65536 ports", blocklist.All(), allPorts(), nextPrime(1 << 48)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(20) {
				p, err := New(&Config{Allowed: tt.allowed, Ports: tt.ports, Seed: seed})
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if p.Prime() != tt.wantPrime {
					t.Fatalf("Prime() = %d, want %d", p.Prime(), tt.wantPrime)
				}
				if p.Prime() > 2 && !isPrimitiveRoot(p.Generator(), p.Prime(), primeFactors(p.Prime()-1)) {
					t.Fatalf("generator %d is not a primitive root mod %d", p.Generator(), p.Prime())
				}
				if p.offset >= max(p.Prime()-1, 1) {
					t.Fatalf("offset %d not below the group order %d", p.offset, p.Prime()-1)
				}
			}
		})
	}
}

func allPorts() []uint16 {
	ps := make([]uint16, 1<<16)
	for i := range ps {
		ps[i] = uint16(i)
	}
	return ps
}

func TestSeedDeterminesOrder(t *testing.T) {
	t.Parallel()
	allowed := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/20"))
	order := func(seed uint64) []tgt {
		p, err := New(&Config{Allowed: allowed, Ports: []uint16{445, 139}, Seed: seed, Threads: 2})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return append(drain(p.Iterator(0)), drain(p.Iterator(1))...)
	}
	orders := map[uint64][]tgt{}
	for seed := range uint64(30) {
		a, b := order(seed), order(seed)
		if !slices.Equal(a, b) {
			diff := cmp.Diff(a, b, addrComparer)
			t.Fatalf("seed %d: two walks differ (-first +second):\n%s", seed, diff)
		}
		orders[seed] = a
	}
	for s1 := range uint64(30) {
		for s2 := s1 + 1; s2 < 30; s2++ {
			if slices.Equal(orders[s1], orders[s2]) {
				t.Fatalf("seeds %d and %d give the same order", s1, s2)
			}
		}
	}
	// A fixed seed gives a fixed order across builds: a change here breaks
	// every sharded scan and checkpoint that mixes builds.
	if got := order(42)[:3]; !slices.Equal(got, goldenSeed42) {
		t.Errorf("seed 42 starts with %v, want %v (the seed→order mapping changed)", got, goldenSeed42)
	}
}

// goldenSeed42 is the start of TestSeedDeterminesOrder's walk for seed 42.
var goldenSeed42 = []tgt{
	{netip.MustParseAddr("198.18.9.86"), 139},
	{netip.MustParseAddr("198.18.12.155"), 139},
	{netip.MustParseAddr("198.18.1.203"), 445},
}

func TestMaxTargetsSplit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(24, 25))
	for range 200 {
		ref := randomRefSet(r, 5, 9)
		if len(ref.members) == 0 {
			continue
		}
		shards, threads := 1+r.IntN(4), 1+r.IntN(4)
		s := uint64(shards * threads)
		maxT := r.Uint64N(uint64(len(ref.members))*2 + 3)
		cfg := Config{Allowed: ref.allowed, Seed: r.Uint64(), Shards: shards, Threads: threads}
		full := walkAll(t, cfg)
		cfg.MaxTargets = maxT
		capped := walkAll(t, cfg)
		for k := range full {
			quota := uint64(math.MaxUint64)
			if maxT != 0 {
				quota = maxT / s
				if uint64(k) < maxT%s {
					quota++
				}
			}
			want := full[k][:min(uint64(len(full[k])), quota)]
			if diff := cmp.Diff(want, capped[k], addrComparer, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("MaxTargets %d, subshard %d of %d: not the first %d of the uncapped walk (-want +got):\n%s", maxT, k, s, quota, diff)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	some := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/24"))
	tests := []struct {
		name string
		cfg  *Config
		want error
	}{
		{"nil config", nil, ErrConfig},
		{"nil set", &Config{}, ErrConfig},
		{"empty set", &Config{Allowed: blocklist.NewSet()}, ErrEmpty},
		{"shard out of range", &Config{Allowed: some, Shards: 2, Shard: 2}, ErrConfig},
		{"negative shard", &Config{Allowed: some, Shard: -1}, ErrConfig},
		{"too many shards", &Config{Allowed: some, Shards: MaxShards + 1}, ErrConfig},
		{"too many threads", &Config{Allowed: some, Threads: MaxThreads + 1}, ErrConfig},
		{"duplicate port", &Config{Allowed: some, Ports: []uint16{445, 139, 445}}, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	allowed := blocklist.All().Subtract(blocklist.Reserved())
	p, err := New(&Config{Allowed: allowed, Ports: []uint16{445, 139}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	it := p.Iterator(0)
	if n := testing.AllocsPerRun(10000, func() { it.Next() }); n != 0 {
		t.Fatalf("Next allocates %v times per call, want 0", n)
	}
}

// TestFillMatchesNext checks that Fill, in batches of any size and mixed
// with Next, yields exactly Next's sequence.
func TestFillMatchesNext(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(26, 27))
	for i := range 60 {
		ref := randomRefSet(r, 6, 12)
		if len(ref.members) == 0 {
			continue
		}
		cfg := Config{
			Allowed:    ref.allowed,
			Ports:      [][]uint16{{445}, {445, 139, 80}}[i%2],
			Seed:       r.Uint64(),
			Threads:    1 + r.IntN(3),
			MaxTargets: []uint64{0, r.Uint64N(uint64(len(ref.members)) + 1)}[i%2],
		}
		p, err := New(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		for th := range p.Threads() {
			want := drain(p.Iterator(th))
			var got []tgt
			it := p.Iterator(th)
			buf := make([]netip.AddrPort, 1+r.IntN(3*fillChunk))
			for {
				if r.IntN(4) == 0 {
					a, port, ok := it.Next()
					if !ok {
						break
					}
					got = append(got, tgt{a, port})
					continue
				}
				k := it.Fill(buf[:1+r.IntN(len(buf))])
				if k == 0 {
					break
				}
				for _, ap := range buf[:k] {
					got = append(got, tgt{ap.Addr(), ap.Port()})
				}
			}
			if !slices.Equal(want, got) {
				t.Fatalf("case %d thread %d: Fill/Next mix differs from Next (-want +got):\n%s", i, th, cmp.Diff(want, got, addrComparer))
			}
			if k := it.Fill(buf); k != 0 {
				t.Fatalf("Fill after the end returned %d targets", k)
			}
		}
	}
}

func TestFillDoesNotAllocate(t *testing.T) {
	allowed := blocklist.All().Subtract(blocklist.Reserved())
	p, err := New(&Config{Allowed: allowed, Ports: []uint16{445, 139}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	it := p.Iterator(0)
	buf := make([]netip.AddrPort, 64)
	if n := testing.AllocsPerRun(1000, func() { it.Fill(buf) }); n != 0 {
		t.Fatalf("Fill allocates %v times per call, want 0", n)
	}
}
