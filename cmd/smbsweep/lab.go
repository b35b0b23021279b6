package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/lab"
)

// runLab is the 'lab' subcommand: up, down, status, deps.
func runLab(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		labUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "up":
		return labUp(args[1:], stdout, stderr)
	case "down":
		return labDown(args[1:], stdout, stderr)
	case "status":
		return labStatus(args[1:], stdout, stderr)
	case "capture":
		return labCapture(args[1:], stdout, stderr)
	case "egress":
		return labEgress(args[1:], stdout, stderr)
	case "deps":
		return labDeps(stdout, stderr)
	case "-h", "-help", "--help", "help":
		labUsage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "smbsweep lab: unknown command %q\n", args[0])
	labUsage(stderr)
	return exitUsage
}

func labUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: smbsweep lab COMMAND [flags]   (as root)

  up      bring a lab up and leave it running
  status  describe a running lab (--json for machine-readable)
  down    remove a lab: processes, namespaces, state (idempotent)
  capture record every frame the scanner namespace sends to a pcap file,
          then list the destinations outside the lab (exit 1 if any)
  egress  list the destinations in a pcap file outside the allowed set
  deps    apt-install what the lab needs and report what is missing

Run 'smbsweep lab COMMAND -h' for a command's flags.
`)
}

// labFlags are the flags every lab command shares.
func labFlags(name string, stderr io.Writer) (*flag.FlagSet, *lab.Config) {
	fs := flag.NewFlagSet("smbsweep lab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &lab.Config{}
	fs.StringVar(&cfg.Prefix, "prefix", lab.DefaultPrefix, "prefix of the lab's namespaces and state directory")
	fs.StringVar(&cfg.StateDir, "state-dir", lab.DefaultStateDir, "parent of the lab's state directory")
	return fs, cfg
}

func labUp(args []string, stdout, stderr io.Writer) int {
	fs, cfg := labFlags("up", stderr)
	rng := fs.String("range", lab.DefaultRange.String(), "simulated internet, inside 198.18.0.0/15")
	size := fs.String("size", "", "size of the range as /BITS (e.g. /15); overrides the bits of --range")
	open := fs.String("open", "1%", "fraction of address×port pairs that answer SYN-ACK (\"1%\" or 0.01; 0 for none)")
	closed := fs.String("closed", "1%", "fraction that answer RST; the rest are filtered")
	ports := fs.String("ports", "445", "comma-separated TCP ports the fractions apply to")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed choosing open and closed addresses")
	loss := fs.String("loss", "0", "packet loss on the scanner link, each way (\"5%\"; nft numgen)")
	reorder := fs.String("reorder", "0", "fraction of frames sent at once, overtaking delayed ones (\"1%\"; needs --delay)")
	fs.DurationVar(&cfg.Delay, "delay", 0, "delay on the scanner link, each way (userspace wire)")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "delay jitter (uniform ±)")
	fs.Uint64Var(&cfg.Rate, "rate", 0, "rate limit on the scanner link, bits per second (0: none; tbf)")
	fs.BoolVar(&cfg.Samba, "samba", false, "start the Samba matrix, impacket and the AnyIP smbd")
	fs.BoolVar(&cfg.Hostile, "hostile", false, "start the hostile hosts and the SYN-proxy /24")
	fs.IntVar(&cfg.ListenBacklog, "listen-backlog", 0, "raise every Samba/impacket listen backlog to at least N (LD_PRELOAD shim, needs gcc; 0: servers' own, smbd's is 50)")
	fs.BoolVar(&cfg.Sink, "sink", false, "add transmit sinks sink0 (ifb) and sink1 (veth dropped at ingress)")
	verbose := fs.Bool("v", false, "log every step to stderr")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var err error
	if cfg.Range, err = netip.ParsePrefix(*rng); err != nil {
		return usageErr(stderr, "up", err)
	}
	if *size != "" {
		bits, err := strconv.Atoi(strings.TrimPrefix(*size, "/"))
		if err != nil {
			return usageErr(stderr, "up", fmt.Errorf("--size %q: %w", *size, err))
		}
		if cfg.Range, err = cfg.Range.Addr().Prefix(bits); err != nil {
			return usageErr(stderr, "up", err)
		}
	}
	for _, f := range []struct {
		s   string
		dst *float64
		neg bool // zero means none, not the default
	}{{*open, &cfg.Open, true}, {*closed, &cfg.Closed, true}, {*loss, &cfg.Loss, false}, {*reorder, &cfg.Reorder, false}} {
		v, err := parseFraction(f.s)
		if err != nil {
			return usageErr(stderr, "up", err)
		}
		if v == 0 && f.neg {
			v = -1
		}
		*f.dst = v
	}
	for _, p := range strings.Split(*ports, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil {
			return usageErr(stderr, "up", fmt.Errorf("--ports %q: %w", *ports, err))
		}
		cfg.Ports = append(cfg.Ports, uint16(n))
	}
	if *verbose {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab up: %v\n", err)
		return exitFailure
	}
	st := l.Status()
	fmt.Fprintf(stdout, "lab %q up in %v: %v answered from namespace %s\n", st.Prefix, time.Since(start).Round(time.Millisecond), st.Ranges, st.ScannerNamespace)
	fmt.Fprintf(stdout, "  interface %s, source %v (%s), gateway %v (%s)\n", st.Interface, st.SourceIP, st.SourceMAC, st.GatewayIP, st.GatewayMAC)
	for _, s := range st.Servers {
		fmt.Fprintf(stdout, "  server %-9s %v:%d  %s\n", s.Name, s.Address, s.Port, s.Config)
	}
	for _, h := range st.Hostile {
		fmt.Fprintf(stdout, "  hostile %-9s %v  %s\n", h.Name, h.Address, h.Does)
	}
	fmt.Fprintf(stdout, "  ground truth: %s\n", st.GroundTruth)
	self, _ := os.Executable()
	fmt.Fprintf(stdout, "\nUse it:   ip netns exec %s %s scan %v\nInspect:  %s lab status --prefix %s [--json]\nRemove:   %s lab down --prefix %s\n",
		st.ScannerNamespace, self, st.Ranges[0], self, st.Prefix, self, st.Prefix)
	return exitOK
}

// parseFraction reads "5%" or "0.05".
func parseFraction(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("fraction %q: %w", s, err)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("fraction %q out of range 0..1", s)
	}
	return v, nil
}

func usageErr(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "smbsweep lab %s: %v\n", cmd, err)
	return exitUsage
}

func labDown(args []string, stdout, stderr io.Writer) int {
	fs, cfg := labFlags("down", stderr)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if err := lab.DownConfig(cfg); err != nil {
		fmt.Fprintf(stderr, "smbsweep lab down: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "lab %q is down\n", cfg.Prefix)
	return exitOK
}

func labStatus(args []string, stdout, stderr io.Writer) int {
	fs, cfg := labFlags("status", stderr)
	asJSON := fs.Bool("json", false, "print machine-readable JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	st, err := lab.ReadStatus(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab status: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "lab %q: %v from namespace %s (%s %v, gateway %v %s)\n", st.Prefix, st.Ranges, st.ScannerNamespace, st.Interface, st.SourceIP, st.GatewayIP, st.GatewayMAC)
	fmt.Fprintf(stdout, "namespaces: %s\n", strings.Join(st.Namespaces, " "))
	for _, p := range st.Processes {
		fmt.Fprintf(stdout, "process %-10s pid %d\n", p.Name, p.PID)
	}
	for _, s := range st.Servers {
		fmt.Fprintf(stdout, "server %-9s %v:%d smb1=%v dialect=%q signing_required=%v\n", s.Name, s.Address, s.Port, s.Expect.SMB1, s.Expect.Dialect, s.Expect.SigningRequired)
	}
	for _, h := range st.Hostile {
		fmt.Fprintf(stdout, "hostile %-9s %v  %s\n", h.Name, h.Address, h.Does)
	}
	if st.Impairment != "" {
		fmt.Fprintf(stdout, "impairment: %s\n", st.Impairment)
	}
	for name, c := range st.Counters {
		fmt.Fprintf(stdout, "counters %-6s tx %d pkts %d bytes %d dropped, rx %d pkts %d bytes %d dropped\n", name, c.TxPackets, c.TxBytes, c.TxDropped, c.RxPackets, c.RxBytes, c.RxDropped)
	}
	fmt.Fprintf(stdout, "ground truth: %s\n", st.GroundTruth)
	return exitOK
}

func labDeps(stdout, stderr io.Writer) int {
	cmd := exec.Command("sh", "-c", lab.DepsScript)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return exitFailure
		}
		fmt.Fprintf(stderr, "smbsweep lab deps: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func labCapture(args []string, stdout, stderr io.Writer) int {
	fs, cfg := labFlags("capture", stderr)
	out := fs.String("out", "egress.pcap", "pcap file to write")
	dur := fs.Duration("for", 0, "stop after this long (0: at Ctrl-C)")
	allow := fs.String("allow", "", "comma-separated allowed prefixes (default: the lab's ranges)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	l, err := lab.Attach(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab capture: %v\n", err)
		return exitFailure
	}
	defer l.Detach()
	allowed, err := allowedSet(*allow, l.Status().Ranges)
	if err != nil {
		return usageErr(stderr, "capture", err)
	}
	c, err := l.Capture(*out)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab capture: %v\n", err)
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	fmt.Fprintf(stderr, "capturing frames leaving %s to %s; Ctrl-C to stop\n", l.Status().ScannerNamespace, *out)
	<-ctx.Done()
	n, err := c.Stop()
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab capture: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%d frames in %s\n", n, *out)
	return reportOutside(*out, allowed, stdout, stderr)
}

func labEgress(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smbsweep lab egress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allow := fs.String("allow", lab.Benchmarking.String(), "comma-separated allowed prefixes")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		return usageErr(stderr, "egress", errors.New("want one pcap file"))
	}
	allowed, err := allowedSet(*allow, nil)
	if err != nil {
		return usageErr(stderr, "egress", err)
	}
	return reportOutside(fs.Arg(0), allowed, stdout, stderr)
}

// allowedSet parses a comma-separated prefix list, or returns def for "".
func allowedSet(s string, def []netip.Prefix) ([]netip.Prefix, error) {
	if s == "" {
		return def, nil
	}
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// reportOutside prints the destinations of a pcap outside allowed and
// returns exitFailure if there are any.
func reportOutside(path string, allowed []netip.Prefix, stdout, stderr io.Writer) int {
	outside, frames, other, err := lab.Outside(path, allowed)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep lab: %s: %v\n", path, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: %d frames (%d not IP), allowed %v\n", path, frames, other, allowed)
	if len(outside) == 0 {
		fmt.Fprintf(stdout, "no frame went to an address outside the allowed set\n")
		return exitOK
	}
	for _, a := range outside {
		fmt.Fprintf(stdout, "outside: %v\n", a)
	}
	return exitFailure
}
