package rawscan

import (
	"net/netip"
	"time"
)

// Kind classifies a validated reply.
type Kind uint8

// Reply kinds.
const (
	// KindSynAck is a SYN-ACK: the port is open.
	KindSynAck Kind = iota + 1
	// KindRST is an RST: the host is up and the port closed.
	KindRST
	// KindICMPUnreach is an ICMP destination unreachable quoting our
	// probe: filtered, or no such host.
	KindICMPUnreach
)

// String returns the kind as used in output: "synack", "rst",
// "icmp-unreach".
func (k Kind) String() string {
	switch k {
	case KindSynAck:
		return "synack"
	case KindRST:
		return "rst"
	case KindICMPUnreach:
		return "icmp-unreach"
	}
	return "unknown"
}

// Flags mark results the scanner has doubts about.
type Flags uint8

// Result flags.
const (
	// FlagSuspectProxy marks a SYN-ACK from a /24 in which so many
	// addresses answer, with so uniform a TTL, window and MSS, that a SYN
	// proxy or tarpit is more likely than real hosts (naabu #1738).
	FlagSuspectProxy Flags = 1 << iota
)

// SuspectProxyName is how the output of run and report spell
// FlagSuspectProxy (a record's "scan":{"flags":[…]}).
const SuspectProxyName = "suspect-proxy"

// A Result is one validated reply to a probe.
type Result struct {
	// Addr and Port are the target that answered.
	Addr netip.Addr
	Port uint16
	// Kind says what the answer was.
	Kind Kind
	// TTL is the reply's IPv4 time to live.
	TTL uint8
	// Window and MSS are the TCP window and MSS option (0 if absent) of a
	// SYN-ACK or RST.
	Window, MSS uint16
	// ICMPType and ICMPCode are set for KindICMPUnreach.
	ICMPType, ICMPCode uint8
	// Time is when the receiver read the reply.
	Time time.Time
	// Flags records doubts, such as FlagSuspectProxy.
	Flags Flags
}

// Verdict is the outcome of checking a Reply against the cookie.
type Verdict uint8

// Verdicts.
const (
	// Stray: not addressed to the scan (other traffic on the interface,
	// or a port outside the scan's source-port range).
	Stray Verdict = iota
	// Forged: addressed to the scan but the cookie does not match.
	Forged
	// Valid: a genuine answer to one of our probes.
	Valid
)

// A Validator decides statelessly whether a reply answers one of our probes,
// by recomputing the cookie (ZMap's src/validate.c and
// synscan_validate_packet in module_tcp_synscan.c).
//
// A Validator is not safe for concurrent use (its Cookie is not).
type Validator struct {
	cookie *Cookie
	src    netip.Addr
	ports  PortRange
	probes uint32
}

// NewValidator returns a Validator for probes sent from src with source
// ports in ports, probes per target.
func NewValidator(c *Cookie, src netip.Addr, ports PortRange, probes int) *Validator {
	if probes < 1 {
		probes = 1
	}
	return &Validator{cookie: c, src: src, ports: ports, probes: uint32(probes)}
}

// sourcePort returns the source port of probe k to a target whose Validation
// is v.
func sourcePort(ports PortRange, v Validation, k uint32) uint16 {
	return ports.First + uint16((v.PortOffset+k)%ports.Size())
}

// portMatches reports whether p is the source port of one of the first
// probes probes for v.
func portMatches(ports PortRange, v Validation, probes uint32, p uint16) bool {
	n := ports.Size()
	k := (uint32(p-ports.First) + n - v.PortOffset%n) % n
	return k < probes
}

// Check validates r and fills res when it is Valid. It does not allocate.
func (v *Validator) Check(r *Reply, res *Result) Verdict {
	if r.Dst != v.src {
		return Stray
	}
	switch r.Proto {
	case protoTCP:
		if !v.ports.Contains(r.DstPort) {
			return Stray
		}
		c := v.cookie.Sum(v.src, r.Src, r.SrcPort)
		if !portMatches(v.ports, c, v.probes, r.DstPort) {
			return Forged
		}
		switch {
		case r.TCPFlags&(tcpSYN|tcpACK|tcpRST) == tcpSYN|tcpACK && r.Ack == c.Seq+1:
			res.Kind = KindSynAck
		case r.TCPFlags&tcpRST != 0 && r.TCPFlags&tcpSYN == 0 && (r.Ack == c.Seq || r.Ack == c.Seq+1):
			res.Kind = KindRST
		default:
			return Forged
		}
		res.Addr, res.Port = r.Src, r.SrcPort
		res.TTL, res.Window, res.MSS = r.TTL, r.Window, r.MSS
		res.ICMPType, res.ICMPCode = 0, 0
		return Valid
	case protoICMP:
		if r.ICMPType != icmpDestUnreach || r.InnerSrc != v.src || !v.ports.Contains(r.InnerSrcPort) {
			return Stray
		}
		c := v.cookie.Sum(v.src, r.InnerDst, r.InnerDstPort)
		if r.InnerSeq != c.Seq || !portMatches(v.ports, c, v.probes, r.InnerSrcPort) {
			return Forged
		}
		res.Kind = KindICMPUnreach
		res.Addr, res.Port = r.InnerDst, r.InnerDstPort
		res.TTL, res.Window, res.MSS = r.TTL, 0, 0
		res.ICMPType, res.ICMPCode = r.ICMPType, r.ICMPCode
		return Valid
	}
	return Stray
}
