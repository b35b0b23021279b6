package pipeline

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// BenchmarkQueuePush is the receiver's cost per hit when the workers keep
// up: one channel send.
func BenchmarkQueuePush(b *testing.B) {
	q := newQueue(1<<16, b.TempDir())
	h := Hit{Target: netip.MustParseAddrPort("198.18.0.1:445")}
	done := make(chan struct{})
	go func() {
		for range q.out {
		}
		close(done)
	}()
	stop := make(chan struct{})
	go q.refill(stop)
	b.ReportAllocs()
	for b.Loop() {
		q.push(h)
	}
	q.close()
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
}

// BenchmarkQueueSpill is the receiver's cost per hit when the workers are
// stalled: an append to the spill buffer and, every 4096 hits, a write.
func BenchmarkQueueSpill(b *testing.B) {
	q := newQueue(1, b.TempDir())
	h := Hit{Target: netip.MustParseAddrPort("198.18.0.1:445")}
	b.ReportAllocs()
	for b.Loop() {
		if err := q.push(h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hits/s")
	b.ReportMetric(float64(q.wOff+int64(len(q.buf)))/float64(b.N), "spill-bytes/hit")
}

// BenchmarkOutputJSON is the writer's cost per record (a Samba success).
func BenchmarkOutputJSON(b *testing.B) {
	o, _ := NewOutput(io.Discard, JSONLines)
	h := Hit{Target: netip.MustParseAddrPort("198.18.0.7:445"), TTL: 64, Window: 64240, MSS: 1460, Time: time.Now().UnixNano()}
	r := recordFrom(&h, &smbprobe.Result{IP: h.Target.Addr(), Port: 445, Status: smbprobe.StatusSuccess, Timestamp: time.Now(),
		SMB: &smbprobe.SMB{Dialect: "3.1.1", Signing: &smbprobe.Signing{Enabled: true}, Capabilities: []string{"dfs", "leasing", "large-mtu"},
			NTLM: &smbprobe.NTLM{TargetName: "LAB", NetBIOSComputer: "NT1", DNSComputer: "nt1.lab", OSVersion: "6.1.0"}}})
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPipeline runs the whole pipeline over the in-memory network (a
// /16, every 97th host open) at unlimited rate, scan-only and with SMB
// probes against the replay server: targets per second end to end.
func BenchmarkPipeline(b *testing.B) {
	for _, tc := range []struct {
		name string
		fr   fakeRun
	}{
		{"scan-only", fakeRun{scanOnly: true, threads: 2}},
		{"probe", fakeRun{threads: 2, workers: 64}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var hosts int
			start := time.Now()
			for i := 0; i < b.N; i++ {
				fr := tc.fr
				_, got := fr.run(b)
				hosts = len(got)
			}
			d := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(65536/d, "targets/s")
			b.ReportMetric(float64(hosts)/d, "hosts/s")
		})
	}
}
