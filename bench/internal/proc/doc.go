// Package proc reads what the bench harness measures of a running peer
// process from procfs (proc(5)): its CPU time (utime+stime of all its
// threads) and its peak resident set (VmHWM). The harness starts every tool
// as a whole process inside a lab namespace and samples it over a window,
// the same way for smbsweep, ZMap, masscan and the bare C sender.
//
// It is not a profiler: per-function costs come from perf.
package proc
