package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// runProbe is the 'probe' subcommand: flags → smbprobe.Config, targets from
// the arguments or stdin → smbprobe.Prober.Run, one JSON line per host.
func runProbe(args []string, stdout, stderr io.Writer) int {
	return probeMain(args, os.Stdin, stdout, stderr)
}

func probeMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: smbsweep probe [flags] [HOST[:PORT]...]

Probes each host for SMB facts and writes one JSON line per host (schema:
smbprobe/SCHEMA.md). Without arguments, hosts are read from stdin, one per
line: HOST, HOST:PORT, [IPv6]:PORT, or a 'smbsweep scan' JSON line with
"ip" and "port" (lines whose "status" is not "success" are skipped). Port
139 is probed over NetBIOS.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		port        = fs.Uint("port", 445, "port for hosts given without one")
		workers     = fs.Int("workers", 256, "concurrent probes")
		perSubnet   = fs.Int("subnet-probes", smbprobe.DefaultSubnetProbes, "concurrent probes of one /24 (IPv6: /64), so that one server answering a whole subnet (AnyIP, NAT, SYN proxy) is not sent more connections than it accepts; its other hosts wait while other subnets' hosts go on (0 or -1: no bound)")
		connect     = fs.Duration("connect-timeout", 3*time.Second, "TCP connect timeout")
		read        = fs.Duration("read-timeout", 5*time.Second, "timeout for each reply")
		host        = fs.Duration("host-timeout", 10*time.Second, "hard deadline for one host")
		silent      = fs.Int("silent-probes", smbprobe.DefaultSilentProbes, silentProbesUsage)
		silentTO    = fs.Duration("silent-timeout", smbprobe.DefaultSilentTimeout, silentTimeoutUsage)
		maxMsg      = fs.Int("max-message", 64<<10, "largest NBSS message accepted, bytes")
		noSMB1      = fs.Bool("no-smb1", false, "skip the SMB1 check (the second connection)")
		shares      = fs.Bool("smb-shares", false, "log on as guest and list share names (off by default: it logs on to someone else's system)")
		verbose     = fs.Bool("v", false, "log failed probe steps to stderr")
		successOnly = fs.Bool("success-only", false, "write only hosts whose status is success")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *port == 0 || *port > 65535 {
		fmt.Fprintf(stderr, "smbsweep probe: bad -port %d\n", *port)
		return exitUsage
	}
	cfg := &smbprobe.Config{
		ConnectTimeout: *connect,
		ReadTimeout:    *read,
		HostTimeout:    *host,
		MaxMessageSize: *maxMsg,
		Workers:        *workers,
		SubnetProbes:   subnetProbes(*perSubnet),
		SilentProbes:   silentProbes(*silent),
		SilentTimeout:  *silentTO,
		SkipSMB1:       *noSMB1,
		Shares:         *shares,
	}
	if *verbose {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	// Parse all arguments before probing anything.
	var fixed []netip.AddrPort
	for _, a := range fs.Args() {
		t, err := parseTarget(a, uint16(*port))
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep probe: %v\n", err)
			return exitUsage
		}
		fixed = append(fixed, t)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	targets := make(chan netip.AddrPort, 4*cfg.Workers)
	readErr := make(chan error, 1)
	go func() {
		defer close(targets)
		if len(fs.Args()) > 0 {
			for _, t := range fixed {
				select {
				case targets <- t:
				case <-ctx.Done():
					readErr <- nil
					return
				}
			}
			readErr <- nil
			return
		}
		readErr <- readTargets(ctx, stdin, uint16(*port), targets, stderr)
	}()

	w := newLineWriter(stdout, outputDelay)
	enc := json.NewEncoder(w)
	err := smbprobe.New(cfg).Run(ctx, targets, func(r *smbprobe.Result) error {
		if *successOnly && r.Status != smbprobe.StatusSuccess {
			return nil
		}
		return enc.Encode(r)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep probe: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// subnetProbes maps the -subnet-probes flag to smbprobe.Config.SubnetProbes:
// the flag's 0 means no bound, as -1 does, where Config's 0 means the
// default.
func subnetProbes(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

// Usage of the silent-subnet flags, shared by probe and run.
const (
	silentProbesUsage  = "judge a /24 (IPv6: /64) silent, a SYN proxy or tarpit, once this many of its hosts connected and then sent nothing for the whole read timeout while none answered; its other hosts then wait only --silent-timeout for a first reply and are flagged silent-subnet (0 or -1: never)"
	silentTimeoutUsage = "first-reply timeout of the hosts of a subnet judged silent (--silent-probes)"
)

// silentProbes maps the -silent-probes flag to smbprobe.Config.SilentProbes,
// as subnetProbes does.
func silentProbes(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

// readTargets feeds targets from r, one per line; bad lines are reported
// and skipped.
func readTargets(ctx context.Context, r io.Reader, port uint16, out chan<- netip.AddrPort, stderr io.Writer) error {
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		t, err := parseTarget(s, port)
		if errors.Is(err, errNotOpen) {
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep probe: stdin line %d: %v\n", line, err)
			continue
		}
		select {
		case out <- t:
		case <-ctx.Done():
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	return nil
}

// errNotOpen marks a scan result line whose port is not open; such lines
// are skipped silently.
var errNotOpen = errors.New("port not open")

// parseTarget accepts HOST, HOST:PORT, [IPv6]:PORT, or a JSON object with
// "ip" and optionally "port" and "status" (a 'smbsweep scan' result line;
// lines whose status is not "success" give errNotOpen).
func parseTarget(s string, port uint16) (netip.AddrPort, error) {
	if strings.HasPrefix(s, "{") {
		var v struct {
			IP     string          `json:"ip"`
			Port   json.RawMessage `json:"port"`
			Status *string         `json:"status"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad JSON target: %v", err)
		}
		a, err := netip.ParseAddr(v.IP)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad JSON target ip: %v", err)
		}
		if v.Status != nil && *v.Status != "success" {
			// A scan line for a closed ("connection-refused") or
			// unreachable port: nothing listens there.
			return netip.AddrPort{}, errNotOpen
		}
		p := port
		if len(v.Port) > 0 {
			n, err := strconv.ParseUint(strings.Trim(string(v.Port), `"`), 10, 16)
			if err != nil || n == 0 {
				return netip.AddrPort{}, fmt.Errorf("bad JSON target port %s", v.Port)
			}
			p = uint16(n)
		}
		return netip.AddrPortFrom(a.Unmap(), p), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad target %q: want an IP address, IP:PORT or [IPv6]:PORT", s)
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("bad target %q: port 0", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// outputDelay is how long a result line may wait in probe's output buffer:
// short enough for a person watching, long enough that a fast run writes
// thousands of lines per write(2) instead of one (a write per host cost
// about a tenth of the probe's CPU, bench/results/probe-cpu.md).
const outputDelay = 100 * time.Millisecond

// lineWriterSize is the size at which a lineWriter writes its buffer out
// at once.
const lineWriterSize = 64 << 10

// A lineWriter buffers whole lines for w: each Write must end a line (as
// json.Encoder.Encode's single Write does), and lines reach w whole, at
// most delay after they were written, or once lineWriterSize bytes wait,
// or at Close. A lineWriter is safe for concurrent use; w is called by one
// goroutine at a time.
type lineWriter struct {
	w     io.Writer
	delay time.Duration

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // flushes buf delay after its first line; nil until then
	armed bool        // timer is set for the lines in buf
	err   error       // the first error of w, returned from then on
}

func newLineWriter(w io.Writer, delay time.Duration) *lineWriter {
	return &lineWriter{w: w, delay: delay, buf: make([]byte, 0, lineWriterSize)}
}

// Write buffers p, one or more whole lines, after writing out the lines
// already buffered if p would not fit beside them.
func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.err != nil {
		return 0, lw.err
	}
	if len(lw.buf) > 0 && len(lw.buf)+len(p) > lineWriterSize {
		if err := lw.flushLocked(); err != nil {
			return 0, err
		}
	}
	lw.buf = append(lw.buf, p...)
	if len(lw.buf) >= lineWriterSize {
		if err := lw.flushLocked(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if !lw.armed {
		lw.armed = true
		if lw.timer == nil {
			lw.timer = time.AfterFunc(lw.delay, lw.flushTimer)
		} else {
			lw.timer.Reset(lw.delay)
		}
	}
	return len(p), nil
}

// flushTimer writes the buffered lines out when their delay has passed;
// an error is kept for the next Write or Close.
func (lw *lineWriter) flushTimer() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.err == nil {
		lw.flushLocked()
	}
}

// flushLocked writes buf to w. lw.mu must be held.
func (lw *lineWriter) flushLocked() error {
	lw.armed = false
	if len(lw.buf) == 0 {
		return nil
	}
	_, err := lw.w.Write(lw.buf)
	lw.buf = lw.buf[:0]
	if err != nil {
		lw.err = fmt.Errorf("writing results: %w", err)
	}
	return lw.err
}

// Close writes out the buffered lines and stops the timer; it returns the
// first error of w. Writes after Close fail.
func (lw *lineWriter) Close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.timer != nil {
		lw.timer.Stop()
	}
	if lw.err != nil {
		return lw.err
	}
	err := lw.flushLocked()
	if err == nil {
		lw.err = errLineWriterClosed
	}
	return err
}

// errLineWriterClosed is the error of a Write after Close.
var errLineWriterClosed = errors.New("smbsweep probe: output closed")
