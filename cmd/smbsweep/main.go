// Command smbsweep finds exposed SMB servers on IPv4 and says what each one is.
//
// It is a thin layer: each subcommand turns flags into the Config of one
// package (blocklist, rawscan, smbprobe, lab) and calls it. No scanning logic
// lives here.
//
// Subcommands:
//
//	targets  print the randomized target permutation (ZMap's ziterate)
//	scan     stateless SYN scan (ZMap's job)
//	probe    SMB facts for hosts given as arguments or on stdin
//	run      scan and probe in one streaming pipeline
//	merge    combine run outputs (shards, resumes), each host once
//	lab      the built-in simulated internet (network namespaces)
//	report   aggregate a results file into a page and a summary
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes, shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the operation failed
	exitUsage   = 2 // bad flags or arguments, a refused target
)

// command is one subcommand: its name, one line of help and its entry point.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"targets", "print targets in send order, or count them (no privileges, sends nothing)", runTargets},
		{"scan", "stateless SYN scan of the targets", runScan},
		{"probe", "SMB facts for hosts (args, stdin lines, or scan JSON lines)", runProbe},
		{"run", "scan and probe in one streaming pipeline", runRun},
		{"lab", "the built-in simulated internet: up, down, status", runLab},
		{"merge", "combine run outputs (shards, resumes), each host once", runMerge},
		{"report", "aggregate results into an HTML page and a text summary", runReport},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "smbsweep %s\n", version)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "smbsweep: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "smbsweep %s: find exposed SMB servers and say what each one is\n\nUsage: smbsweep COMMAND [flags] [args]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'smbsweep COMMAND -h' for a command's flags. 'smbsweep --version' prints the version.\n")
}
