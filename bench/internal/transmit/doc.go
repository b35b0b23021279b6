// Package transmit is the bench harness's transmit section (issue #4):
// packets per second that reach the wire for smbsweep, ZMap and masscan at
// requested rates of 100 k, 300 k, 1 M pps and unlimited, with 1 and 2
// sender threads, against the bare C sendmmsg sender of
// bench/ceiling/ceiling.c as the kernel's ceiling.
//
// Every tool runs as a whole process in the scanner namespace of a lab
// with transmit sinks (`smbsweep lab up --sink`) and sends to sink1, a veth
// whose far end drops every frame at ingress; targets are 198.18.0.0/15
// only. The figures are read from outside the tools: pps from sink1's
// tx_packets counter over a fixed window after a warm-up, CPU per packet
// from the process's utime+stime (proc(5)) over the same window, peak RSS
// from VmHWM. Configurations are measured round-robin, one run of each per
// repeat, so load from other processes spreads over all of them; tables
// give the median of the repeats and their range.
//
// It is not a receive or accuracy benchmark (package accuracy is).
package transmit
