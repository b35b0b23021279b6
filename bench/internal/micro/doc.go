// Package micro is the bench harness's Go micro-benchmark section: the
// per-packet and per-target hot paths (target generation, blocklist
// Contains, template stamping, reply decoding, an SMB probe over an
// in-memory replay of Samba) run with `go test -bench -benchmem`, reported
// as medians with allocations, and compared with the previous full run's
// raw output (bench/results/micro-baseline.txt) by benchstat.
//
// It is not a place for new benchmarks: they live beside the code they
// measure; this package only selects, runs and reads them.
package micro
