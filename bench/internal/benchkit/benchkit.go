// Package benchkit is the shared vocabulary of smbsweep's benchmark harness
// (bench/cmd/bench, run by `make bench` and `make bench-quick`): the
// environment a section runs in, and what a section returns: Markdown for
// bench/RESULTS.md, goal verdicts for the goals-at-a-glance table, and data
// for plots.
//
// A section is one comparison (transmit, accuracy, SMB probe, end to end,
// Go micro-benchmarks). Each lives in its own package under bench/internal
// and exposes a Runner; the harness runs them in order, in one process, and
// writes their results. A section brings up and tears down its own lab
// (never touching the root network namespace) and names, in its Markdown,
// the exact commands behind each figure.
//
// It is not a measurement library: sections measure with whatever fits
// (interface counters, getrusage, go test -bench) and report medians of
// repeats with their spread.
package benchkit

import (
	"context"
	"time"
)

// Env is what the harness gives every section.
type Env struct {
	// Root is the repository root (absolute).
	Root string
	// Bin is the smbsweep binary the harness built (CGO_ENABLED=0) from
	// the tree under test.
	Bin string
	// Zgrab2 is the path of a zgrab2 v0.2.0 binary, or "" when it could
	// not be built (sections then report the peer as missing).
	Zgrab2 string
	// Quick asks for the bench-quick variant: fewer repeats, fewer
	// rates; the whole quick run must stay under 3 minutes.
	Quick bool
	// Repeats is how many times each measurement is repeated (≥ 3 in
	// the full run).
	Repeats int
	// Out is this section's directory for raw outputs (logs, JSON lines,
	// go test output), kept for inspection; created by the harness.
	Out string
	// Logf reports progress to the operator; never nil.
	Logf func(format string, args ...any)
}

// Section is one section's result.
type Section struct {
	// Name is the file stem of the section's outputs: "transmit",
	// "accuracy", "smb", "endtoend", "micro".
	Name string
	// Title is the section's heading in RESULTS.md.
	Title string
	// Markdown is the section's body: machine-independent prose is the
	// section's own; tables carry medians and spread; every figure's
	// source (command, counter) is named.
	Markdown string
	// Goals are the issue goals this section measured.
	Goals []Goal
	// Plots are drawn by the harness into bench/plots/<File>.
	Plots []Plot
	// Elapsed is how long the section took (set by the harness).
	Elapsed time.Duration
}

// Goal is one row of the goals-at-a-glance table.
type Goal struct {
	Issue    int    // issue number, e.g. 4
	Goal     string // the goal as the issue states it
	Measured string // what this run measured, with the ratio
	Met      bool   // whether this run shows the goal met
}

// Plot is a chart the harness draws with gonum/plot.
type Plot struct {
	File   string // file name under bench/plots/, e.g. "transmit-pps.svg"
	Title  string
	XLabel string
	YLabel string
	// Kind is "line" (X numeric, one line per series, with error bars
	// from Low/High when set) or "bar" (grouped bars; Labels name the
	// groups and every series has one Y per label).
	Kind   string
	Labels []string
	Series []Series
}

// Series is one tool or configuration in a Plot.
type Series struct {
	Name string
	X    []float64 // line plots only
	Y    []float64 // medians
	Low  []float64 // optional: lower end of the spread, same length as Y
	High []float64 // optional: upper end of the spread
}

// Runner runs one section. It returns an error only when the section could
// not run at all; a peer that is missing or a measurement that failed is
// reported in the Markdown (and its goal not met), not as an error.
type Runner func(ctx context.Context, env *Env) (*Section, error)
