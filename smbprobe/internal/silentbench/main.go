// Command silentbench measures the prober's memory with N concurrent probes
// of silent hosts: every host accepts and never answers, so each probe
// lives until its read timeout. It prints wall time, peak RSS (VmHWM) and
// the Go heap.
//
// Two transports: -transport reactor (the default, what 'smbsweep probe'
// uses on Linux) probes loopback listeners of this process that never
// accept (each holds 4,096 handshaken connections, net.core.somaxconn's
// default, so there are 2N/4096+1 of them); the kernel's socket memory is
// not in the process's RSS. -transport blackhole dials
// smbprobetest.Blackhole: no sockets, blocking sessions (a goroutine per
// connection).
//
//	go run ./smbprobe/internal/silentbench -n 50000
//
// The reactor transport needs 2N+ file descriptors (ulimit -n).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

// backlog is the accept queue of one loopback listener:
// net.core.somaxconn's default since Linux 5.4.
const backlog = 4096

func main() {
	n := flag.Int("n", 50000, "concurrent probes (= hosts = workers)")
	read := flag.Duration("read-timeout", 5*time.Second, "per-read timeout")
	transport := flag.String("transport", "reactor", "reactor (loopback listeners that never answer) or blackhole (in-memory, blocking sessions)")
	flag.Parse()
	cfg := &smbprobe.Config{
		Workers:      *n,
		SubnetProbes: -1, // every host at once, however many share a /24
		ReadTimeout:  *read,
		HostTimeout:  2 * *read,
	}
	var silent []netip.AddrPort // loopback listeners; none: blackhole
	switch *transport {
	case "reactor":
		for range 2**n/backlog + 1 {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				fmt.Fprintln(os.Stderr, "silentbench:", err)
				os.Exit(1)
			}
			defer ln.Close()
			silent = append(silent, ln.Addr().(*net.TCPAddr).AddrPort())
		}
	case "blackhole":
		cfg.Dial = smbprobetest.Blackhole
	default:
		fmt.Fprintf(os.Stderr, "silentbench: unknown -transport %q\n", *transport)
		os.Exit(2)
	}
	p := smbprobe.New(cfg)
	targets := make(chan netip.AddrPort, *n)
	a := netip.MustParseAddr("198.18.0.0")
	for i := 0; i < *n; i++ {
		if silent != nil {
			targets <- silent[i%len(silent)]
			continue
		}
		a = a.Next()
		targets <- netip.AddrPortFrom(a, 445)
	}
	close(targets)
	var peakGoroutines int
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peakGoroutines = max(peakGoroutines, runtime.NumGoroutine())
			}
		}
	}()
	start := time.Now()
	statuses := map[smbprobe.Status]int{}
	err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
		statuses[r.Status]++
		return nil
	})
	close(done)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("transport=%s hosts=%d wall=%v statuses=%v peak_goroutines=%d VmHWM=%s go_sys=%.1fMiB total_alloc_per_probe=%dB\n",
		*transport, *n, time.Since(start).Round(time.Millisecond), statuses, peakGoroutines, status("VmHWM"),
		float64(ms.Sys)/(1<<20), ms.TotalAlloc/uint64(*n))
}

// status returns a field of /proc/self/status (Linux).
func status(key string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
