package main

import "io"

// runLab is the 'lab' subcommand.
func runLab(args []string, stdout, stderr io.Writer) int {
	return notYet("lab", "#3", stderr)
}
