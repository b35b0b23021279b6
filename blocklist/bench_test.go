package blocklist

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// benchSets are the sets the per-target benchmarks run on: the reserved
// list alone and united with the generated 10,000-line opt-out file, as a
// scan with one large -b file would have.
func benchSets(b *testing.B) []struct {
	name string
	set  *Set
} {
	b.Helper()
	optout, err := ParseFile(optout10kPath)
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		set  *Set
	}{
		{"reserved", Reserved()},
		{"reserved+10k", Reserved().Union(optout)},
	}
}

// randomAddrs returns n seeded random IPv4 addresses (n a power of two).
func randomAddrs(n int) []netip.Addr {
	rng := rand.New(rand.NewPCG(7, 7))
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = addr(rng.Uint32())
	}
	return out
}

func BenchmarkContains(b *testing.B) {
	addrs := randomAddrs(1 << 12)
	for _, bs := range benchSets(b) {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.set
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				if s.Contains(addrs[i&(len(addrs)-1)]) {
					n++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
			b.ReportMetric(float64(s.Len()), "ranges")
		})
	}
}

func BenchmarkAt(b *testing.B) {
	for _, bs := range benchSets(b) {
		// Complement: the allowed set a scan iterates.
		allowed := All().Subtract(bs.set)
		b.Run(bs.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(8, 8))
			idx := make([]uint64, 1<<12)
			for i := range idx {
				idx[i] = rng.Uint64N(allowed.Count())
			}
			b.ReportAllocs()
			var sink netip.Addr
			for i := 0; b.Loop(); i++ {
				sink = allowed.At(idx[i&(len(idx)-1)])
			}
			_ = sink
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
			b.ReportMetric(float64(allowed.Len()), "ranges")
		})
	}
}

func BenchmarkWatcherContains(b *testing.B) {
	path := filepath.Join(b.TempDir(), "optout.conf")
	data, err := os.ReadFile(optout10kPath)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	w, err := NewWatcher(&WatcherConfig{Files: []string{path}})
	if err != nil {
		b.Fatal(err)
	}
	addrs := randomAddrs(1 << 12)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if w.Contains(addrs[i&(len(addrs)-1)]) {
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
}

func BenchmarkParse10k(b *testing.B) {
	data, err := os.ReadFile(optout10kPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), "optout-10k.conf"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(10000*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlines/s")
}

// BenchmarkSubtract measures building the allowed base set at scan start:
// All − (Reserved ∪ 10k opt-outs), including its lookup tables.
func BenchmarkSubtract(b *testing.B) {
	block := benchSets(b)[1].set
	b.ReportAllocs()
	for b.Loop() {
		All().Subtract(block)
	}
}

// BenchmarkLoopOverhead is the floor under BenchmarkContains: the same
// loop, loading, unmapping and converting each address, with no lookup.
// On a shared machine it shows how much of a few-ns figure is the machine.
func BenchmarkLoopOverhead(b *testing.B) {
	addrs := randomAddrs(1 << 12)
	var sum uint32
	for i := 0; b.Loop(); i++ {
		sum += u32(addrs[i&(len(addrs)-1)].Unmap())
	}
	_ = sum
}
