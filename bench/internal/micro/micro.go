package micro

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/stat"
)

// packages and pattern select the benchmarks: targets/s (rawscan/target
// FillAddrs and Fill, rawscan ScheduleDraw), blocklist Contains, template stamping (rawscan Stamp), reply
// decode and cookie check (rawscan DecodeCheck), and SMB parsing within a
// whole probe over the in-memory Samba replay (smbprobe ProbeReplay).
var (
	packages = []string{"./blocklist/", "./rawscan/", "./rawscan/target/", "./smbprobe/"}
	pattern  = "^Benchmark(FillAddrs|Fill|ScheduleDraw|Contains|Stamp|DecodeCheck|ProbeReplay)$"
)

// params are the go test knobs for one mode.
type params struct {
	count     int
	benchtime string
}

func paramsFor(env *benchkit.Env) params {
	if env.Quick {
		return params{count: 1, benchtime: "100ms"}
	}
	return params{count: 10, benchtime: "200ms"}
}

// goTestArgs is the go test command line of the section.
func goTestArgs(p params) []string {
	return append([]string{"test", "-run", "^$", "-bench", pattern, "-benchmem",
		"-count", strconv.Itoa(p.count), "-benchtime", p.benchtime}, packages...)
}

// result is one benchmark's samples, by unit ("ns/op", "allocs/op",
// "targets/s", …), in the order go test printed them.
type result struct {
	name   string // without "Benchmark" and the -GOMAXPROCS suffix
	units  []string
	values map[string][]float64
}

// procsSuffix is go test's -GOMAXPROCS suffix of a benchmark name.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output (the benchmark format of
// golang.org/design/14313-benchmark-data): "BenchmarkName-P N v unit v
// unit …". Other lines are skipped.
func parse(r io.Reader) ([]*result, error) {
	var out []*result
	byName := map[string]*result{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		res := byName[name]
		if res == nil {
			res = &result{name: name, values: map[string][]float64{}}
			byName[name] = res
			out = append(out, res)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("micro: line %d: value %q: %w", n, f[i], err)
			}
			u := f[i+1]
			if _, ok := res.values[u]; !ok {
				res.units = append(res.units, u)
			}
			res.values[u] = append(res.values[u], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("micro: %w", err)
	}
	return out, nil
}

// median of one unit, NaN if absent.
func (r *result) median(unit string) float64 {
	return stat.Summarize(r.values[unit]).Median
}

func find(rs []*result, name string) *result {
	i := slices.IndexFunc(rs, func(r *result) bool { return r.name == name })
	if i < 0 {
		return nil
	}
	return rs[i]
}

// format prints a figure of a unit readably: rates with k/M, the rest
// with up to 4 significant digits.
func format(v float64, unit string) string {
	if math.IsNaN(v) {
		return "—"
	}
	if strings.HasSuffix(unit, "/s") || strings.HasSuffix(unit, "-s") {
		return stat.SI(v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// render builds the section from the run's results and benchstat's
// comparison with the baseline ("" when there was none).
func render(p params, rs []*result, cmdline, benchstat, baselineNote string) *benchkit.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "`go %s` (run from the repository root); medians of %d runs, range in brackets.\n\n", cmdline, p.count)
	b.WriteString("| benchmark | ns/op | other metrics (median) | B/op | allocs/op |\n|---|---:|---|---:|---:|\n")
	for _, r := range rs {
		ns := stat.Summarize(r.values["ns/op"])
		var other []string
		for _, u := range r.units {
			switch u {
			case "ns/op", "B/op", "allocs/op":
				continue
			}
			other = append(other, format(r.median(u), u)+" "+u)
		}
		fmt.Fprintf(&b, "| %s | %s (%s–%s) | %s | %s | %s |\n", r.name, format(ns.Median, "ns/op"), format(ns.Min, "ns/op"), format(ns.Max, "ns/op"),
			strings.Join(other, ", "), format(r.median("B/op"), "B/op"), format(r.median("allocs/op"), "allocs/op"))
	}
	b.WriteString("\n" + baselineNote + "\n")
	if benchstat != "" {
		b.WriteString("\n```\n" + strings.TrimRight(benchstat, "\n") + "\n```\n")
	}
	return &benchkit.Section{
		Name:     "micro",
		Title:    "Go micro-benchmarks (issues #2, #4, #5)",
		Markdown: b.String(),
		Goals:    goals(rs),
	}
}

// goals are the micro-benchmark goals: issue #2's 100 M targets per
// second per core, and zero allocations on the per-target and per-packet
// paths (issues #2 and #4, style guide §15).
func goals(rs []*result) []benchkit.Goal {
	var gs []benchkit.Goal
	// The generator is judged on FillAddrs, the batch the senders draw
	// through; the whole per-target path of a sender (ScheduleDraw:
	// generation, opt-out check, retry ring) and the netip.AddrPort batch
	// (Fill) are shown beside it.
	if f := find(rs, "FillAddrs/port=1"); f != nil {
		v := f.median("targets/cpu-s")
		m := fmt.Sprintf("%s targets/cpu-s (BenchmarkFillAddrs/port=1, the senders' batch, median)", format(v, "targets/cpu-s"))
		for _, o := range []struct{ name, what string }{
			{"ScheduleDraw/draw=batch", "a sender's whole per-target path"},
			{"Fill/port=1", "netip.AddrPort batch"},
		} {
			if r := find(rs, o.name); r != nil {
				m += fmt.Sprintf("; %s (%s): %s", o.name, o.what, format(r.median("targets/cpu-s"), "targets/cpu-s"))
			}
		}
		gs = append(gs, benchkit.Goal{Issue: 2, Goal: "target generation ≥ 100 M/s/core (reserved + 10k-line blocklist)", Measured: m, Met: v >= 100e6})
	}
	var zero []string
	met, seen := true, false
	for _, name := range []string{"FillAddrs/port=1", "Fill/port=1", "ScheduleDraw/draw=batch", "Contains/reserved+10k", "Stamp", "DecodeCheck"} {
		r := find(rs, name)
		if r == nil {
			continue
		}
		seen = true
		a := slices.Max(r.values["allocs/op"])
		met = met && a == 0
		zero = append(zero, fmt.Sprintf("%s %s", name, format(a, "allocs/op")))
	}
	if seen {
		gs = append(gs, benchkit.Goal{Issue: 4, Goal: "0 allocations per target, lookup, stamped probe and decoded reply",
			Measured: "allocs/op, worst run: " + strings.Join(zero, ", "), Met: met})
	}
	return gs
}
