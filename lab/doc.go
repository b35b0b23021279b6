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
