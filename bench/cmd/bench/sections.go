package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/accuracy"
	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/endtoend"
	"github.com/smbsweep/smbsweep/bench/internal/micro"
	"github.com/smbsweep/smbsweep/bench/internal/smb"
	"github.com/smbsweep/smbsweep/bench/internal/transmit"
)

// Budgets of the whole run.
const (
	fullBudget  = 15 * time.Minute
	quickBudget = 3 * time.Minute
)

// entry is one section of the harness, in running order. run is nil for a
// section whose package does not exist yet: it is reported as missing.
type entry struct {
	name  string
	title string
	issue int
	full  time.Duration // allocation in the full run
	quick time.Duration // allocation in the quick run
	run   benchkit.Runner
}

// sections is the harness's running order (issue #7's).
var sections = []entry{
	{"transmit", "Transmit", 4, 4 * time.Minute, 45 * time.Second, transmit.Run},
	{"accuracy", "Accuracy", 4, 4 * time.Minute, 40 * time.Second, accuracy.Run},
	{"smb", "SMB probe: smbsweep vs zgrab2 vs nmap", 5, 4 * time.Minute, 40 * time.Second, smb.Run},
	{"endtoend", "End to end: smbsweep run vs zmap | zgrab2", 6, 150 * time.Second, 25 * time.Second, endtoend.Run},
	{"micro", "Go micro-benchmarks", 2, 2 * time.Minute, 30 * time.Second, micro.Run},
}

// result is one section's outcome.
type result struct {
	entry
	section *benchkit.Section // nil when missing or failed
	err     error
	missing bool
	elapsed time.Duration
}

func (e entry) budget(quick bool) time.Duration {
	if quick {
		return e.quick
	}
	return e.full
}

func sectionNames(c *config) []string {
	var names []string
	for _, e := range sections {
		if len(c.only) == 0 || slices.Contains(c.only, e.name) {
			names = append(names, e.name)
		}
	}
	return names
}

// runSections runs every selected section in order, each with its own
// output directory under bench/out/harness/.
func runSections(ctx context.Context, c *config, base *benchkit.Env, root string) []result {
	var out []result
	for _, e := range sections {
		if len(c.only) > 0 && !slices.Contains(c.only, e.name) {
			continue
		}
		r := result{entry: e}
		if e.run == nil {
			r.missing = true
			logf("section %s: missing (package bench/internal/%s not wired in yet)", e.name, e.name)
			out = append(out, r)
			continue
		}
		env := *base
		env.Out = filepath.Join(root, "bench", "out", "harness", e.name)
		if err := os.MkdirAll(env.Out, 0o755); err != nil {
			r.err = err
			out = append(out, r)
			continue
		}
		logf("section %s: start (allocated %v)", e.name, e.budget(c.quick))
		t0 := time.Now()
		r.section, r.err = runOne(ctx, e, &env)
		r.elapsed = time.Since(t0)
		if r.section != nil {
			r.section.Elapsed = r.elapsed
		}
		logf("section %s: %.1fs (allocated %v), err=%v", e.name, r.elapsed.Seconds(), e.budget(c.quick), r.err)
		out = append(out, r)
	}
	return out
}

// runOne runs a section, turning a panic into an error so the other
// sections still run and their labs come down.
func runOne(ctx context.Context, e entry, env *benchkit.Env) (s *benchkit.Section, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return e.run(ctx, env)
}
