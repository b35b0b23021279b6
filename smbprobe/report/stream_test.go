package report

import (
	"io"
	"runtime"
	"runtime/metrics"
	"testing"
)

// heapSampler tracks the peak of live heap objects as a stream runs,
// reading runtime/metrics (no stop-the-world) every few records.
type heapSampler struct {
	s    []metrics.Sample
	peak uint64
}

func newHeapSampler() *heapSampler {
	return &heapSampler{s: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (h *heapSampler) sample(int) {
	metrics.Read(h.s)
	h.peak = max(h.peak, h.s[0].Value.Uint64())
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// liveGrowth streams n synthetic records into an Aggregator configured by
// cfg and returns the live heap after the first warm records and at the
// end, with the summary.
func liveGrowth(t *testing.T, cfg *Config, n, warm int, hostile bool) (base, end uint64, s *Summary) {
	t.Helper()
	a := New(cfg)
	r := newSynthReader(n, 7)
	r.hostile, r.every = hostile, warm
	r.hook = func(i int) {
		if i == warm {
			base = liveHeap()
		}
	}
	if _, err := a.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	end = liveHeap()
	runtime.KeepAlive(a)
	return base, end, a.Summary()
}

// growthBudget is how much the live heap may grow after the warm-up.
const growthBudget = 4 << 20

// TestStreamBoundedMemory streams records through an io.Reader and checks
// that the live heap after the first records does not grow with the rest:
// realistic records (clustered /16s, one name in four shared) and hostile
// ones (every string unique, so every table overflows and evicts).
func TestStreamBoundedMemory(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 100_000
	}
	const warm = 20_000
	for _, hostile := range []bool{false, true} {
		name := map[bool]string{false: "realistic", true: "hostile"}[hostile]
		t.Run(name, func(t *testing.T) {
			base, end, s := liveGrowth(t, &Config{MaxValues: 1024}, n, warm, hostile)
			if s.Records != uint64(n) || s.Malformed != 0 {
				t.Fatalf("%d records, %d malformed; want %d, 0", s.Records, s.Malformed, n)
			}
			if hostile && !s.Computers.Overflowed {
				t.Fatal("hostile stream did not overflow the tables")
			}
			t.Logf("live heap after %d records %.1f MB, after %d %.1f MB", warm, float64(base)/1e6, n, float64(end)/1e6)
			if end > base+growthBudget {
				t.Errorf("live heap grew from %d to %d bytes over %d records (budget %d)", base, end, n-warm, growthBudget)
			}
		})
	}
}

// TestStreamMemoryCheckCanFail is the negative control of the test above:
// with caps too large to bind, the hostile stream's growth must show.
func TestStreamMemoryCheckCanFail(t *testing.T) {
	const warm, more = 5_000, 30_000
	base, end, _ := liveGrowth(t, &Config{MaxValues: 1 << 30}, warm+more, warm, true)
	t.Logf("uncapped: live heap %.1f MB → %.1f MB", float64(base)/1e6, float64(end)/1e6)
	if end <= base+growthBudget {
		t.Errorf("uncapped tables grew the live heap only from %d to %d bytes: the bounded-memory check could not fail", base, end)
	}
}

// BenchmarkStream aggregates b.N synthetic records read from an io.Reader
// (no file), so ns/op is ns per record (the generator's share is
// BenchmarkSynth); cpu-ns/record is process CPU time per record, steadier
// than wall time on a busy machine. Run 10 M records with
//
//	go test -run '^$' -bench Stream -benchtime 10000000x ./smbprobe/report
//
// peak-heap-MB is the largest heap of allocated objects (live and not yet
// collected garbage) seen while streaming, sampled every 65,536 records;
// live-heap-MB is the heap after a full collection at the end, with the
// Aggregator still reachable. Both being flat from 1 M to 10 M records is
// the bounded-memory claim.
func BenchmarkStream(b *testing.B) {
	for _, bc := range []struct {
		name    string
		hostile bool
	}{{"realistic", false}, {"hostile", true}} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHeapSampler()
			r := newSynthReader(b.N, 1)
			r.hostile, r.every, r.hook = bc.hostile, 1<<16, h.sample
			a := New(nil)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			n, err := a.ReadFrom(r)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if s := a.Summary(); s.Records != uint64(b.N) {
				b.Fatalf("%d records, want %d", s.Records, b.N)
			}
			h.sample(0)
			live := liveHeap() // the Aggregator is still reachable: its size
			runtime.KeepAlive(a)
			b.ReportMetric(float64(live)/1e6, "live-heap-MB")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(n)/1e6/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64(h.peak)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/record")
		})
	}
}

// BenchmarkSynth is the generator alone, to subtract from BenchmarkStream.
func BenchmarkSynth(b *testing.B) {
	r := newSynthReader(b.N, 1)
	b.ReportAllocs()
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/record")
}

// BenchmarkRender renders the page and the text of a 100,000-record
// summary.
func BenchmarkRender(b *testing.B) {
	a := New(nil)
	if _, err := a.ReadFrom(newSynthReader(100_000, 1)); err != nil {
		b.Fatal(err)
	}
	s := a.Summary()
	b.Run("html", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.WriteHTML(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.WriteText(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
