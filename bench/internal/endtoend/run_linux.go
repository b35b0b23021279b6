package endtoend

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
	"github.com/smbsweep/smbsweep/bench/internal/proc"
)

// labPrefix names the section's lab.
const labPrefix = "bench-e2e-"

// labSeed is the seed of bench/results/run.md's lab (1178 hosts answer
// SYN-ACK on 445, 265 of them SMB servers).
const labSeed = "3"

// cooldown is both tools' -c: long enough for the lab's replies (under a
// millisecond away), short enough not to be the floor.
const cooldown = "2"

// Budgets of the section's runs (the lab's start and stop come on top):
// the harness gives the section 2.5 minutes, 40 s in quick mode. A
// repeat that would end past the budget, at the last repeat's pace, is
// not started (the first always is).
const (
	budgetFull  = 140 * time.Second
	budgetQuick = 35 * time.Second
)

// runTimeout bounds one run: the peer's 10 s per host plus sending,
// cooldown and a loaded machine.
const runTimeout = 60 * time.Second

// settings in table order: both tools' defaults first (the goal's
// comparison), then both at one per-host budget.
var settings = []setting{
	{"defaults", "both tools' own probe settings at unlimited rate and a 2 s cooldown; zgrab2 with --setup-session " +
		"(SMB facts past the negotiate) and timeouts matched to smbsweep's defaults (connect 3 s, 10 s per host; " +
		"zgrab2's own are 10 s and 60 s, which only make it slower on the silent hosts)"},
	{"5 s per host", "both bounded at 5 s per host, smbsweep's read timeout (smbsweep --host-timeout 5s, zgrab2 -t 5s): " +
		"a silent host then costs both tools the same, but for smbsweep's cut of a subnet judged silent " +
		"(--silent-probes: the SYN-proxy /24's later hosts end once 4 of its probes have timed out)"},
}

// Run is the section's benchkit.Runner.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	var notes []string
	empty := filepath.Join(env.Out, "empty.conf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return nil, fmt.Errorf("endtoend: %w", err)
	}
	peer := env.Zgrab2 != ""
	if _, err := exec.LookPath("zmap"); err != nil {
		peer = false
		notes = append(notes, "**zmap missing** (not on PATH): the peer's rows are absent.")
	} else if !peer {
		notes = append(notes, "**zgrab2 missing** (benchkit.Env.Zgrab2 empty): the peer's rows are absent and #6's goals are not met by this run.")
	}
	l, err := benchlab.Up(ctx, env.Bin, labPrefix, "--samba", "--hostile", "--seed", labSeed)
	if err != nil {
		return nil, fmt.Errorf("endtoend: %w", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			env.Logf("endtoend: %v", err)
		}
	}()
	g, err := l.GroundTruth()
	if err != nil {
		return nil, fmt.Errorf("endtoend: %w", err)
	}
	truth := NewTruth(g)
	st := &l.Status
	rng := st.Ranges[0].String()

	type runner struct {
		config
		argv func(out string) []string
	}
	smbsweep := func(setting string, extra ...string) runner {
		args := append([]string{"run", "--allow-reserved", "--yes", "-q", "-r", "0", "-c", cooldown}, extra...)
		return runner{
			config: config{tool: toolSmbsweep, setting: setting,
				command: "ip netns exec " + st.ScannerNamespace + " smbsweep " + strings.Join(args, " ") + " -o OUT " + rng},
			argv: func(out string) []string {
				return append(append([]string{env.Bin}, args...), "-o", out, rng)
			},
		}
	}
	zgrab := func(setting, timeout string) runner {
		pipe := func(zg, out, empty string) string {
			return "zmap -q -i " + st.Interface + " -G " + st.GatewayMAC + " -r 0 -c " + cooldown + " -b " + empty +
				" -p 445 -f saddr -o - " + rng + " 2>/dev/null | " + zg + " smb --setup-session -t " + timeout +
				" --connect-timeout 3s -b " + empty + " -o " + out + " -m /dev/null -l /dev/null -u /dev/null"
		}
		return runner{
			config: config{tool: toolPeer, setting: setting,
				command: "ip netns exec " + st.ScannerNamespace + " sh -c '" + pipe("zgrab2", "OUT", "empty.conf") + "'"},
			argv: func(out string) []string { return []string{"sh", "-c", pipe(env.Zgrab2, out, empty)} },
		}
	}
	type round struct {
		runners []runner
		repeats int
	}
	// Five repeats of the defaults: each tool's end is a silent host's
	// SYN-ACK time plus its timeout, and where the lab's two silent hosts
	// fall in the permutation varies from run to run by up to 0.4 s.
	full := max(env.Repeats, 5)
	rounds := []round{{[]runner{smbsweep(settings[0].name), zgrab(settings[0].name, "10s")}, full}}
	if env.Quick {
		rounds[0].repeats = 1
	} else {
		// At most 3 repeats of the second setting: the section stays
		// within 2.5 minutes at 5 repeats of the first.
		rounds = append(rounds, round{[]runner{smbsweep(settings[1].name, "--host-timeout", "5s"), zgrab(settings[1].name, "5s")}, min(full, 3)})
	}
	log, err := os.Create(filepath.Join(env.Out, "runs.tsv"))
	if err != nil {
		return nil, fmt.Errorf("endtoend: %w", err)
	}
	defer log.Close()
	fmt.Fprintln(log, "tool\tsetting\trepeat\twall_s\texit_s\thosts\tinside\tsmb\tsmb_inside\terror")
	load0 := proc.LoadAvg()
	budget := budgetFull
	if env.Quick {
		budget = budgetQuick
	}
	start := time.Now()
	var last time.Duration // the previous repeat's, of either setting
	var samples []Sample
	var configs []config
	for _, rd := range rounds {
		for _, r := range rd.runners {
			if r.tool == toolPeer && !peer {
				continue
			}
			configs = append(configs, r.config)
		}
		// Alternate the tools within each repeat.
		for i := range rd.repeats {
			if len(samples) > 0 && time.Since(start)+last > budget {
				notes = append(notes, fmt.Sprintf("Budget: %s stopped after %d of %d repeats (%v of the section's %v used).",
					rd.runners[0].setting, i, rd.repeats, time.Since(start).Round(time.Second), budget))
				break
			}
			t0 := time.Now()
			for _, r := range rd.runners {
				if r.tool == toolPeer && !peer {
					continue
				}
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("endtoend: %w", err)
				}
				out := filepath.Join(env.Out, fmt.Sprintf("%s-%s-%d.json", slug(r.tool), slug(r.setting), i))
				s := runOnce(ctx, l, r.argv(out), out, r.tool)
				s.Tool, s.Setting = r.tool, r.setting
				if s.Err == "" {
					s.Score = truth.Score(s.found)
				}
				env.Logf("endtoend: %s, %s, run %d: %.2f s to the last record, %d hosts, %d SMB %s",
					r.tool, r.setting, i+1, s.Wall, s.Score.Hosts.Found, s.Score.SMB.Found, s.Err)
				fmt.Fprintf(log, "%s\t%s\t%d\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%s\n", s.Tool, s.Setting, i, s.Wall, s.Exit,
					s.Score.Hosts.Found, s.Score.HostsInside.Found, s.Score.SMB.Found, s.Score.SMBInside.Found, s.Err)
				samples = append(samples, s.Sample)
			}
			last = time.Since(t0)
		}
	}
	preamble := fmt.Sprintf("Lab: `smbsweep lab up --prefix %s --samba --hostile --seed %s` (%s: 1%% open and 1%% closed on 445, "+
		"the Samba matrix, impacket, one smbd answering the AnyIP /24 %v, the hostile hosts and a SYN-proxy /24; "+
		"%d addresses answer SYN-ACK on 445, %d of them SMB servers). Each tool runs as a whole process in the scanner "+
		"namespace, alternating, one after the other; time is from the start to the output file's last write. "+
		"%s, %s (%d CPUs), load average %s before and %s after (runs in `%s/runs.tsv`).\n",
		labPrefix, labSeed, rng, truth.AnyIP, len(truth.Open), len(truth.SMB), runtime.Version(), cpuModel(), runtime.NumCPU(),
		load0, proc.LoadAvg(), env.Out)
	return report(settings[:len(rounds)], configs, samples, peer, preamble, notes), nil
}

// result is a Sample with what the run found.
type result struct {
	Sample
	found Found
}

// runOnce runs argv in the lab's scanner namespace and reads out, parsed
// as tool writes it.
func runOnce(ctx context.Context, l *benchlab.Lab, argv []string, out, tool string) result {
	var r result
	fail := func(format string, args ...any) result {
		r.Wall, r.Exit, r.Err = math.NaN(), math.NaN(), fmt.Sprintf(format, args...)
		return r
	}
	os.Remove(out)
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := l.Command(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	r.Exit = time.Since(start).Seconds()
	if err != nil {
		return fail("%s: %v: %s", argv[0], err, benchlab.LastLine(stderr.String()))
	}
	fi, err := os.Stat(out)
	if err != nil {
		return fail("%v", err)
	}
	r.Wall = fi.ModTime().Sub(start).Seconds()
	f, err := os.Open(out)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	parse := ParseSmbsweep
	if tool == toolPeer {
		parse = ParseZgrab2
	}
	if r.found, err = parse(f); err != nil {
		return fail("%v", err)
	}
	return r
}

// slug turns a tool or setting name into part of a file name.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// cpuModel is the first "model name" of /proc/cpuinfo, "?" if none.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
