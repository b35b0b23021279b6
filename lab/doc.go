// Package lab is smbsweep's simulated internet: network namespaces joined by
// veth pairs, answering 198.18.0.0/15 (RFC 2544) with real Samba servers and
// hostile hosts. Nothing in it is ever attached to the root namespace.
//
// A lab is a scanner namespace (PREFIX+"scan") with one interface, eth0, and
// a default route to a gateway in the "internet" namespace (PREFIX+"net").
// The internet namespace answers a whole range with the AnyIP trick
// (ip route add local RANGE dev lo) and an nftables table that decides, per
// address and port, from a seed, whether a SYN meets a listener (open), a
// reset (closed) or silence (filtered). Samba servers, impacket and the
// hostile hosts live in namespaces of their own, routed from the internet
// namespace. What the lab is expected to answer is written to a ground-truth
// file (see GroundTruth) that tests compare a scan with.
//
//	scanner ns          internet ns (AnyIP RANGE, nft open/closed/filtered)
//	 eth0 ──veth── scan0  │ ─veth─ PREFIX+"smb-nt1"  (smbd, one address)
//	 192.0.2.2     192.0.2.1 ─veth─ PREFIX+"smb-…"   (one per Samba config)
//	                      │ ─veth─ PREFIX+"anyip"    (one smbd, a whole /24)
//	                      │ ─veth─ PREFIX+"hostile"  (Go hostile hosts)
//
// With Delay, Jitter or Reorder, a wire namespace (PREFIX+"wire") sits in
// the scanner's link, eth0 ⇄ w0 [wire] w1 ⇄ scan0, and forwards frames late.
//
// Other packages test against a lab through labtest.New, and reach into it
// with Lab.Do (a locked OS thread inside the scanner namespace, for raw and
// AF_PACKET sockets), Lab.DialContext (kernel TCP from the scanner
// namespace, usable as a prober's dialer) and Lab.Command (ip netns exec).
// Lab.Capture records every frame the scanner namespace sends to a pcap
// file, and Outside lists the destinations in it that are outside an
// allowed set. Config.Loss (nft numgen) and Config.Rate (tbf) impair the
// scanner's link; Config.Delay, Jitter and Reorder need sch_netem. In sink
// mode, sink0 (ifb) and sink1 (a veth dropped at ingress) swallow frames
// for transmit-rate measurements, and Lab.Counters reads their counters.
//
// Every process the lab starts is recorded by PID under the state directory
// (/run/smbsweep-lab/PREFIX/), and Down removes everything with a prefix,
// also after a crash. Programs that import lab can be re-executed as the
// lab's helper (listeners and hostile hosts): see the init function in
// helper_linux.go, which follows the reexec pattern.
//
// Lab is for tests, benchmarks and rehearsals, as root, on Linux. It is not
// a network emulator for anything but scanning (no DNS, no IPv6), and it is
// not safe against a hostile local root.
package lab
