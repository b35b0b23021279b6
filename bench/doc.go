// Package bench holds smbsweep's side-by-side benchmarks against ZMap,
// masscan, zgrab2 and nmap. The harness is bench/cmd/bench (`make bench`,
// `make bench-quick`); each comparison is a section package under
// bench/internal; results go to bench/results/harness/ and bench/plots/,
// and bench/assemble.sh writes them, with the hand-written per-area notes
// of bench/results/, into RESULTS.md.
package bench
