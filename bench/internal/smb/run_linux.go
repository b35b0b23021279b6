package smb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
	"github.com/smbsweep/smbsweep/bench/internal/proc"
)

// Run measures the section. It needs root; its labs are removed on return.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	return run(ctx, env, labPrefix)
}

// run is Run with the labs' prefix.
func run(ctx context.Context, env *benchkit.Env, prefix string) (*benchkit.Section, error) {
	p := paramsFor(env)
	m := &measurement{prefix: prefix, env: env, report: report{p: p, samples: map[string][]sample{}, load0: proc.LoadAvg(), start: time.Now().UTC()}}
	if _, err := exec.LookPath("nmap"); err != nil {
		m.notes = append(m.notes, "**nmap missing** (not on PATH): its rows are absent.")
	}
	if env.Zgrab2 == "" {
		m.notes = append(m.notes, "**zgrab2 missing** (the harness could not build v0.2.0): its rows are absent.")
	}
	empty := filepath.Join(env.Out, "empty-blocklist")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return nil, fmt.Errorf("smb: %w", err)
	}
	m.empty = empty

	if err := m.inLab(ctx, labStock, labArgs); err != nil {
		return nil, err
	}
	if p.raised {
		args := append(append([]string(nil), labArgs...), "--listen-backlog", strconv.Itoa(raisedBacklog))
		if err := m.inLab(ctx, labRaised, args); err != nil {
			return nil, err
		}
	}
	m.replay = runReplay(ctx, env, p)
	if p.silent {
		m.silent = runSilent(ctx, env, "blackhole", silentProbes)
		m.silentReactor = runSilent(ctx, env, "reactor", reactorSilentProbes())
	}
	m.load1 = proc.LoadAvg()
	disp := strings.NewReplacer(env.Bin, "smbsweep", env.Zgrab2+" ", "zgrab2 ", empty, "EMPTY")
	return render(&m.report, disp), nil
}

// measurement is a Run in progress.
type measurement struct {
	report
	prefix string
	env    *benchkit.Env
	empty  string
}

// inLab brings up one lab, measures every configuration of that lab in
// alternating repeats, and takes the lab down.
func (m *measurement) inLab(ctx context.Context, which string, args []string) error {
	env := m.env
	env.Logf("smb: lab up (%s listen backlog)", which)
	l, err := benchlab.Up(ctx, env.Bin, m.prefix, args...)
	if err != nil {
		return fmt.Errorf("smb: %w", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			env.Logf("smb: %v", err)
		}
	}()
	servers := matrixServers(l.Status)
	sets := map[string][]netip.Addr{
		setAnyIP:  anyIPHosts(l.Status, anyIPCount),
		setMatrix: addrs(servers),
		setNmap:   anyIPHosts(l.Status, m.p.nmapHosts),
	}
	lists := map[string]string{}
	for name, hosts := range sets {
		var b strings.Builder
		for _, a := range hosts {
			fmt.Fprintln(&b, a)
		}
		path := filepath.Join(env.Out, which+"-"+name+".txt")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("smb: %w", err)
		}
		lists[name] = path
	}
	cs := configs(which, m.p, bins{smbsweep: env.Bin, zgrab2: env.Zgrab2, nmap: hasNmap(), empty: m.empty})
	m.configs = append(m.configs, cs...)
	last := map[string]map[netip.Addr]facts{}
	for rep := range m.p.repeats {
		for _, c := range cs {
			if c.once && rep > 0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("smb: %w", err)
			}
			s, fs := m.measure(ctx, l, c, lists[c.set], len(sets[c.set]), rep)
			m.samples[c.key()] = append(m.samples[c.key()], s)
			if c.set == setMatrix && fs != nil {
				last[c.name] = fs
			}
			if c.set == setAnyIP {
				time.Sleep(anyIPGap) // smbd reaps its children
			}
		}
		env.Logf("smb: %s lab: repeat %d/%d done, load %s", which, rep+1, m.p.repeats, proc.LoadAvg())
	}
	for _, c := range cs {
		if c.set == setMatrix {
			if fs, ok := last[c.name]; ok {
				m.matrix = append(m.matrix, matrixResult{name: c.name, score: grade(servers, fs)})
			}
		}
	}
	if which == labStock {
		m.servers = servers
	}
	return nil
}

// measure runs one configuration once and keeps its output.
func (m *measurement) measure(ctx context.Context, l *benchlab.Lab, c config, list string, hosts, rep int) (sample, map[netip.Addr]facts) {
	base := filepath.Join(m.env.Out, fmt.Sprintf("%s-%s-%s-%d", c.lab, c.slug(), c.set, rep+1))
	fail := func(err error) (sample, map[netip.Addr]facts) {
		m.env.Logf("smb: %s on %s (%s): %v", c.name, c.set, c.lab, err)
		return failedSample(err), nil
	}
	in, err := os.Open(list)
	if err != nil {
		return fail(err)
	}
	defer in.Close()
	var out, stderr bytes.Buffer
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := l.Command(cctx, c.argv[0], c.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, &stderr
	t0 := time.Now()
	runErr := cmd.Run()
	wall := time.Since(t0)
	_ = os.WriteFile(base+".out", out.Bytes(), 0o644)
	_ = os.WriteFile(base+".err", stderr.Bytes(), 0o644)
	if cmd.ProcessState == nil {
		return fail(runErr)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return fail(errors.New("no rusage"))
	}
	s := sample{
		wall:   wall.Seconds(),
		cpuMs:  float64(time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Microseconds()) / 1e3 / float64(hosts),
		rssMiB: float64(ru.Maxrss) / 1024, // getrusage(2): ru_maxrss in KiB
		hosts:  hosts,
	}
	if cctx.Err() != nil {
		s.note = fmt.Sprintf("killed at the %v limit", c.timeout)
	} else if runErr != nil {
		s.note = fmt.Sprintf("%v: %s", runErr, benchlab.LastLine(stderr.String()))
	}
	fs, err := c.parse(out.Bytes())
	if err != nil {
		s.note = strings.TrimSpace(s.note + "; output: " + err.Error())
		s.answered = math.NaN()
		return s, nil
	}
	s.answered = float64(answered(fs))
	return s, fs
}

// hasNmap reports whether nmap is on PATH.
func hasNmap() bool {
	_, err := exec.LookPath("nmap")
	return err == nil
}

// runReplay runs BenchmarkRunReplayTCP (the prober's worker pool over
// kernel TCP on loopback against the Go replay responder, package
// smbprobetest) in the tree under test.
func runReplay(ctx context.Context, env *benchkit.Env, p params) replayResult {
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkRunReplayTCP$", "-benchtime", p.replayN, "-count", strconv.Itoa(p.replayCount), "./smbprobe"}
	r := replayResult{cmd: "go " + strings.Join(args, " ")}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = env.Root
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(env.Out, "replay-bench.txt"), out, 0o644)
	if err != nil {
		r.err = fmt.Sprintf("%v: %s", err, benchlab.LastLine(string(out)))
		return r
	}
	r.hostsPerS, r.cpuUs, r.err = parseBench(out, "BenchmarkRunReplayTCP")
	return r
}

// runSilent runs silentbench: n concurrent probes of silent hosts over
// transport ("blackhole": blocking sessions on in-memory connections;
// "reactor": the Linux reactor on loopback sockets, what smbsweep probe
// uses).
func runSilent(ctx context.Context, env *benchkit.Env, transport string, n int) silentResult {
	args := []string{"run", "./smbprobe/internal/silentbench", "-transport", transport, "-n", strconv.Itoa(n)}
	r := silentResult{cmd: "go " + strings.Join(args, " "), n: n}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = env.Root
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(env.Out, "silentbench-"+transport+".txt"), out, 0o644)
	if err != nil {
		r.err = fmt.Sprintf("%v: %s", err, benchlab.LastLine(string(out)))
		return r
	}
	r.line = strings.TrimSpace(benchlab.LastLine(string(out)))
	r.peakKiB, r.err = parseSilent(out)
	return r
}

// reactorSilentProbes is how many silent probes the reactor transport can
// hold here: two sockets each, within the hard open-file limit (Go raises
// the soft limit to it), less some for everything else; at most
// silentProbes.
func reactorSilentProbes() int {
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return 1000
	}
	spare := min(l.Max/2, 512) // never more than half: no wrap-around
	return int(min(uint64(silentProbes), (l.Max-spare)/2))
}
