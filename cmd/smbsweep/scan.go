package main

// scan: flags → rawscan.Config (+ target.Config, blocklist.Watcher), then
// rawscan.Run; everything else lives in those packages.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// scanFlags are the values of 'scan' flags. Names follow ZMap's; the
// target flags (-p, -T, -n, -b, -w, --seed, --shards, --shard,
// --allow-reserved) are the shared targetFlags of flags.go.
type scanFlags struct {
	targets                           targetFlags
	rate                              float64
	bandwidth                         string
	probes                            int
	maxRuntime, cooldown              float64
	iface, sourceIP, sourceMAC, gwMAC string
	sourcePorts                       string
	forcePorts                        bool
	output, format                    string
	quiet, yes, dryRun, all           bool
	tx, rx                            string
	bypass                            bool
	dryFrames                         int

	set map[string]bool // flags given on the command line, by name
}

func newScanFlagSet(f *scanFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("smbsweep scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// A bad flag gets the flag package's one-line reason and a pointer
	// to -h from runScan, not the whole list.
	fs.Usage = func() {}
	str := func(p *string, def, usage string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, usage)
		}
	}
	num := func(p *int, def int, usage string, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, usage)
		}
	}
	flt := func(p *float64, def float64, usage string, names ...string) {
		for _, n := range names {
			fs.Float64Var(p, n, def, usage)
		}
	}
	boolean := func(p *bool, def bool, usage string, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, def, usage)
		}
	}
	f.targets.register(fs, 1)
	flt(&f.rate, 10000, "send rate in packets/s (0 = unlimited)", "r", "rate")
	str(&f.bandwidth, "", "send rate as bandwidth in bits/s, suffix K, M or G (instead of -r)", "B", "bandwidth")
	num(&f.probes, 1, "SYNs per target, sent spaced apart (1-16)", "P", "probes")
	flt(&f.maxRuntime, 0, "stop sending after this many seconds (0 = no limit)", "t", "max-runtime")
	flt(&f.cooldown, 8, "seconds to keep receiving after the last send", "c", "cooldown")
	str(&f.iface, "", "interface (default: that of the default route)", "i", "interface")
	str(&f.sourceIP, "", "source IPv4 address (default: the route's)", "S", "source-ip")
	str(&f.sourceMAC, "", "source MAC (default: the interface's)", "source-mac")
	str(&f.gwMAC, "", "gateway MAC (default: neighbour table, else our own ARP)", "G", "gateway-mac")
	str(&f.sourcePorts, rawscan.DefaultSourcePorts.String(), "source-port range FIRST-LAST (must not overlap ip_local_port_range)", "source-port")
	boolean(&f.forcePorts, false, "accept a source-port range that overlaps the kernel's ephemeral range", "force-source-port")
	str(&f.output, "-", "output file (- = stdout)", "o", "output-file")
	str(&f.format, "json", "output format: json or csv", "O", "output-format")
	boolean(&f.all, false, "output RST and ICMP results too, not only open ports", "all")
	boolean(&f.quiet, false, "no status line", "q", "quiet")
	boolean(&f.yes, false, "skip the 5-second pause after the pre-scan banner", "yes")
	boolean(&f.dryRun, false, "build every frame without opening a socket; print a few and a summary", "d", "dry-run")
	num(&f.dryFrames, 5, "frames shown by --dry-run", "dry-run-frames")
	str(&f.tx, "sendmmsg", "transmit back end: sendmmsg (batches of 128) or ring (PACKET_TX_RING)", "tx")
	str(&f.rx, "recvmmsg", "receive back end: recvmmsg or ring (TPACKET_V3)", "rx")
	// Off by default: frames sent with PACKET_QDISC_BYPASS skip the packet
	// taps, so tcpdump and 'smbsweep lab capture' cannot audit them, and
	// tc shaping does not apply. The benchmarks turn it on explicitly.
	boolean(&f.bypass, false, "PACKET_QDISC_BYPASS: skip the qdisc on send (faster; invisible to tcpdump and lab capture, no tc shaping)", "qdisc-bypass")
	return fs
}

// parseScanArgs parses flags and TARGETs, which may be interleaved.
func parseScanArgs(args []string, stderr io.Writer) (*scanFlags, []string, error) {
	f := &scanFlags{set: map[string]bool{}}
	fs := newScanFlagSet(f, stderr)
	var targets []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		targets = append(targets, args[0])
		args = args[1:]
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, targets, nil
}

// usagef returns a usage error (isUsage): exit 2 with a one-line reason.
func usagef(format string, args ...any) error { return targetUsagef(format, args...) }

func parseBandwidth(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		mult = 1e9
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult = 1e6
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult = 1e3
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, usagef("-B: %q is not a positive bandwidth", s)
	}
	return v * mult, nil
}

// scanPlan is everything derived from the flags before any socket opens.
type scanPlan struct {
	f      *scanFlags
	tp     *targetPlan
	perm   *target.Permutation
	rate   float64
	sports rawscan.PortRange
	route  rawscan.RouteConfig
}

func planScan(f *scanFlags, targets []string) (*scanPlan, error) {
	p := &scanPlan{f: f, rate: f.rate}
	var err error
	if f.set["B"] || f.set["bandwidth"] {
		if f.set["r"] || f.set["rate"] {
			return nil, usagef("-r and -B both set: give the rate one way")
		}
		bw, err := parseBandwidth(f.bandwidth)
		if err != nil {
			return nil, err
		}
		p.rate = rawscan.BandwidthRate(bw, rawscan.FrameLen)
	}
	if p.rate < 0 {
		return nil, usagef("-r: rate %v is negative (0 = unlimited)", p.rate)
	}
	if f.probes < 1 || f.probes > 16 {
		return nil, usagef("-P: %d probes (want 1-16)", f.probes)
	}
	if f.maxRuntime < 0 || f.cooldown < 0 {
		return nil, usagef("-t and -c must not be negative")
	}
	if f.format != "json" && f.format != "csv" {
		return nil, usagef("-O: unknown output format %q (json or csv)", f.format)
	}
	if f.set["dry-run-frames"] && !f.dryRun {
		return nil, usagef("--dry-run-frames without --dry-run")
	}
	if f.tx != "ring" && f.tx != "sendmmsg" {
		return nil, usagef("--tx: unknown back end %q (ring or sendmmsg)", f.tx)
	}
	if f.rx != "ring" && f.rx != "recvmmsg" {
		return nil, usagef("--rx: unknown back end %q (recvmmsg or ring)", f.rx)
	}
	if p.sports, err = rawscan.ParsePortRange(f.sourcePorts); err != nil {
		return nil, usagef("--source-port: %v", err)
	}
	if eph, err := rawscan.EphemeralPorts(); err == nil && p.sports.Overlaps(eph) && !f.forcePorts {
		return nil, usagef("--source-port %v overlaps the kernel's ephemeral range %v (ip_local_port_range): kernel connections would collide with scan replies; choose another range or add --force-source-port", p.sports, eph)
	}
	if f.sourceIP != "" {
		if p.route.Source, err = netip.ParseAddr(f.sourceIP); err != nil || !p.route.Source.Is4() {
			return nil, usagef("-S: %q is not an IPv4 address", f.sourceIP)
		}
	}
	for _, m := range []struct {
		s   string
		dst *net.HardwareAddr
		fl  string
	}{{f.sourceMAC, &p.route.SourceMAC, "--source-mac"}, {f.gwMAC, &p.route.GatewayMAC, "-G"}} {
		if m.s == "" {
			continue
		}
		if *m.dst, err = net.ParseMAC(m.s); err != nil || len(*m.dst) != 6 {
			return nil, usagef("%s: %q is not an Ethernet MAC", m.fl, m.s)
		}
	}
	p.route.Interface = f.iface

	if p.tp, err = f.targets.build(targets); err != nil {
		return nil, err
	}
	if p.perm, err = target.New(&p.tp.Config); err != nil {
		return nil, usagef("%v", err)
	}
	return p, nil
}

// config returns the rawscan.Config of the plan for rt; tx and rx are
// filled in by the caller. MaxTargets stays 0: the permutation's iterators
// already carry -n, split across shards and subshards, and rawscan would
// split it across the senders a second time. OptOut is the plan's filter,
// which skips the lookup until a -b file is reloaded (the permutation
// already excludes the -b files as they were at start).
func (p *scanPlan) config(rt *rawscan.Route) *rawscan.Config {
	cfg := &rawscan.Config{
		Targets:     func(i int) rawscan.Targets { return p.perm.Iterator(i) },
		Senders:     p.tp.Config.Threads,
		Rate:        p.rate,
		Probes:      p.f.probes,
		MaxRuntime:  time.Duration(p.f.maxRuntime * float64(time.Second)),
		Cooldown:    time.Duration(p.f.cooldown * float64(time.Second)),
		Source:      rt.Source,
		SourceMAC:   rt.SourceMAC,
		GatewayMAC:  rt.GatewayMAC,
		SourcePorts: p.sports,
		SinglePort:  len(p.tp.Config.Ports) == 1,
	}
	if p.f.cooldown == 0 {
		cfg.Cooldown = -1
	}
	if f := p.tp.Filter(); f != nil {
		cfg.OptOut = f
	}
	return cfg
}

// runScan is the 'scan' subcommand.
func runScan(args []string, stdout, stderr io.Writer) int {
	f, targets, err := parseScanArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fs := newScanFlagSet(&scanFlags{}, stdout)
		fmt.Fprintf(stdout, "Usage: smbsweep scan [flags] TARGET…\n\nStateless SYN scan. TARGETs are IPv4 addresses, CIDR prefixes or ranges.\nResults are JSON Lines (or CSV with -O csv) on stdout or -o FILE.\n\nFlags (ZMap's names):\n")
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		// The flag package has printed the reason.
		fmt.Fprintf(stderr, "Run 'smbsweep scan -h' for the flags.\n")
		return exitUsage
	}
	p, err := planScan(f, targets)
	if isUsage(err) {
		fmt.Fprintf(stderr, "smbsweep scan: %v\n", err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep scan: %v\n", err)
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.dryRun {
		err = dryRunScan(ctx, p, stdout)
	} else {
		err = liveScan(ctx, p, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep scan: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func dryRunScan(ctx context.Context, p *scanPlan, stdout io.Writer) error {
	// No socket is opened and nothing is sent: without -S/-G/--source-mac
	// the route is looked up (netlink reads only, never ARP) or shown as
	// placeholders.
	rt := &rawscan.Route{Source: p.route.Source, SourceMAC: p.route.SourceMAC, GatewayMAC: p.route.GatewayMAC, Interface: p.route.Interface}
	rc := p.route
	rc.NoARP = true
	if found, err := rawscan.FindRoute(ctx, &rc); err == nil {
		rt = found
	}
	if !rt.Source.IsValid() {
		rt.Source = netip.MustParseAddr("0.0.0.0")
	}
	for _, m := range []*net.HardwareAddr{&rt.SourceMAC, &rt.GatewayMAC} {
		if len(*m) != 6 {
			*m = net.HardwareAddr{0, 0, 0, 0, 0, 0}
		}
	}
	cfg := p.config(rt)
	var (
		mu    sync.Mutex
		shown []string
	)
	st, err := rawscan.DryRun(ctx, cfg, func(thread int, frame []byte) {
		mu.Lock()
		if len(shown) < p.f.dryFrames {
			shown = append(shown, fmt.Sprintf("thread %d: %s", thread, rawscan.DescribeFrame(frame)))
		}
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "dry run: nothing sent, no socket opened\n")
	fmt.Fprintf(w, "interface %q source %v %v gateway %v (%s)\n", rt.Interface, rt.Source, rt.SourceMAC, rt.GatewayMAC, orUnknown(rt.GatewayFrom))
	c := &p.tp.Config
	fmt.Fprintf(w, "targets %d (%d addresses × %d ports; %d requested, %d reserved, %d opted out), seed %d, shard %d/%d, %d sender threads, %d probes each\n",
		p.perm.Count(), c.Allowed.Count(), len(c.Ports), p.tp.Requested, p.tp.Reserved, p.tp.Blocked, c.Seed, c.Shard, c.Shards, c.Threads, p.f.probes)
	fmt.Fprintf(w, "source ports %v, rate %s\n", p.sports, rateString(p.rate))
	for _, s := range shown {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintf(w, "built %d frames for %d targets; %d skipped by the opt-out set\n", st.Sent, st.Targets, st.SkippedOptOut)
	if p.rate > 0 {
		fmt.Fprintf(w, "at %s sending would take %v\n", rateString(p.rate), time.Duration(float64(st.Sent)/p.rate*float64(time.Second)).Round(time.Second))
	}
	return w.Flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "not looked up"
	}
	return s
}

func rateString(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f pps", r)
}

// resultWriter encodes results on the receiver goroutine into a buffered
// writer.
type resultWriter struct {
	w   *bufio.Writer
	csv bool
	all bool
	buf []byte
	err error
}

func (rw *resultWriter) write(r *rawscan.Result) {
	if rw.err != nil || (!rw.all && r.Kind != rawscan.KindSynAck) {
		return
	}
	if rw.csv {
		rw.buf = r.AppendCSV(rw.buf[:0])
	} else {
		rw.buf = r.AppendJSON(rw.buf[:0])
	}
	_, rw.err = rw.w.Write(rw.buf)
}

func liveScan(ctx context.Context, p *scanPlan, stdout, stderr io.Writer) error {
	if err := rawscan.CheckCapabilities(rawscan.CapNetRaw); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		if !p.f.quiet {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	p.route.Logf = logf
	rt, err := rawscan.FindRoute(ctx, &p.route)
	if err != nil {
		return err
	}
	out := stdout
	if p.f.output != "-" {
		fh, err := os.Create(p.f.output)
		if err != nil {
			return err
		}
		defer fh.Close()
		out = fh
	}
	rw := &resultWriter{w: bufio.NewWriterSize(out, 64<<10), csv: p.f.format == "csv", all: p.f.all}
	if rw.csv {
		rw.w.WriteString(rawscan.CSVHeader)
	}
	afc := &rawscan.AFPacketConfig{Interface: rt.Interface, QdiscBypass: p.f.bypass}
	openRx := rawscan.OpenRx
	if p.f.rx == "ring" {
		openRx = rawscan.OpenRxRing
	}
	rx, err := openRx(afc, rawscan.ReplyFilter(rt.Source, p.sports))
	if err != nil {
		return err
	}
	cfg := p.config(rt)
	cfg.Rx = rx
	cfg.Tx = func(int) (rawscan.TxConn, error) {
		if p.f.tx == "ring" {
			return rawscan.OpenTxRing(afc)
		}
		return rawscan.OpenTx(afc)
	}
	cfg.Results = rw.write
	s, err := rawscan.New(cfg)
	if err != nil {
		rx.Close()
		return err
	}

	if !p.f.quiet || !p.f.yes {
		// The banner is what the pause is for; -q --yes drops both.
		fmt.Fprintf(stderr, "smbsweep scan: %d targets (seed %d, shard %d/%d) on %s from %v via %v (%s), rate %s, %d senders (%s), %d probes, cooldown %gs\n",
			p.perm.Count(), p.tp.Config.Seed, p.tp.Config.Shard, p.tp.Config.Shards, rt.Interface, rt.Source, rt.GatewayMAC, rt.GatewayFrom,
			rateString(p.rate), p.tp.Config.Threads, p.f.tx, p.f.probes, p.f.cooldown)
	}
	if !p.f.yes {
		fmt.Fprintf(stderr, "smbsweep scan: starting in 5 s; Ctrl-C aborts (--yes skips this pause)\n")
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
			rx.Close()
			return ctx.Err()
		}
	}
	if p.tp.OptOut != nil {
		go p.tp.OptOut.Run(ctx) // returns ctx.Err() once cancelled
	}
	sig := make(chan os.Signal, 4)
	up, down := rawscan.RateSignals()
	if up != nil {
		signal.Notify(sig, up, down)
		defer signal.Stop(sig)
	}
	done := make(chan struct{})
	var mon sync.WaitGroup
	mon.Go(func() { monitor(s, p, sig, done, stderr) })
	err = s.Run(ctx)
	close(done)
	mon.Wait()
	st := s.Stats()
	if !p.f.quiet {
		fmt.Fprintf(stderr, "smbsweep scan: done: sent %d to %d targets (%d opted out), %d open, %d closed, %d unreachable, %d duplicates, %d forged, %d kernel drops",
			st.Sent, st.Targets, st.SkippedOptOut, st.SynAck, st.RST, st.ICMPUnreach, st.Duplicates, st.Forged, st.Drops)
		if len(st.SuspectNets) > 0 {
			fmt.Fprintf(stderr, "; suspected SYN proxies: %v", st.SuspectNets)
		}
		fmt.Fprintln(stderr)
	}
	return errors.Join(err, rw.err, rw.w.Flush())
}

// monitor prints the status line every second and applies SIGUSR1/SIGUSR2
// (rate +10% / −10%) until done is closed.
func monitor(s *rawscan.Scanner, p *scanPlan, sig <-chan os.Signal, done <-chan struct{}, stderr io.Writer) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	prev, last := s.Stats(), time.Now()
	for {
		select {
		case <-done:
			return
		case v := <-sig:
			if up, _ := rawscan.RateSignals(); v == up {
				s.Rate().Scale(1.1)
			} else {
				s.Rate().Scale(1 / 1.1)
			}
			fmt.Fprintf(stderr, "smbsweep scan: rate now %s\n", rateString(s.Rate().Get()))
		case now := <-t.C:
			cur := s.Stats()
			if !p.f.quiet {
				fmt.Fprintln(stderr, rawscan.StatusLine(prev, cur, now.Sub(last), p.perm.Count()/uint64(p.tp.Config.Shards)))
			}
			prev, last = cur, now
		}
	}
}
