package main

import "io"

// runReport is the 'report' subcommand.
func runReport(args []string, stdout, stderr io.Writer) int {
	return notYet("report", "#7", stderr)
}
