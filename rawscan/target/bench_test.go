package target

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/blocklist"
)

// benchAllowed returns all of IPv4 less the reserved set and the 10,000-line
// opt-out list the blocklist package ships for benchmarks: the base set of
// an internet-wide scan.
func benchAllowed(b *testing.B) *blocklist.Set {
	b.Helper()
	optout, err := blocklist.ParseFile("../../blocklist/testdata/optout-10k.conf")
	if err != nil {
		b.Fatalf("ParseFile: %v", err)
	}
	return blocklist.All().Subtract(blocklist.Reserved()).Subtract(optout)
}

// BenchmarkNext measures targets per second on one core over the whole
// IPv4 base set, for one port and for three.
func BenchmarkNext(b *testing.B) {
	allowed := benchAllowed(b)
	for _, bc := range []struct {
		name  string
		ports []uint16
	}{
		{"port=1", []uint16{445}},
		{"ports=3", []uint16{445, 139, 80}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(&Config{Allowed: allowed, Ports: bc.ports, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			it := p.Iterator(0)
			var sink uint16
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for i := 0; i < b.N; i++ {
				_, port, ok := it.Next()
				if !ok {
					b.Fatal("permutation exhausted")
				}
				sink += port
			}
			b.StopTimer()
			reportRates(b, cpu0)
			_ = sink
		})
	}
}

// reportRates reports targets per wall-clock second and per second of CPU
// time the process used since cpu0. On a shared, loaded machine the second
// is the per-core figure: it does not count time the benchmark spent
// waiting for a CPU.
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.Helper()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "targets/s")
	if cpu := cpuTime(b) - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "targets/cpu-s")
	}
}

// cpuTime returns the user+system CPU time of the process.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFill measures targets per second on one core through the batch
// path a sender uses, in batches of 64 (ZMap's sendmmsg batch).
func BenchmarkFill(b *testing.B) {
	allowed := benchAllowed(b)
	for _, bc := range []struct {
		name  string
		ports []uint16
	}{
		{"port=1", []uint16{445}},
		{"ports=3", []uint16{445, 139, 80}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(&Config{Allowed: allowed, Ports: bc.ports, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			it := p.Iterator(0)
			batch := make([]netip.AddrPort, 64)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for done := 0; done < b.N; {
				k := it.Fill(batch[:min(len(batch), b.N-done)])
				if k == 0 {
					b.Fatal("permutation exhausted")
				}
				done += k
			}
			b.StopTimer()
			reportRates(b, cpu0)
		})
	}
}

// BenchmarkFillAddrs measures targets per second on one core through
// FillAddrs, the sender's fast path, in batches of 64.
func BenchmarkFillAddrs(b *testing.B) {
	allowed := benchAllowed(b)
	for _, bc := range []struct {
		name  string
		ports []uint16
	}{
		{"port=1", []uint16{445}},
		{"ports=3", []uint16{445, 139, 80}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(&Config{Allowed: allowed, Ports: bc.ports, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			it := p.Iterator(0)
			addrs, ports := make([]uint32, 64), make([]uint16, 64)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for done := 0; done < b.N; {
				want := min(len(addrs), b.N-done)
				k := it.FillAddrs(addrs[:want], ports[:want])
				if k == 0 {
					b.Fatal("permutation exhausted")
				}
				done += k
			}
			b.StopTimer()
			reportRates(b, cpu0)
		})
	}
}
