package smb

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/stat"
	"github.com/smbsweep/smbsweep/lab"
)

// report is everything a Run measured, the input of render.
type report struct {
	p             params
	notes         []string
	configs       []config            // in measuring order
	samples       map[string][]sample // by config.key()
	servers       []lab.Server        // the matrix, in address order
	matrix        []matrixResult      // the stock lab's matrix runs
	replay        replayResult
	silent        silentResult // blocking sessions, 50,000
	silentReactor silentResult // the reactor, as many as the open-file limit allows
	start         time.Time
	load0, load1  string // load average at start and end
}

// figure is one configuration's summarized samples.
type figure struct {
	config
	wall, hostsPerS, cpu, rss, answered stat.Summary
	runs                                []sample
}

// figures summarizes every configuration.
func (r *report) figures() []figure {
	var fs []figure
	for _, c := range r.configs {
		runs := r.samples[c.key()]
		var wall, hps, cpu, rss, ans []float64
		for _, s := range runs {
			wall, cpu, rss, ans = append(wall, s.wall), append(cpu, s.cpuMs), append(rss, s.rssMiB), append(ans, s.answered)
			hps = append(hps, stat.Ratio(float64(s.hosts), s.wall))
		}
		fs = append(fs, figure{config: c, wall: stat.Summarize(wall), hostsPerS: stat.Summarize(hps),
			cpu: stat.Summarize(cpu), rss: stat.Summarize(rss), answered: stat.Summarize(ans), runs: runs})
	}
	return fs
}

// find returns the figure of name on set in lab, nil if not measured.
func find(fs []figure, labName, set, name string) *figure {
	for i := range fs {
		if f := &fs[i]; f.lab == labName && f.set == set && f.name == name && f.wall.N > 0 {
			return f
		}
	}
	return nil
}

// med returns a summary's median from f, NaN for nil.
func med(f *figure, pick func(*figure) stat.Summary) float64 {
	if f == nil {
		return math.NaN()
	}
	return pick(f).Median
}

func wallOf(f *figure) stat.Summary { return f.wall }
func cpuOf(f *figure) stat.Summary  { return f.cpu }
func hpsOf(f *figure) stat.Summary  { return f.hostsPerS }
func ansOf(f *figure) stat.Summary  { return f.answered }

// render writes the section.
func render(r *report, disp *strings.Replacer) *benchkit.Section {
	fs := r.figures()
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s, %s, %s; load average %s at start, %s at end. ",
		r.start.Format("2006-01-02 15:04 UTC"), runtime.Version(), cpuModel(), r.load0, r.load1)
	fmt.Fprintf(&b, "Every tool runs as a whole process in the lab's scanner namespace (`ip netns exec`), "+
		"reading its hosts on stdin; client CPU is the process's user+system time (getrusage of the child) "+
		"divided by the hosts given, peak RSS its ru_maxrss. Figures are medians of %d alternating repeats "+
		"with [min–max]; nmap runs once per set.\n\n", r.p.repeats)
	for _, n := range r.notes {
		b.WriteString(n + "\n\n")
	}

	b.WriteString("### Speed\n\n")
	b.WriteString("\"stock\" is the lab as it comes (smbd's hard-coded listen backlog 50; one smbd serves all 256 AnyIP addresses); " +
		fmt.Sprintf("\"raised\" is `lab up --listen-backlog %d` (an LD_PRELOAD listen() shim in every Samba and impacket server; the same for every tool). ", raisedBacklog) +
		"smbsweep opens two connections per host (SMB2, and the SMB1 check), zgrab2 one, nmap up to six plus a UDP 137 name query.")
	if r.p.nmapHosts > 0 {
		fmt.Fprintf(&b, " nmap's AnyIP row probes only the first %d AnyIP hosts (budget).", r.p.nmapHosts)
	}
	b.WriteString("\n\n")
	b.WriteString("| lab | hosts | tool | wall s | hosts/s | client CPU ms/host | peak RSS MiB | answered (each run) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, f := range fs {
		var ans []string
		for _, s := range f.runs {
			a := "—"
			if !math.IsNaN(s.answered) {
				a = fmt.Sprintf("%.0f", s.answered)
			}
			if s.note != "" {
				a += "*"
			}
			ans = append(ans, a)
		}
		hosts := 0
		if len(f.runs) > 0 {
			hosts = f.runs[0].hosts
		}
		fmt.Fprintf(&b, "| %s | %s (%d) | %s | %s | %s | %s | %s | %s of %d |\n", f.lab, f.set, hosts, f.name,
			spread(f.wall, 2), spread(f.hostsPerS, 0), spread(f.cpu, 2), spread(f.rss, 0), strings.Join(ans, "/"), hosts)
	}
	if cr := connRates(fs); cr != "" {
		b.WriteString("\nThe one smbd forks for every connection it accepts, so on the AnyIP set its accept rate bounds " +
			"every tool; connections accepted per second (hosts × connections per host ÷ median wall): " + cr + ".\n")
	}
	var marked []string
	for _, f := range fs {
		for i, s := range f.runs {
			if s.note != "" {
				marked = append(marked, fmt.Sprintf("%s %s %s run %d: %s", f.lab, f.set, f.name, i+1, disp.Replace(s.note)))
			}
		}
	}
	if len(marked) > 0 {
		b.WriteString("\n\\* " + strings.Join(marked, "; ") + "\n")
	}

	b.WriteString("\n### Correctness on the Samba matrix\n\n")
	b.WriteString("Five facts per server against the lab's ground truth: SMB1 on, signing required, 3.1.1 negotiated, " +
		"guest may read `public`, encryption required. Y right, x wrong, - not reported (counted as not right). " +
		"Last repeat of each tool in the stock lab. Plain smbsweep does not log on, so guest and encryption are \"-\" by design.\n\n")
	b.WriteString("| server | expect |")
	for _, m := range r.matrix {
		b.WriteString(" " + m.name + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(r.matrix)) + "\n")
	for _, s := range r.servers {
		w := want(s)
		var ex strings.Builder
		for _, v := range w {
			ex.WriteByte("01"[b2i(v)])
		}
		fmt.Fprintf(&b, "| %s %v | %s |", s.Name, s.Address, ex.String())
		for _, m := range r.matrix {
			b.WriteString(" " + m.score.Cells[s.Address] + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("| **right** | |")
	for _, m := range r.matrix {
		fmt.Fprintf(&b, " %d/%d |", m.score.Right, m.score.Total)
	}
	b.WriteString("\n\nColumns of each cell: " + strings.Join(factCols, ", ") + "; expect: 1 = true.\n")

	b.WriteString("\n### The prober alone, against the replay responder\n\n")
	if r.replay.err != "" {
		fmt.Fprintf(&b, "`%s` failed: %s\n", r.replay.cmd, r.replay.err)
	} else {
		h, c := stat.Summarize(r.replay.hostsPerS), stat.Summarize(r.replay.cpuUs)
		fmt.Fprintf(&b, "`%s`: the worker pool (64 workers) over kernel TCP on loopback against smbprobetest's replay of "+
			"Samba 4.17 (nt1: both connections, 4 round trips): **%s hosts/s**, **%s µs CPU per host** (client and "+
			"replay server in one process) — medians of %d.\n", r.replay.cmd, spread(h, 0), spread(c, 0), h.N)
	}
	if r.p.silent {
		b.WriteString("\n### Concurrent probes of silent hosts\n\n")
		b.WriteString("Every probe waits out its 5 s read timeout on both connections. `blackhole`: blocking sessions " +
			"(two goroutines per probe) on in-memory connections that never answer; `reactor`: the Linux reactor " +
			"that `smbsweep probe` uses, on loopback sockets that are never accepted. The reactor holds two sockets " +
			"per probe, so its count is capped by this machine's hard open-file limit.\n\n")
		for _, sr := range []silentResult{r.silent, r.silentReactor} {
			if sr.cmd == "" {
				continue
			}
			if sr.err != "" {
				fmt.Fprintf(&b, "- `%s` failed: %s\n", sr.cmd, sr.err)
				continue
			}
			fmt.Fprintf(&b, "- `%s`: %d probes, peak RSS %.0f MiB (%.1f KiB per probe). Output: `%s`\n",
				sr.cmd, sr.n, sr.peakKiB/1024, sr.peakKiB/float64(max(sr.n, 1)), sr.line)
		}
	}

	b.WriteString("\n### Commands\n\n")
	seen := map[string]bool{}
	for _, f := range fs {
		line := fmt.Sprintf("- %s, %s: `ip netns exec bench-smb-scan %s < HOSTS`", f.lab, f.name, disp.Replace(strings.Join(f.argv, " ")))
		if !seen[line] {
			seen[line] = true
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(fmt.Sprintf("- labs: `smbsweep lab up --prefix %s %s` and the same with `--listen-backlog %d`\n", labPrefix, strings.Join(labArgs, " "), raisedBacklog))

	goals := r.goals(fs)
	b.WriteString("\n### Goals of issue #5\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, g := range goals {
		m := "no"
		if g.Met {
			m = "**yes**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.Goal, g.Measured, m)
	}
	return &benchkit.Section{
		Name:     "smb",
		Title:    "SMB probe: smbsweep vs zgrab2 vs nmap",
		Markdown: b.String(),
		Goals:    goals,
		Plots:    r.plots(fs),
	}
}

// goals derives the issue's goal rows. A probe that times out costs less
// CPU and ends sooner than one that is answered, so a comparison decides a
// goal only when both tools answered every host ("complete"); the pairs
// are tried in the order stock defaults, stock tuned, raised defaults,
// raised tuned, and the measured text names the pair that decided.
func (r *report) goals(fs []figure) []benchkit.Goal {
	var gs []benchkit.Goal
	add := func(goal, measured string, met bool) {
		gs = append(gs, benchkit.Goal{Issue: 5, Goal: goal, Measured: measured, Met: met})
	}
	type pair struct{ lab, ours, peer, label string }
	pairs := []pair{
		{labStock, nameSmbsweep, nameZgrab2, "stock, defaults"},
		{labStock, nameSmbsweepTuned, nameZgrab2Tuned, "stock, tuned"},
	}
	if r.p.raised {
		pairs = append(pairs, pair{labRaised, nameSmbsweep, nameZgrab2, "raised backlog, defaults"},
			pair{labRaised, nameSmbsweepTuned, nameZgrab2Tuned, "raised backlog, tuned"})
	}
	versus := func(pick func(*figure) stat.Summary, unit string, prec int, ok func(float64) bool) (string, bool) {
		var parts, metUnder []string
		decided, met := "", false
		for _, p := range pairs {
			a, b := find(fs, p.lab, setAnyIP, p.ours), find(fs, p.lab, setAnyIP, p.peer)
			x := stat.Ratio(med(a, pick), med(b, pick))
			parts = append(parts, fmt.Sprintf("%s: %s vs %s %s = %s× (answered %s vs %s)", p.label,
				num(med(a, pick), prec), num(med(b, pick), prec), unit, num(x, 2), num(med(a, ansOf), 0), num(med(b, ansOf), 0)))
			if !complete(a) || !complete(b) {
				continue
			}
			if ok(x) {
				metUnder = append(metUnder, p.label)
			}
			if decided == "" {
				decided, met = p.label, ok(x)
			}
		}
		if decided == "" {
			return "no pair where both answered every host; " + strings.Join(parts, "; "), false
		}
		under := "met under: none"
		if len(metUnder) > 0 {
			under = "met under: " + strings.Join(metUnder, ", ")
		}
		return fmt.Sprintf("verdict from %s; %s — %s", decided, under, strings.Join(parts, "; ")), met
	}

	m, met := versus(cpuOf, "ms/host", 2, func(x float64) bool { return x <= 0.5 })
	add("client CPU per host ≤ 0.5× zgrab2's (256 AnyIP hosts)", m, met)
	m, met = versus(wallOf, "s", 2, func(x float64) bool { return x <= 1 })
	add("wall time ≤ zgrab2's on the same Samba hosts (256 AnyIP, one smbd)", m, met)

	// nmap: on the matrix, and on its AnyIP subset against smbsweep's
	// first complete AnyIP configuration.
	ours := find(fs, labStock, setMatrix, nameSmbsweep)
	nm := find(fs, labStock, setMatrix, nameNmap)
	var best *figure
	for _, n := range []string{nameSmbsweep, nameSmbsweepTuned} {
		if f := find(fs, labStock, setAnyIP, n); best == nil && complete(f) {
			best = f
		}
	}
	sub := find(fs, labStock, setNmap, nameNmap)
	nmapGoal := func(pick func(*figure) stat.Summary, ratio func(nmap, ours float64) float64, unit string, prec int) (string, float64) {
		x := ratio(med(nm, pick), med(ours, pick))
		m := fmt.Sprintf("matrix (9 servers): nmap %s vs smbsweep %s %s = %s× (answered %s vs %s)", num(med(nm, pick), prec),
			num(med(ours, pick), prec), unit, num(x, 1), num(med(nm, ansOf), 0), num(med(ours, ansOf), 0))
		if sub != nil && best != nil {
			m += fmt.Sprintf("; AnyIP: nmap (first %d hosts) %s vs %s %s %s = %s×", r.p.nmapHosts, num(med(sub, pick), prec),
				best.name, num(med(best, pick), prec), unit, num(ratio(med(sub, pick), med(best, pick)), 1))
		}
		return m, x
	}
	m, x := nmapGoal(hpsOf, func(n, o float64) float64 { return stat.Ratio(o, n) }, "hosts/s", 1)
	add("≥ 8× faster than nmap in wall time", m, complete(ours) && complete(nm) && x >= 8)
	m, x = nmapGoal(cpuOf, stat.Ratio, "ms/host", 2)
	add("≥ 20× less client CPU than nmap", m, complete(ours) && complete(nm) && x >= 20)

	for _, mr := range r.matrix {
		if mr.name == nameShares {
			var others []string
			for _, o := range r.matrix {
				if o.name != nameShares {
					others = append(others, fmt.Sprintf("%s %d/%d", o.name, o.score.Right, o.score.Total))
				}
			}
			add("every correctness cell right (SMB1, signing required, 3.1.1, guest, encryption required)",
				fmt.Sprintf("smbsweep --smb-shares %d/%d; %s", mr.score.Right, mr.score.Total, strings.Join(others, ", ")),
				mr.score.Total > 0 && mr.score.Right == mr.score.Total)
		}
	}
	if r.p.silent {
		ok := r.silent.err == "" && r.silent.peakKiB < 1<<20
		m := "failed: " + r.silent.err
		if r.silent.err == "" {
			m = fmt.Sprintf("peak RSS %.0f MiB with 50,000 blocking sessions", r.silent.peakKiB/1024)
			if sr := r.silentReactor; sr.err == "" && sr.n > 0 {
				m += fmt.Sprintf("; the reactor: %.0f MiB with %d (the open-file limit), %.1f KiB per probe",
					sr.peakKiB/1024, sr.n, sr.peakKiB/float64(sr.n))
			}
		}
		add("50,000 concurrent probes against silent hosts in < 1 GiB RSS", m, ok)
	}
	return gs
}

// complete reports whether f answered every host in its median run.
func complete(f *figure) bool {
	return f != nil && f.answered.N > 0 && len(f.runs) > 0 && f.answered.Median >= float64(f.runs[0].hosts)
}

// plots are the section's bar charts: hosts/s and client CPU per host,
// per tool, for each host set.
func (r *report) plots(fs []figure) []benchkit.Plot {
	labels := []string{nameSmbsweep, nameSmbsweepTuned, nameNoSMB1, nameShares, nameZgrab2, nameZgrab2Tuned, nameNmap}
	type group struct {
		name, lab, set string
	}
	groups := []group{{"256 AnyIP hosts, backlog 50", labStock, setAnyIP}}
	if r.p.raised {
		groups = append(groups, group{fmt.Sprintf("256 AnyIP hosts, backlog %d", raisedBacklog), labRaised, setAnyIP})
	}
	if r.p.nmapHosts > 0 {
		groups = append(groups, group{fmt.Sprintf("nmap: first %d AnyIP hosts", r.p.nmapHosts), labStock, setNmap})
	}
	groups = append(groups, group{"Samba matrix + impacket (9)", labStock, setMatrix})
	mk := func(file, title, ylabel string, pick func(*figure) stat.Summary) benchkit.Plot {
		p := benchkit.Plot{File: file, Title: title, XLabel: "tool", YLabel: ylabel, Kind: "bar", Labels: labels}
		for _, g := range groups {
			s := benchkit.Series{Name: g.name}
			for _, l := range labels {
				f := find(fs, g.lab, g.set, l)
				s.Y, s.Low, s.High = append(s.Y, med(f, pick)), append(s.Low, lo(f, pick)), append(s.High, hi(f, pick))
			}
			p.Series = append(p.Series, s)
		}
		return p
	}
	return []benchkit.Plot{
		mk("smb-hosts-per-s.svg", "SMB probe throughput", "hosts/s (median)", hpsOf),
		mk("smb-cpu-per-host.svg", "SMB probe client CPU per host", "ms CPU per host (median)", cpuOf),
	}
}

func lo(f *figure, pick func(*figure) stat.Summary) float64 {
	if f == nil {
		return math.NaN()
	}
	return pick(f).Min
}

func hi(f *figure, pick func(*figure) stat.Summary) float64 {
	if f == nil {
		return math.NaN()
	}
	return pick(f).Max
}

// spread formats a summary as "median [min–max]" with prec decimals.
func spread(s stat.Summary, prec int) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return num(s.Median, prec)
	}
	return fmt.Sprintf("%s [%s–%s]", num(s.Median, prec), num(s.Min, prec), num(s.Max, prec))
}

// num formats x with prec decimals, "—" for NaN.
func num(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, x)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cpuModel is lscpu's "Model name", from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v) + fmt.Sprintf(" (%d CPUs)", runtime.NumCPU())
		}
	}
	return "CPU unknown"
}

// connsPerHost is how many TCP connections each tool opens per host of the
// AnyIP set (its smbd forks for each); 0 for tools not listed.
func connsPerHost(name string) int {
	switch name {
	case nameSmbsweep, nameSmbsweepTuned:
		return 2 // connection A (SMB2) and B (the SMB1 check)
	case nameNoSMB1, nameZgrab2, nameZgrab2Tuned:
		return 1
	}
	return 0
}

// connRates lists the AnyIP smbd's accepted connections per second for
// each tool and lab, from the hosts answered and the median wall time.
func connRates(fs []figure) string {
	var parts []string
	for _, f := range fs {
		n := connsPerHost(f.name)
		w, a := med(&f, wallOf), med(&f, ansOf)
		if f.set != setAnyIP || n == 0 || !(w > 0) || math.IsNaN(a) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %.0f/s", f.lab, f.name, float64(n)*a/w))
	}
	return strings.Join(parts, ", ")
}
