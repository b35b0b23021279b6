package transmit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
	"github.com/smbsweep/smbsweep/bench/internal/proc"
)

// labPrefix names the section's lab.
const labPrefix = "bench-transmit-"

// sinkIP is ZMap's source address on sink1 (TEST-NET-1, RFC 5737), a /32
// inside the lab namespace that adds no route; sinkSrcMAC and sinkDstMAC
// are locally administered MACs for the frames.
const (
	sinkIP     = "192.0.2.66"
	sinkSrcMAC = "02:00:00:aa:00:01"
	sinkDstMAC = "02:00:00:aa:00:fe"
)

// stopGrace is how long a tool has to exit after SIGINT before SIGKILL.
const stopGrace = 300 * time.Millisecond

// Run measures the section. It needs root; the lab is removed on return.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	p := paramsFor(env)
	var notes []string
	b := bins{smbsweep: env.Bin, empty: filepath.Join(env.Out, "empty.conf")}
	if err := os.WriteFile(b.empty, nil, 0o644); err != nil {
		return nil, fmt.Errorf("transmit: %w", err)
	}
	ceiling := filepath.Join(env.Out, "ceiling")
	src := filepath.Join(env.Root, "bench", "ceiling", "ceiling.c")
	if out, err := exec.CommandContext(ctx, "gcc", "-O2", "-Wall", "-pthread", "-o", ceiling, src).CombinedOutput(); err != nil {
		notes = append(notes, fmt.Sprintf("**Bare C ceiling missing**: `gcc -O2 -Wall -pthread %s` failed: %v %s", src, err, bytes.TrimSpace(out)))
	} else {
		b.ceiling = ceiling
	}
	for _, t := range []struct {
		name string
		ok   *bool
	}{{"zmap", &b.zmap}, {"masscan", &b.masscan}} {
		if _, err := exec.LookPath(t.name); err != nil {
			notes = append(notes, fmt.Sprintf("**%s missing** (not on PATH): its rows are absent.", t.name))
			continue
		}
		*t.ok = true
	}

	l, err := benchlab.Up(ctx, env.Bin, labPrefix, "--sink", "--open", "0", "--closed", "0")
	if err != nil {
		return nil, fmt.Errorf("transmit: %w", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			env.Logf("transmit: %v", err)
		}
	}()
	// ZMap needs an address on its interface (SIOCGIFADDR).
	if err := l.Exec(ctx, "ip", "addr", "add", sinkIP+"/32", "dev", "sink1"); err != nil {
		return nil, fmt.Errorf("transmit: %w", err)
	}
	ss := senders(p, link{ifname: "sink1", srcIP: sinkIP, srcMAC: sinkSrcMAC, dstMAC: sinkDstMAC}, b)
	log, err := os.Create(filepath.Join(env.Out, "runs.tsv"))
	if err != nil {
		return nil, fmt.Errorf("transmit: %w", err)
	}
	defer log.Close()
	fmt.Fprintln(log, "repeat\ttool\tthreads\trate\tpps\tcpu_us_per_pkt\tpeak_rss_kib\terror")

	runs := make([][]sample, len(ss))
	for rep := range p.repeats {
		for i, s := range ss {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("transmit: %w", err)
			}
			r, err := measure(ctx, l, s, p)
			msg := ""
			if err != nil {
				msg = err.Error()
				env.Logf("transmit: %s T%d %s: %v", s.tool, s.threads, rateName(s.rate), err)
			}
			fmt.Fprintf(log, "%d\t%s\t%d\t%s\t%.0f\t%.3f\t%.0f\t%s\n", rep+1, s.tool, s.threads, rateName(s.rate), r.pps, r.cpuUs, r.rssKiB, msg)
			runs[i] = append(runs[i], r)
		}
		env.Logf("transmit: repeat %d/%d of %d configurations done, load %s", rep+1, p.repeats, len(ss), proc.LoadAvg())
	}
	disp := strings.NewReplacer(env.Bin, "smbsweep", ceiling, "ceiling", b.empty, "EMPTY")
	return render(p, summarize(ss, runs), notes, disp), nil
}

// measure runs one sender in the lab and samples it over the window.
func measure(ctx context.Context, l *benchlab.Lab, s sender, p params) (sample, error) {
	cmd := l.Command(ctx, s.argv[0], s.argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return failed, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := cmd.Process.Pid
	exited := func(err error) (sample, error) {
		return failed, fmt.Errorf("exited before the window ended: %v: %s", err, benchlab.LastLine(stderr.String()))
	}
	select {
	case err := <-done:
		return exited(err)
	case <-time.After(p.warmup):
	}
	p0, err1 := l.Counter(ctx, "sink1", "tx_packets")
	c0, err2 := proc.CPU(pid)
	t0 := time.Now()
	var early error
	select {
	case err := <-done:
		early = err
	case <-time.After(p.window):
	}
	p1, err3 := l.Counter(ctx, "sink1", "tx_packets")
	t1 := time.Now()
	c1, err4 := proc.CPU(pid)
	rss, err5 := proc.PeakRSS(pid)
	if early == nil {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(stopGrace):
			_ = cmd.Process.Kill()
			<-done
		}
	} else {
		return exited(early)
	}
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return failed, err
	}
	n := float64(p1 - p0)
	r := sample{pps: n / t1.Sub(t0).Seconds(), cpuUs: float64((c1 - c0).Microseconds()) / n, rssKiB: float64(rss)}
	if n == 0 {
		return failed, fmt.Errorf("no packets on sink1 in the window: %s", benchlab.LastLine(stderr.String()))
	}
	return r, nil
}
