package main

import "io"

// runTargets is the 'targets' subcommand.
func runTargets(args []string, stdout, stderr io.Writer) int {
	return notYet("targets", "#2", stderr)
}
