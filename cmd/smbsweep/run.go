package main

import "io"

// runRun is the 'run' subcommand.
func runRun(args []string, stdout, stderr io.Writer) int {
	return notYet("run", "#6", stderr)
}
