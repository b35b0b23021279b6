package rawscan

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// gatedOptOut is the opt-out filter smbsweep's scan and run pass as
// Config.OptOut (cmd/smbsweep's optOutFilter): the permutation's base set
// already excludes the opt-out files, so until a reload (generation 0) the
// check is one atomic load, and a set lookup after.
type gatedOptOut struct{ w *blocklist.Watcher }

func (f gatedOptOut) Contains(a netip.Addr) bool {
	return f.w.Generation() != 0 && f.w.Contains(a)
}

func (f gatedOptOut) Gate() *blocklist.Watcher { return f.w }

// BenchmarkScheduleDraw measures target generation on the sender's real
// path: schedule.next over the permutation of the internet-wide base set
// (all of IPv4 less the reserved set and the 10,000-line opt-out list),
// with the opt-out filter scan uses, one probe per target: what a sender
// does per target before it computes the cookie and stamps the frame.
// draw=batch is the schedule drawing through FillAddrs, draw=next one
// target at a time. targets/cpu-s counts CPU time only, the per-core
// figure on a loaded machine.
func BenchmarkScheduleDraw(b *testing.B) {
	const optOutFile = "../blocklist/testdata/optout-10k.conf"
	optout, err := blocklist.ParseFile(optOutFile)
	if err != nil {
		b.Fatal(err)
	}
	w, err := blocklist.NewWatcher(&blocklist.WatcherConfig{Files: []string{optOutFile}})
	if err != nil {
		b.Fatal(err)
	}
	p, err := target.New(&target.Config{
		Allowed: blocklist.All().Subtract(blocklist.Reserved()).Subtract(optout),
		Seed:    1,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		probes int
		wrap   func(*target.Iterator) Targets
	}{
		{"draw=batch", 1, func(it *target.Iterator) Targets { return it }},
		{"draw=next", 1, func(it *target.Iterator) Targets { return nextOnly{it} }},
		{"draw=batch,probes=2", 2, func(it *target.Iterator) Targets { return it }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			it := p.Iterator(0)
			s := newSchedule(bc.wrap(it), gatedOptOut{w}, ^uint64(0), bc.probes, 1<<16)
			var sink uint32
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for range b.N {
				pr, ok, _ := s.next()
				if !ok {
					b.Fatal("permutation exhausted")
				}
				sink += uint32(pr.port)
			}
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			_ = sink
			// With retries a step emits a new target's probe and an earlier
			// one's: count targets, not probes.
			b.ReportMetric(float64(it.Emitted())/b.Elapsed().Seconds(), "targets/s")
			b.ReportMetric(float64(it.Emitted())/cpu.Seconds(), "targets/cpu-s")
		})
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
