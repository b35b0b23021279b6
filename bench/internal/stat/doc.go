// Package stat summarizes repeated benchmark measurements as a median with
// its spread (minimum and maximum), the form every table of the bench
// harness reports.
//
// It is not a statistics library: comparisons of Go benchmarks go through
// benchstat (bench/internal/micro), which also tests significance.
package stat
