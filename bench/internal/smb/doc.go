// Package smb is the bench harness's SMB probe section (issue #5):
// `smbsweep probe` against zgrab2 v0.2.0 `smb --setup-session` and nmap
// 7.93 with the script list, each run as a whole process inside
// the section's own lab (`smbsweep lab up --prefix bench-smb- --samba`),
// on the lab's 256 AnyIP hosts (one smbd for a /24) and on the Samba
// matrix plus impacket.
//
// It reports, per tool and configuration, the median and range over
// alternating repeats of wall time, hosts/s, client CPU per host
// (getrusage of the tool's process: user + system), peak RSS and hosts
// answered; the correctness of five facts per matrix server against the
// lab's ground truth (the Go port of labcompare/analyze.py); the prober
// alone against the in-process replay responder (BenchmarkRunReplayTCP);
// and 50,000 concurrent probes of silent hosts (silentbench).
//
// It is not a correctness test of smbsweep (that is the lab test
// TestIntegrationLab in package smbprobe): it scores every tool the same
// way, from its own output.
package smb
