package transmit

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/stat"
)

// The tools of the section, as named in tables and plots.
const (
	toolSmbsweep = "smbsweep"
	toolBypass   = "smbsweep --qdisc-bypass"
	toolZmap     = "zmap"
	toolMasscan  = "masscan"
	toolCeiling  = "bare C sendmmsg"
)

// tools in table and legend order.
var tools = []string{toolSmbsweep, toolBypass, toolZmap, toolMasscan, toolCeiling}

// peers are the tools smbsweep is compared with.
var peers = []string{toolZmap, toolMasscan}

// targets is what every tool is told to scan: RFC 2544's benchmark range,
// large enough (with many ports) not to run out within a window.
const targets = "198.18.0.0/15"

// masscanUnlimited is masscan's stand-in for "no rate limit": it has none,
// so it is asked for far more than it can send.
const masscanUnlimited = 100_000_000

// params are the section's knobs for one mode.
type params struct {
	rates   []float64 // requested pps; 0 is unlimited
	threads []int
	repeats int
	warmup  time.Duration
	window  time.Duration
}

// paramsFor returns the full or quick parameters. Quick mode measures two
// rates, one repeat and shorter windows.
func paramsFor(env *benchkit.Env) params {
	if env.Quick {
		return params{rates: []float64{1e6, 0}, threads: []int{1, 2}, repeats: max(env.Repeats, 1), warmup: 400 * time.Millisecond, window: 800 * time.Millisecond}
	}
	return params{rates: []float64{1e5, 3e5, 1e6, 0}, threads: []int{1, 2}, repeats: max(env.Repeats, 3), warmup: 600 * time.Millisecond, window: 1800 * time.Millisecond}
}

// link is what every tool is told about the sink.
type link struct {
	ifname string // sink1
	srcIP  string
	srcMAC string
	dstMAC string
}

// bins are the programs of the section.
type bins struct {
	smbsweep string
	ceiling  string // "" when gcc could not build it
	empty    string // an empty blocklist file for ZMap
	zmap     bool   // zmap is installed
	masscan  bool   // masscan is installed
}

// sender is one configuration: a tool at a requested rate and thread
// count, and the command that runs it.
type sender struct {
	tool    string
	threads int
	rate    float64 // 0: unlimited
	argv    []string
}

// rateArg is r as a command-line number.
func rateArg(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// senders lists the configurations in measuring order. smbsweep, ZMap and
// masscan run at every rate; the bypass variant and the bare C ceiling
// only unlimited; masscan with one thread only, since it has a single
// transmit thread.
func senders(p params, l link, b bins) []sender {
	var ss []sender
	for _, t := range p.threads {
		for _, r := range p.rates {
			smb := []string{b.smbsweep, "scan", "--yes", "-q", "--allow-reserved", "-i", l.ifname, "-S", l.srcIP,
				"--source-mac", l.srcMAC, "-G", l.dstMAC, "-r", rateArg(r), "-T", strconv.Itoa(t),
				"-p", "1-1000", "-c", "0", "-o", "/dev/null", targets}
			ss = append(ss, sender{toolSmbsweep, t, r, smb})
			if r == 0 {
				ss = append(ss, sender{toolBypass, t, r, append(slices.Clone(smb[:len(smb)-1]), "--qdisc-bypass", targets)})
			}
			if b.zmap {
				ss = append(ss, sender{toolZmap, t, r, []string{"zmap", "-q", "-i", l.ifname, "-S", l.srcIP,
					"--source-mac=" + l.srcMAC, "-G", l.dstMAC, "-M", "tcp_synscan", "-p", "445", "-r", rateArg(r),
					"-T", strconv.Itoa(t), "-P", "200", "-b", b.empty, "-o", "/dev/null", "--disable-syslog", targets}})
			}
			if b.masscan && t == 1 {
				mr := r
				if mr == 0 {
					mr = masscanUnlimited
				}
				ss = append(ss, sender{toolMasscan, t, r, []string{"masscan", "-e", l.ifname, "--adapter-ip", l.srcIP,
					"--adapter-mac", l.srcMAC, "--router-mac", l.dstMAC, "-p1-65535", "--rate", rateArg(mr),
					"--wait", "0", "-oL", "/dev/null", targets}})
			}
			if b.ceiling != "" && r == 0 {
				ss = append(ss, sender{toolCeiling, t, r, []string{b.ceiling, "mmsg", strconv.Itoa(t), "60", l.ifname, l.dstMAC}})
			}
		}
	}
	return ss
}

// sample is one run's measurement; NaN fields mean the run failed.
type sample struct {
	pps    float64 // frames counted on the sink per second of the window
	cpuUs  float64 // process CPU µs per counted frame
	rssKiB float64 // VmHWM at the end of the window
}

// failed is the sample of a run that did not measure.
var failed = sample{math.NaN(), math.NaN(), math.NaN()}

// figure is one configuration's summarized runs.
type figure struct {
	sender
	pps, cpu, rss stat.Summary
	runs          []sample
}

func summarize(ss []sender, runs [][]sample) []figure {
	fs := make([]figure, len(ss))
	for i, s := range ss {
		var pps, cpu, rss []float64
		for _, r := range runs[i] {
			pps, cpu, rss = append(pps, r.pps), append(cpu, r.cpuUs), append(rss, r.rssKiB)
		}
		fs[i] = figure{sender: s, pps: stat.Summarize(pps), cpu: stat.Summarize(cpu), rss: stat.Summarize(rss), runs: runs[i]}
	}
	return fs
}

// find returns the figure of tool at threads and rate, nil if not measured.
func find(fs []figure, tool string, threads int, rate float64) *figure {
	for i := range fs {
		if f := &fs[i]; f.tool == tool && f.threads == threads && f.rate == rate {
			return f
		}
	}
	return nil
}

// median is f's median pps, NaN for nil.
func median(f *figure) float64 {
	if f == nil {
		return math.NaN()
	}
	return f.pps.Median
}

// bestPeer returns the peer with the highest median pps at threads and
// rate, nil if none was measured.
func bestPeer(fs []figure, threads int, rate float64) *figure {
	var best *figure
	for _, p := range peers {
		if f := find(fs, p, threads, rate); f != nil && f.pps.N > 0 && (best == nil || f.pps.Median > best.pps.Median) {
			best = f
		}
	}
	return best
}

// rateName is how a requested rate is labelled.
func rateName(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return stat.SI(r)
}

func threadName(t int) string {
	if t == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", t)
}

// pct formats a ratio as a percentage.
func pct(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", 100*x)
}

// times formats a ratio as "1.23×".
func times(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x)
}

// render builds the section from the figures.
// disp rewrites the harness's temporary paths in commands into names a
// reader can follow.
func render(p params, fs []figure, notes []string, disp *strings.Replacer) *benchkit.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "Requested rates %s; %d repeat(s) of each configuration, round-robin; a %v window after a %v warm-up.\n\n",
		strings.Join(mapRates(p.rates), ", "), p.repeats, p.window, p.warmup)
	b.WriteString("pps = delta of sink1's `tx_packets` over the window (`/sys/class/net/sink1/statistics/tx_packets` in the lab's scanner namespace), not the tool's claim; CPU µs/pkt = delta of the process's utime+stime (`/proc/PID/stat`) ÷ those packets; peak RSS = `VmHWM` at the end of the window. Medians, with the range of the repeats.\n\n")
	b.WriteString("| sender | threads | requested | pps (median) | min–max | of requested | CPU µs/pkt | peak RSS MiB | failed runs |\n")
	b.WriteString("|---|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, f := range fs {
		of := "—"
		if f.rate > 0 {
			of = pct(stat.Ratio(f.pps.Median, f.rate))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s–%s | %s | %s | %s | %d |\n", f.tool, f.threads, rateName(f.rate),
			stat.SI(f.pps.Median), stat.SI(f.pps.Min), stat.SI(f.pps.Max), of, num(f.cpu.Median, 2), num(f.rss.Median/1024, 1), f.pps.Failed)
	}
	b.WriteString("\n\"of requested\" over 100 % means the tool sent faster than it was asked to (ZMap's rate limiter overshoots in some runs here); the rate-limited rows show how each tool holds a rate, the unlimited rows are the throughput comparison.\n")
	b.WriteString("\nRatios at equal threads and unlimited rate, medians (best peer: the higher of ZMap and masscan; masscan has one transmit thread, so it is a peer at 1 thread only):\n\n")
	b.WriteString("| threads | requested | smbsweep ÷ best peer | smbsweep --qdisc-bypass ÷ best peer | smbsweep --qdisc-bypass ÷ bare C sendmmsg (same I/O mode) | smbsweep ÷ bare C |\n")
	b.WriteString("|---:|---:|---|---|---|---|\n")
	var goals []benchkit.Goal
	peerMet, ceilMet := true, true
	var peerText, ceilText []string
	for _, t := range p.threads {
		for _, r := range p.rates {
			if r != 0 {
				continue
			}
			smb, byp, ceil := find(fs, toolSmbsweep, t, r), find(fs, toolBypass, t, r), find(fs, toolCeiling, t, r)
			best := bestPeer(fs, t, r)
			bestName, bestPPS := "no peer", math.NaN()
			if best != nil {
				bestName, bestPPS = best.tool, best.pps.Median
			}
			rp, rb := stat.Ratio(median(smb), bestPPS), stat.Ratio(median(byp), bestPPS)
			rc, rs := stat.Ratio(median(byp), median(ceil)), stat.Ratio(median(smb), median(ceil))
			fmt.Fprintf(&b, "| %d | %s | %s (%s) | %s | %s | %s |\n", t, rateName(r), times(rp), bestName, times(rb), pct(rc), pct(rs))
			peerMet = peerMet && rp >= 1.3
			ceilMet = ceilMet && rc >= 0.9
			peerText = append(peerText, fmt.Sprintf("%s: %s ÷ %s %s = %s (with --qdisc-bypass %s)", threadName(t),
				stat.SI(median(smb)), bestName, stat.SI(bestPPS), times(rp), times(rb)))
			ceilText = append(ceilText, fmt.Sprintf("%s: %s (%s ÷ %s)", threadName(t), pct(rc), stat.SI(median(byp)), stat.SI(median(ceil))))
		}
	}
	if len(peerText) > 0 {
		goals = append(goals,
			benchkit.Goal{Issue: 4, Goal: "transmit ≥ 1.3 × the best peer at equal threads (unlimited rate; smbsweep's defaults)", Measured: strings.Join(peerText, "; "), Met: peerMet},
			benchkit.Goal{Issue: 4, Goal: "≥ 90 % of the bare-C ceiling, same I/O mode (sendmmsg + PACKET_QDISC_BYPASS)", Measured: strings.Join(ceilText, "; "), Met: ceilMet})
	}
	b.WriteString("\nThe peer goal is judged on smbsweep's defaults (sendmmsg through the qdisc), as ZMap and masscan run; `--qdisc-bypass` is shown next to it. The ceiling goal compares like with like: smbsweep with `--qdisc-bypass` against the C sender, which sets PACKET_QDISC_BYPASS. Percentages above 100 % are within the C sender's run-to-run spread and mean \"equal\".\n")
	for _, n := range notes {
		b.WriteString("\n" + n + "\n")
	}
	b.WriteString("\nCommands (in `ip netns exec <lab>-scan`, lab `smbsweep lab up --sink --open 0 --closed 0` plus `ip addr add 192.0.2.66/32 dev sink1` for ZMap's SIOCGIFADDR), one per tool; `smbsweep` is the binary under test (CGO_ENABLED=0), `ceiling` is bench/ceiling/ceiling.c built by `gcc -O2 -Wall -pthread`, EMPTY an empty blocklist file:\n\n```\n")
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.tool] {
			seen[f.tool] = true
			b.WriteString(disp.Replace(strings.Join(f.argv, " ")) + "\n")
		}
	}
	b.WriteString("```\n")
	return &benchkit.Section{
		Name:     "transmit",
		Title:    "Transmit: pps on the wire, CPU per packet (issue #4)",
		Markdown: b.String(),
		Goals:    goals,
		Plots:    plots(p, fs),
	}
}

func mapRates(rs []float64) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = rateName(r)
	}
	return out
}

// num formats x with prec decimals, "—" for NaN.
func num(x float64, prec int) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// plots are achieved pps per requested rate (one chart per thread count)
// and CPU per packet for every configuration.
func plots(p params, fs []figure) []benchkit.Plot {
	var out []benchkit.Plot
	rates := mapRates(p.rates)
	cpu := benchkit.Plot{File: "transmit-cpu.svg", Title: "CPU per packet on the wire (median, range of repeats)",
		XLabel: "requested rate, sender threads", YLabel: "CPU µs per packet", Kind: "bar"}
	for _, t := range p.threads {
		for _, r := range rates {
			cpu.Labels = append(cpu.Labels, fmt.Sprintf("%s T%d", r, t))
		}
	}
	for _, tool := range tools {
		var cs benchkit.Series
		cs.Name = tool
		for _, t := range p.threads {
			for _, r := range p.rates {
				f := find(fs, tool, t, r)
				if f == nil {
					cs.Y, cs.Low, cs.High = append(cs.Y, math.NaN()), append(cs.Low, math.NaN()), append(cs.High, math.NaN())
					continue
				}
				cs.Y, cs.Low, cs.High = append(cs.Y, f.cpu.Median), append(cs.Low, f.cpu.Min), append(cs.High, f.cpu.Max)
			}
		}
		if !allNaN(cs.Y) {
			cpu.Series = append(cpu.Series, cs)
		}
	}
	for _, t := range p.threads {
		pl := benchkit.Plot{File: fmt.Sprintf("transmit-pps-t%d.svg", t), Title: fmt.Sprintf("Achieved pps on the wire, %s (median, range of repeats)", threadName(t)),
			XLabel: "requested rate (pps)", YLabel: "achieved pps (sink1 tx_packets)", Kind: "bar", Labels: rates}
		for _, tool := range tools {
			var s benchkit.Series
			s.Name = tool
			for _, r := range p.rates {
				f := find(fs, tool, t, r)
				if f == nil {
					s.Y, s.Low, s.High = append(s.Y, math.NaN()), append(s.Low, math.NaN()), append(s.High, math.NaN())
					continue
				}
				s.Y, s.Low, s.High = append(s.Y, f.pps.Median), append(s.Low, f.pps.Min), append(s.High, f.pps.Max)
			}
			if !allNaN(s.Y) {
				pl.Series = append(pl.Series, s)
			}
		}
		out = append(out, pl)
	}
	return append(out, cpu)
}

func allNaN(xs []float64) bool {
	for _, x := range xs {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}
