package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/smbsweep/smbsweep/smbprobe/report"
)

// runReport is the 'report' subcommand: flags → report.Config, the results
// file (or stdin) → report.Aggregator, then an HTML page and a text
// summary on stdout.
func runReport(args []string, stdout, stderr io.Writer) int {
	return reportMain(args, os.Stdin, stdout, stderr)
}

func reportMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: smbsweep report [flags] RESULTS.jsonl|-

Aggregates result lines of 'smbsweep probe' or 'smbsweep run' (one JSON
object per line; "-" reads stdin) in bounded memory, writes one
self-contained HTML page, and prints a plain-text summary on stdout.
Malformed lines are counted and listed by number, not fatal.

Flags may come before or after the file name.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		out       = fs.String("o", "report.html", `HTML page to write ("" for none)`)
		top       = fs.Int("top", report.DefaultTop, "rows per table")
		maxValues = fs.Int("max-values", report.DefaultMaxValues, "distinct values tracked per table (bounds memory)")
		verbose   = fs.Bool("v", false, "log each malformed line to stderr")
	)
	// Go's flag package stops at the first argument; accept flags after
	// the file name too ('smbsweep report results.jsonl -o r.html').
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "smbsweep report: want one results file (or -), got %d\n", len(files))
		fs.Usage()
		return exitUsage
	}
	if *top <= 0 || *maxValues <= 0 {
		fmt.Fprintf(stderr, "smbsweep report: -top and -max-values must be positive\n")
		return exitUsage
	}
	cfg := &report.Config{Top: *top, MaxValues: *maxValues}
	if *verbose {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}

	in, name := stdin, "stdin"
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep report: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		in, name = f, files[0]
	}
	agg := report.New(cfg)
	if _, err := agg.ReadFrom(in); err != nil {
		fmt.Fprintf(stderr, "smbsweep report: %s: %v\n", name, err)
		return exitFailure
	}
	s := agg.Summary()
	s.Source = filepath.Base(name)

	if *out != "" {
		if err := writeFileAtomic(*out, s.WriteHTML); err != nil {
			fmt.Fprintf(stderr, "smbsweep report: %v\n", err)
			return exitFailure
		}
	}
	if err := s.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "smbsweep report: writing summary: %v\n", err)
		return exitFailure
	}
	if s.Malformed > 0 {
		fmt.Fprintf(stderr, "smbsweep report: %s: malformed lines skipped: %d (first: line %d)\n", name, s.Malformed, s.MalformedLines[0].Line)
	}
	if *out != "" {
		fmt.Fprintf(stderr, "smbsweep report: wrote %s\n", *out)
	}
	return exitOK
}

// writeFileAtomic writes path through a temporary file in the same
// directory and renames it into place, so a failed run leaves no half page.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
