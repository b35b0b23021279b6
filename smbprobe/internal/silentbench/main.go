// Command silentbench measures the prober's memory with N concurrent probes
// of silent hosts: every host accepts and never answers
// (smbprobetest.Blackhole, no sockets), so each probe lives until its read
// timeout. It prints wall time, peak RSS (VmHWM) and the Go heap.
//
//	go run ./smbprobe/internal/silentbench -n 50000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

func main() {
	n := flag.Int("n", 50000, "concurrent probes (= hosts = workers)")
	read := flag.Duration("read-timeout", 5*time.Second, "per-read timeout")
	flag.Parse()
	p := smbprobe.New(&smbprobe.Config{
		Dial:         smbprobetest.Blackhole,
		Workers:      *n,
		SubnetProbes: -1, // every host at once, however many share a /24
		ReadTimeout:  *read,
		HostTimeout:  2 * *read,
	})
	targets := make(chan netip.AddrPort, *n)
	base := netip.MustParseAddr("198.18.0.0")
	a := base
	for i := 0; i < *n; i++ {
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
	fmt.Printf("hosts=%d wall=%v statuses=%v peak_goroutines=%d VmHWM=%s go_sys=%.1fMiB total_alloc_per_probe=%dB\n",
		*n, time.Since(start).Round(time.Millisecond), statuses, peakGoroutines, status("VmHWM"),
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
