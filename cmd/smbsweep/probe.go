package main

import "io"

// runProbe is the 'probe' subcommand.
func runProbe(args []string, stdout, stderr io.Writer) int {
	return notYet("probe", "#5", stderr)
}
