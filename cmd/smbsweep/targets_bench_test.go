package main

import (
	"net/netip"
	"testing"

	"github.com/smbsweep/smbsweep/rawscan/target"
)

// BenchmarkCountTargets measures 'targets --count' per target on one
// thread: the whole-IPv4 base set with the 10,000-line opt-out list, the
// permutation's Fill and the opt-out Watcher's Contains per target.
func BenchmarkCountTargets(b *testing.B) {
	tf := targetFlags{ports: "445", seed: "1", shards: 1, threads: 1, maxTargets: "", blocklists: repeatedFlag{"../../blocklist/testdata/optout-10k.conf"}}
	for _, bc := range []struct {
		name   string
		filter bool
	}{{"filter=watcher", true}, {"filter=none", false}} {
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
			var optOut func(netip.Addr) bool
			if bc.filter {
				optOut = plan.OptOut.Contains
			}
			b.ReportAllocs()
			b.ResetTimer()
			st := countTargets(perm, optOut)
			b.StopTimer()
			if st.visited != uint64(b.N) {
				b.Fatalf("visited %d targets, want %d", st.visited, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "targets/s")
		})
	}
}
