package smbprobe_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

// cpuTime is the process's user+system CPU time (getrusage(2)).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(os.NewSyscallError("getrusage", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProbeReplay probes one host per op over the in-memory replay of
// Samba 4.17 (config nt1: both connections, SMB1 on, 4 round trips). CPU
// per host includes the replayer's goroutines (a few µs).
func BenchmarkProbeReplay(b *testing.B) {
	for _, config := range []string{"nt1", "smb2only"} {
		b.Run(config, func(b *testing.B) {
			srv := replay(b, config, smbprobetest.Replay)
			p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial})
			target := netip.MustParseAddrPort("198.18.0.1:445")
			b.ReportAllocs()
			cpu0, t0 := cpuTime(b), time.Now()
			for b.Loop() {
				if r := p.Probe(context.Background(), target); r.Status != smbprobe.StatusSuccess {
					b.Fatalf("status %s: %s", r.Status, r.Error)
				}
			}
			cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
			b.ReportMetric(float64(b.N)/wall.Seconds(), "hosts/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/host")
		})
	}
}

// BenchmarkRunReplay runs the worker pool (64 workers) over the in-memory
// replay of Samba nt1: the prober's throughput without kernel TCP.
func BenchmarkRunReplay(b *testing.B) {
	srv := replay(b, "nt1", smbprobetest.Replay)
	p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial, Workers: 64})
	b.ReportAllocs()
	target := netip.MustParseAddrPort("198.18.0.1:445")
	targets := make(chan netip.AddrPort, 256)
	go func() {
		defer close(targets)
		for i := 0; i < b.N; i++ {
			targets <- target
		}
	}()
	fails := 0
	cpu0, t0 := cpuTime(b), time.Now()
	err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
		if r.Status != smbprobe.StatusSuccess {
			fails++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(float64(b.N)/wall.Seconds(), "hosts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/host")
	b.ReportMetric(float64(fails)/float64(b.N), "fail-ratio")
}

// BenchmarkRunReplayTCP runs the worker pool over kernel TCP on loopback
// against the replay server listening inside this benchmark (Samba nt1
// replies). The server runs in the same process, so cpu-µs/host counts
// client and server.
func BenchmarkRunReplayTCP(b *testing.B) {
	srv := replay(b, "nt1", smbprobetest.Replay)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { l.Close() })
	target := netip.MustParseAddrPort(l.Addr().String())
	p := smbprobe.New(&smbprobe.Config{Workers: 64, SubnetProbes: -1}) // one loopback target: no per-/24 bound
	b.ReportAllocs()
	cpu0, t0 := cpuTime(b), time.Now()
	targets := make(chan netip.AddrPort, 256)
	go func() {
		defer close(targets)
		for i := 0; i < b.N; i++ {
			targets <- target
		}
	}()
	fails := 0
	err = p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
		if r.Status != smbprobe.StatusSuccess {
			fails++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(float64(b.N)/wall.Seconds(), "hosts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/host")
	b.ReportMetric(float64(fails)/float64(b.N), "fail-ratio")
}

// BenchmarkLabAnyIP probes the lab's 256 AnyIP hosts (one smbd answering a
// whole /24, issue #3) through kernel TCP from the scanner namespace, one
// pass of all 256 per op, over both transports (blocking sessions over the
// lab's dialer, and the reactor, which 'smbsweep probe' uses), with and
// without connection B (SMB1). smbd runs in its own processes, so
// cpu-µs/host is the prober's alone. Needs root; labtest skips otherwise.
func BenchmarkLabAnyIP(b *testing.B) {
	l, hosts := anyIPLab(b)
	for _, tr := range labTransports(l) {
		for _, skip := range []bool{false, true} {
			name := tr.name + "/smb1"
			if skip {
				name = tr.name + "/no-smb1"
			}
			cfg := tr.cfg
			cfg.Workers, cfg.SkipSMB1 = 256, skip
			benchLabAnyIP(b, name, &cfg, hosts)
		}
	}
}

// benchLabAnyIP probes hosts with cfg, all at once, once per op.
func benchLabAnyIP(b *testing.B, name string, cfg *smbprobe.Config, hosts []netip.AddrPort) {
	b.Run(name, func(b *testing.B) {
		p := smbprobe.New(cfg)
		b.ReportAllocs()
		var n, fails int
		cpu0, t0 := cpuTime(b), time.Now()
		for b.Loop() {
			targets := make(chan netip.AddrPort, len(hosts))
			for _, h := range hosts {
				targets <- h
			}
			close(targets)
			err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
				n++
				if r.Status != smbprobe.StatusSuccess || r.SMB.Dialect != "3.1.1" {
					fails++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Second) // let smbd reap its children between passes
		}
		cpu, wall := cpuTime(b)-cpu0, time.Since(t0)-time.Duration(b.N)*time.Second
		b.ReportMetric(float64(n)/wall.Seconds(), "hosts/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/host")
		b.ReportMetric(wall.Seconds()/float64(b.N), "s/256hosts")
		b.ReportMetric(float64(fails)/float64(n), "fail-ratio")
	})
}
