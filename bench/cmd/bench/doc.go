// Command bench is smbsweep's benchmark harness: `make bench` (full, under
// 15 minutes) and `make bench-quick` (under 3). As root, it builds
// smbsweep (CGO_ENABLED=0) from this tree, makes sure the peers are there
// (ZMap, masscan and nmap from Debian through .ci/deps.sh bench; zgrab2
// v0.2.0 built from the Go module proxy in a scratch module, cached outside
// the repository), records the machine, runs every section in order, each
// in its own lab, draws the sections' plots into bench/plots/ and writes
// their Markdown and the goals table into bench/results/harness/, from
// which bench/assemble.sh writes bench/RESULTS.md.
//
// Usage:
//
//	go run ./bench/cmd/bench [-quick] [-only transmit,micro] [-no-assemble]
//
// Each section's elapsed time is printed next to its allocation; when the
// whole run exceeds its budget the harness still writes what it measured
// and exits with status 1, saying so.
package main
