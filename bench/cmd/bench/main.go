package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/proc"
)

func main() {
	var c config
	flag.BoolVar(&c.quick, "quick", false, "the bench-quick variant: fewer rates and repeats, shorter windows (under 3 minutes)")
	only := flag.String("only", "", "comma-separated sections to run (default: all); a partial run does not write the goals table")
	flag.BoolVar(&c.noAssemble, "no-assemble", false, "do not run bench/assemble.sh at the end")
	redrawOnly := flag.Bool("redraw", false, "only draw the plots again from bench/results/harness/*"+plotDataSuffix+" (no measurement, no root)")
	flag.Parse()
	if *redrawOnly {
		root, err := repoRoot()
		if err == nil {
			err = redraw(filepath.Join(root, "bench", "results", "harness"), filepath.Join(root, "bench", "plots"))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *only != "" {
		c.only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is the harness's command line.
type config struct {
	quick      bool
	only       []string
	noAssemble bool
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, c *config) error {
	start := time.Now()
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (labs, raw sockets); run: sudo make bench")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	mode, budget := "full", fullBudget
	if c.quick {
		mode, budget = "quick", quickBudget
	}
	logf("bench %s: budget %v; sections %s", mode, budget, strings.Join(sectionNames(c), ", "))

	tmp, err := os.MkdirTemp("", "smbsweep-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "smbsweep")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/smbsweep")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	t0 := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/smbsweep: %v: %s", err, out)
	}
	logf("built smbsweep (CGO_ENABLED=0) in %.1fs", time.Since(t0).Seconds())
	zg := ensurePeers(ctx, root, logf)
	m := recordMachine(ctx, root, zg)
	logf("machine: %s, %s cores, load %s", m.CPU, m.Cores, m.LoadBefore)

	env := benchkit.Env{Root: root, Bin: bin, Zgrab2: zg, Quick: c.quick, Repeats: 3, Logf: logf}
	if c.quick {
		env.Repeats = 1
	}
	results := runSections(ctx, c, &env, root)
	m.LoadAfter = proc.LoadAvg()
	m.Elapsed = time.Since(start)

	plotDir := filepath.Join(root, "bench", "plots")
	outDir := filepath.Join(root, "bench", "results", "harness")
	if c.quick {
		// A quick run is a check, not a record: bench/RESULTS.md and
		// its plots keep the last full run.
		outDir = filepath.Join(root, "bench", "out", "quick")
		plotDir = filepath.Join(outDir, "plots")
	}
	if err := writeAll(outDir, plotDir, m, results, c, budget); err != nil {
		return err
	}
	if c.quick {
		logf("quick run: results in %s (bench/RESULTS.md keeps the last full run)", outDir)
	} else if !c.noAssemble && len(c.only) == 0 {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "bench", "assemble.sh"))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("bench/assemble.sh: %w", err)
		}
	}
	return verdict(results, m.Elapsed, budget, c.quick)
}

// verdict prints the elapsed times and fails when a section failed or the
// run exceeded its budget.
func verdict(results []result, elapsed, budget time.Duration, quick bool) error {
	var failed []string
	for _, r := range results {
		state := "ok"
		switch {
		case r.missing:
			state = "missing"
		case r.err != nil:
			state = "FAILED: " + r.err.Error()
			failed = append(failed, r.name)
		}
		logf("section %-9s %6.1fs of %5.0fs allocated  %s", r.name, r.elapsed.Seconds(), r.budget(quick).Seconds(), state)
	}
	logf("total %.1fs of %.0fs budget", elapsed.Seconds(), budget.Seconds())
	if elapsed > budget {
		return fmt.Errorf("BUDGET EXCEEDED: the run took %v, over its %v budget (results written, not trimmed)", elapsed.Round(time.Second), budget)
	}
	if len(failed) > 0 {
		return fmt.Errorf("sections failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// repoRoot is the module root, found from the working directory.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the smbsweep module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}
