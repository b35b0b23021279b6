package endtoend

import (
	"fmt"
	"math"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/stat"
)

// The tools of the section, as named in tables and plots.
const (
	toolSmbsweep = "smbsweep run"
	toolPeer     = "zmap | zgrab2 smb"
)

// A setting is a pair of comparable configurations: smbsweep's and the
// peer's.
type setting struct {
	name string // "defaults", …
	what string // one line: what differs from the tools' defaults
}

// config is one tool in one setting and the command that runs it.
type config struct {
	tool    string
	setting string
	command string // for the Markdown: the exact command line
}

// Sample is one run of one config.
type Sample struct {
	Tool, Setting string
	// Wall is the seconds from the start to the last record written
	// (the output file's modification time); Exit to the process's
	// exit. NaN when the run failed.
	Wall, Exit float64
	Score      Score
	Err        string // why the run failed, "" if it did not
}

// figures are the summaries of one config's samples.
type figures struct {
	n                          int
	failed                     []string
	wall, exit                 stat.Summary
	hosts, outside, inside     stat.Summary
	smb, smbOutside, smbInside stat.Summary
	hostsExp, insideExp        int
	smbExp, smbInsideExp       int
}

func summarize(samples []Sample, tool, setting string) figures {
	var f figures
	var wall, exit, hosts, out, in, smb, smbOut, smbIn []float64
	for _, s := range samples {
		if s.Tool != tool || s.Setting != setting {
			continue
		}
		f.n++
		if s.Err != "" {
			f.failed = append(f.failed, s.Err)
			wall, exit = append(wall, math.NaN()), append(exit, math.NaN())
			continue
		}
		wall, exit = append(wall, s.Wall), append(exit, s.Exit)
		sc := s.Score
		hosts, out, in = append(hosts, float64(sc.Hosts.Found)), append(out, float64(sc.HostsOutside.Found)), append(in, float64(sc.HostsInside.Found))
		smb, smbOut, smbIn = append(smb, float64(sc.SMB.Found)), append(smbOut, float64(sc.SMBOutside.Found)), append(smbIn, float64(sc.SMBInside.Found))
		f.hostsExp, f.insideExp, f.smbExp, f.smbInsideExp = sc.Hosts.Expected, sc.HostsInside.Expected, sc.SMB.Expected, sc.SMBInside.Expected
	}
	f.wall, f.exit = stat.Summarize(wall), stat.Summarize(exit)
	f.hosts, f.outside, f.inside = stat.Summarize(hosts), stat.Summarize(out), stat.Summarize(in)
	f.smb, f.smbOutside, f.smbInside = stat.Summarize(smb), stat.Summarize(smbOut), stat.Summarize(smbIn)
	return f
}

// seconds formats a summary of seconds as "6.12 s (5.98–6.40)".
func seconds(s stat.Summary) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.2f s", s.Median)
	}
	return fmt.Sprintf("%.2f s (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

// count formats a summary of counts as "1178" or "1150 (1120–1178)".
func count(s stat.Summary) string {
	switch {
	case s.N == 0:
		return "—"
	case s.Min == s.Max:
		return fmt.Sprintf("%.0f", s.Median)
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", s.Median, s.Min, s.Max)
}

// report builds the section from the samples of every config. peer is
// false when zgrab2 is missing; notes go under the table.
func report(settings []setting, configs []config, samples []Sample, peer bool, preamble string, notes []string) *benchkit.Section {
	var b strings.Builder
	b.WriteString(preamble)
	b.WriteString("\n| setting | tool | time to last record | exit | hosts written | outside AnyIP /24 | inside AnyIP /24 | SMB identified | SMB inside AnyIP |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	plot := benchkit.Plot{
		File: "endtoend-time.svg", Title: "End to end on the /16 lab: time to the last record (median, min–max)",
		XLabel: "setting", YLabel: "seconds", Kind: "bar",
	}
	series := map[string]*benchkit.Series{}
	for _, t := range []string{toolSmbsweep, toolPeer} {
		series[t] = &benchkit.Series{Name: t}
	}
	figs := map[[2]string]figures{}
	for _, st := range settings {
		plot.Labels = append(plot.Labels, st.name)
		for _, t := range []string{toolSmbsweep, toolPeer} {
			f := summarize(samples, t, st.name)
			figs[[2]string{t, st.name}] = f
			s := series[t]
			s.Y, s.Low, s.High = append(s.Y, nanTo0(f.wall.Median)), append(s.Low, nanTo0(f.wall.Min)), append(s.High, nanTo0(f.wall.Max))
			if f.n == 0 {
				what := "not run"
				if t == toolPeer && !peer {
					what = "zgrab2 missing"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | | | | | | |\n", st.name, cell(t), what)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | **%s** | %s | %s of %d | %s of %d | %s of %d | %s of %d | %s of %d |\n",
				st.name, cell(t), seconds(f.wall), seconds(f.exit), count(f.hosts), f.hostsExp, count(f.outside), f.hostsExp-f.insideExp,
				count(f.inside), f.insideExp, count(f.smb), f.smbExp, count(f.smbInside), f.smbInsideExp)
		}
	}
	b.WriteString("\n")
	for _, st := range settings {
		fmt.Fprintf(&b, "- *%s*: %s\n", st.name, st.what)
	}
	for _, c := range configs {
		fmt.Fprintf(&b, "\n%s, %s:\n\n```sh\n%s\n```\n", c.tool, c.setting, c.command)
	}
	var goals []benchkit.Goal
	def := settings[0].name
	us, them := figs[[2]string{toolSmbsweep, def}], figs[[2]string{toolPeer, def}]
	speed := benchkit.Goal{Issue: 6, Goal: "smbsweep run ≥ 2× faster end to end than zmap | zgrab2 smb on the /16 lab"}
	recall := benchkit.Goal{Issue: 6, Goal: "same or better recall than zmap | zgrab2 smb on the /16 lab"}
	if !peer || them.n == 0 {
		speed.Measured = fmt.Sprintf("peer missing (zgrab2 not built); smbsweep run %s", seconds(us.wall))
		recall.Measured = "peer missing (zgrab2 not built)"
	} else {
		r := stat.Ratio(them.wall.Median, us.wall.Median)
		speed.Measured = fmt.Sprintf("%s: %.2f s vs %.2f s (medians of %d) = %.2f×", def, us.wall.Median, them.wall.Median, us.wall.N, r)
		speed.Met = r >= 2
		for _, st := range settings[1:] {
			u, t := figs[[2]string{toolSmbsweep, st.name}], figs[[2]string{toolPeer, st.name}]
			if u.n > 0 && t.n > 0 {
				speed.Measured += fmt.Sprintf("; %s: %.2f×", st.name, stat.Ratio(t.wall.Median, u.wall.Median))
			}
		}
		recall.Measured = fmt.Sprintf("%s: hosts %.0f vs %.0f of %d (inside AnyIP %.0f vs %.0f); SMB %.0f vs %.0f of %d",
			def, us.hosts.Median, them.hosts.Median, us.hostsExp, us.inside.Median, them.inside.Median,
			us.smb.Median, them.smb.Median, us.smbExp)
		recall.Met = us.hosts.Median >= them.hosts.Median && us.smb.Median >= them.smb.Median
		fmt.Fprintf(&b, "\nDefaults: smbsweep run is **%.2f×** as fast as zmap | zgrab2 smb (median time to the last record); "+
			"it writes %.0f hosts to the peer's %.0f and identifies %.0f SMB servers to its %.0f.\n",
			r, us.hosts.Median, them.hosts.Median, us.smb.Median, them.smb.Median)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	goals = append(goals, speed, recall)
	for _, t := range []string{toolSmbsweep, toolPeer} {
		plot.Series = append(plot.Series, *series[t])
	}
	return &benchkit.Section{
		Name:     "endtoend",
		Title:    "End to end: smbsweep run vs zmap | zgrab2 smb on a /16 lab (issue #6)",
		Markdown: b.String(),
		Goals:    goals,
		Plots:    []benchkit.Plot{plot},
	}
}

// cell escapes the pipes of a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func nanTo0(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
