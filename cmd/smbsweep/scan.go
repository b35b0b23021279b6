package main

import "io"

// runScan is the 'scan' subcommand.
func runScan(args []string, stdout, stderr io.Writer) int {
	return notYet("scan", "#4", stderr)
}
