package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// BenchmarkCountTargets measures 'targets --count' per target on one
// thread: the whole-IPv4 base set with the 10,000-line opt-out list, the
// permutation's Fill and the opt-out filter per target: the generation-gated
// filter 'targets' uses, the Watcher's set lookup, or none. targets/cpu-s
// counts only CPU time, so it holds on a loaded machine.
func BenchmarkCountTargets(b *testing.B) {
	tf := targetFlags{ports: "445", seed: "1", shards: 1, threads: 1, maxTargets: "", blocklists: repeatedFlag{"../../blocklist/testdata/optout-10k.conf"}}
	for _, bc := range []struct {
		name   string
		filter string
	}{{"filter=gated", "gated"}, {"filter=watcher", "watcher"}, {"filter=none", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			tf.maxTargets = ""
			plan, err := tf.build([]string{"0.0.0.0/0"})
			if err != nil {
				b.Fatal(err)
			}
			plan.Config.MaxTargets = uint64(b.N)
			perm, err := target.New(&plan.Config)
			if err != nil {
				b.Fatal(err)
			}
			var optOut rawscan.OptOut
			switch bc.filter {
			case "gated":
				optOut = plan.Filter() // what 'targets', 'scan' and 'run' use
			case "watcher":
				optOut = plan.OptOut // a set lookup per target
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := benchCPU(b)
			st := countTargets(perm, optOut)
			cpu := benchCPU(b) - cpu0
			b.StopTimer()
			if st.visited != uint64(b.N) {
				b.Fatalf("visited %d targets, want %d", st.visited, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "targets/s")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "targets/cpu-s")
		})
	}
}

// benchCPU returns the user+system CPU time of the process.
func benchCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
