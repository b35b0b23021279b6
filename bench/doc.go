// Package bench holds smbsweep's side-by-side benchmarks against ZMap,
// masscan, zgrab2 and nmap. Results are recorded in RESULTS.md.
package bench
