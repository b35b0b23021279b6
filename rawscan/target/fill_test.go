package target

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/blocklist"
)

// fillCase is a layout to walk both with Next and with FillAddrs.
type fillCase struct {
	name string
	cfg  Config
	// stop[t] is how many targets thread t takes with Next before the
	// State is saved and the walk resumed from it; -1 for no resume.
	stop []int
}

// randomFillCases returns seeded random layouts: small sets (whose primes
// leave many non-target elements in the group), sets of up to a /12 with a
// cap, sets with more ranges than the table numbers, and the whole IPv4
// space; with one or three ports, shards, threads, MaxTargets and resumes.
func randomFillCases(r *rand.Rand) []fillCase {
	var cases []fillCase
	add := func(name string, allowed *blocklist.Set, maxTargets uint64) {
		cfg := Config{
			Allowed:    allowed,
			Ports:      [][]uint16{{445}, {445}, {445, 139, 80}}[len(cases)%3],
			Seed:       r.Uint64(),
			Shards:     1 + r.IntN(3),
			Threads:    1 + r.IntN(3),
			MaxTargets: maxTargets,
		}
		cfg.Shard = r.IntN(cfg.Shards)
		stop := make([]int, cfg.Threads)
		for t := range stop {
			stop[t] = -1
			if r.IntN(2) == 0 {
				stop[t] = r.IntN(64)
			}
		}
		cases = append(cases, fillCase{fmt.Sprintf("%d %s", len(cases), name), cfg, stop})
	}
	for range 60 {
		ref := randomRefSet(r, 8, 12)
		if len(ref.members) == 0 {
			continue
		}
		add(fmt.Sprintf("%d addresses in %d ranges", len(ref.members), ref.allowed.Len()), ref.allowed,
			[]uint64{0, r.Uint64N(uint64(len(ref.members)) + 1)}[r.IntN(2)])
	}
	for range 12 {
		// Up to a /12 with many holes: tables with thousands of buckets,
		// many of them straddling ranges.
		base := r.Uint32() &^ (1<<20 - 1)
		var allow, block []blocklist.Range
		for range 1 + r.IntN(200) {
			lo := base + r.Uint32N(1<<20)
			allow = append(allow, blocklist.Range{First: addrOf(lo), Last: addrOf(lo + min(r.Uint32N(1<<14), ^lo))})
			lo = base + r.Uint32N(1<<20)
			block = append(block, blocklist.Range{First: addrOf(lo), Last: addrOf(lo + min(r.Uint32N(1<<8), ^lo))})
		}
		set := blocklist.NewSet(allow...).Subtract(blocklist.NewSet(block...))
		add(fmt.Sprintf("%d ranges", set.Len()), set, 1+r.Uint64N(30000))
	}
	var sparse []blocklist.Range // more ranges than the table numbers
	for i := range uint32(maxTableRanges + 5000) {
		a := addrOf(0x0b000000 + 3*i)
		sparse = append(sparse, blocklist.Range{First: a, Last: addrOf(0x0b000000 + 3*i + r.Uint32N(2))})
	}
	add("70,536 ranges", blocklist.NewSet(sparse...), 20000)
	add("all of IPv4", blocklist.All(), 20000)
	add("IPv4 less reserved", blocklist.All().Subtract(blocklist.Reserved()), 20000)
	add("top address", blocklist.FromPrefixes(netip.MustParsePrefix("255.255.255.0/24")), 0)
	return cases
}

// TestFillAddrsMatchesNext checks that FillAddrs, in batches of any size
// and mixed with Next and Fill, yields exactly Next's sequence and leaves
// the Iterator at the same position, over seeded random layouts, shards,
// threads, caps and resumed states.
func TestFillAddrsMatchesNext(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(70, 71))
	for _, tc := range randomFillCases(r) {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Resume where stop says, from a State written by Next.
			its := make([]*Iterator, p.Threads())
			for th := range its {
				its[th] = p.Iterator(th)
				for range max(tc.stop[th], 0) {
					its[th].Next()
				}
			}
			st, err := p.State(its)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Resume(&tc.cfg, st)
			if err != nil {
				t.Fatal(err)
			}
			for th := range q.Threads() {
				ref := q.Iterator(th)
				want := drain(ref)
				it := q.Iterator(th)
				var got []tgt
				addrs := make([]uint32, 1+r.IntN(3*fillChunk))
				ports := make([]uint16, len(addrs)+r.IntN(3)-1)
				aps := make([]netip.AddrPort, len(addrs))
				for {
					switch r.IntN(8) {
					case 0:
						a, port, ok := it.Next()
						if ok {
							got = append(got, tgt{a, port})
						}
						continue
					case 1:
						k := it.Fill(aps[:1+r.IntN(len(aps))])
						for _, ap := range aps[:k] {
							got = append(got, tgt{ap.Addr(), ap.Port()})
						}
						continue
					}
					want := 1 + r.IntN(len(addrs))
					k := it.FillAddrs(addrs[:want], ports)
					for j := range k {
						got = append(got, tgt{addrOf(addrs[j]), ports[j]})
					}
					if k < min(want, len(ports)) {
						break
					}
				}
				if !slices.Equal(want, got) {
					t.Fatalf("thread %d: FillAddrs/Fill/Next mix differs from Next (-want +got):\n%s", th, cmp.Diff(want, got, addrComparer))
				}
				if it.Position() != ref.Position() || it.Emitted() != ref.Emitted() {
					t.Fatalf("thread %d: FillAddrs ended at position %d, emitted %d; Next at %d, %d", th, it.Position(), it.Emitted(), ref.Position(), ref.Emitted())
				}
				if k := it.FillAddrs(addrs, ports); k != 0 {
					t.Fatalf("thread %d: FillAddrs after the end returned %d targets", th, k)
				}
			}
		})
	}
}

func TestFillAddrsDoesNotAllocate(t *testing.T) {
	allowed := blocklist.All().Subtract(blocklist.Reserved())
	for _, ports := range [][]uint16{{445}, {445, 139}} {
		p, err := New(&Config{Allowed: allowed, Ports: ports, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		it := p.Iterator(0)
		addrs, pbuf := make([]uint32, 256), make([]uint16, 256)
		if n := testing.AllocsPerRun(1000, func() { it.FillAddrs(addrs, pbuf) }); n != 0 {
			t.Fatalf("FillAddrs with %d ports allocates %v times per call, want 0", len(ports), n)
		}
	}
}
