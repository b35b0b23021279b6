package main

// merge: combine the outputs of shards, or of a run and its resumes, into
// one with each host once (pipeline.Merge).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/smbsweep/smbsweep/rawscan/pipeline"
)

// runMerge is the 'merge' subcommand. The lead wires it into commands().
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smbsweep merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "-", "merged output file (- = stdout)")
	quiet := fs.Bool("q", false, "no summary on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: smbsweep merge [-o FILE] OUTPUT...

Combines 'smbsweep run' outputs (JSON lines or CSV, one format) of shards,
or of a run and its resumes, writing each host (ip, port) once: the first
record of a host wins. Torn last lines are dropped.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "smbsweep merge: no OUTPUT files given\n")
		return exitUsage
	}
	var srcs []io.Reader
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep merge: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		srcs = append(srcs, f)
	}
	var dst io.Writer = stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep merge: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		dst = f
	}
	st, err := pipeline.Merge(dst, srcs...)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep merge: %v\n", err)
		return exitFailure
	}
	if !*quiet {
		fmt.Fprintf(stderr, "smbsweep merge: %d hosts from %d files, %d duplicates dropped\n", st.Records, fs.NArg(), st.Duplicates)
	}
	return exitOK
}
