package rawscantest

import (
	"encoding/binary"
	"net/netip"
)

// Segment describes a TCP segment or ICMP message to build as an Ethernet
// frame with Build.
type Segment struct {
	SrcMAC, DstMAC   [6]byte
	Src, Dst         netip.Addr
	TTL              uint8
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	// Flags are the TCP flags (RFC 9293 section 3.1): SYN 0x02, RST
	// 0x04, ACK 0x10.
	Flags  uint8
	Window uint16
	// MSS, when non-zero, adds an MSS option.
	MSS uint16
	// ICMP, when non-nil, makes Build emit an ICMP message quoting these
	// bytes (an IPv4 header and at least 8 bytes of TCP) instead of TCP.
	ICMP     []byte
	ICMPType uint8
	ICMPCode uint8
}

// TCP flag bits (RFC 9293 section 3.1).
const (
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

func csum(b []byte, s uint32) uint16 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// Build returns the frame s describes, with correct IPv4 and TCP or ICMP
// checksums.
func Build(s *Segment) []byte {
	var l4 []byte
	proto := byte(6)
	if s.ICMP != nil {
		proto = 1
		l4 = make([]byte, 8+len(s.ICMP))
		l4[0], l4[1] = s.ICMPType, s.ICMPCode
		copy(l4[8:], s.ICMP)
		binary.BigEndian.PutUint16(l4[2:], csum(l4, 0))
	} else {
		hl := 20
		if s.MSS != 0 {
			hl = 24
		}
		l4 = make([]byte, hl)
		binary.BigEndian.PutUint16(l4[0:], s.SrcPort)
		binary.BigEndian.PutUint16(l4[2:], s.DstPort)
		binary.BigEndian.PutUint32(l4[4:], s.Seq)
		binary.BigEndian.PutUint32(l4[8:], s.Ack)
		l4[12] = byte(hl/4) << 4
		l4[13] = s.Flags
		binary.BigEndian.PutUint16(l4[14:], s.Window)
		if s.MSS != 0 {
			l4[20], l4[21] = 2, 4
			binary.BigEndian.PutUint16(l4[22:], s.MSS)
		}
		src, dst := s.Src.As4(), s.Dst.As4()
		var ph [12]byte
		copy(ph[0:], src[:])
		copy(ph[4:], dst[:])
		ph[9] = 6
		binary.BigEndian.PutUint16(ph[10:], uint16(len(l4)))
		var sum uint32
		for i := 0; i < 12; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ph[i:]))
		}
		binary.BigEndian.PutUint16(l4[16:], csum(l4, sum))
	}
	f := make([]byte, 14+20+len(l4))
	copy(f[0:], s.DstMAC[:])
	copy(f[6:], s.SrcMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	ip[8] = s.TTL
	ip[9] = proto
	src, dst := s.Src.As4(), s.Dst.As4()
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	binary.BigEndian.PutUint16(ip[10:], csum(ip, 0))
	copy(f[34:], l4)
	return f
}

// Probe is what the fake network reads from a SYN frame.
type Probe struct {
	SrcMAC, DstMAC   [6]byte
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Seq              uint32
	Flags            uint8
	// IP is the IPv4 header and first 8 bytes of TCP, for quoting in ICMP.
	IP []byte
}

// ParseProbe reads an Ethernet/IPv4/TCP frame without options in the IPv4
// header. It reports false for anything else.
func ParseProbe(f []byte) (Probe, bool) {
	if len(f) < 14+20+20 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14] != 0x45 || f[23] != 6 {
		return Probe{}, false
	}
	var p Probe
	copy(p.DstMAC[:], f[0:6])
	copy(p.SrcMAC[:], f[6:12])
	p.Src = netip.AddrFrom4([4]byte(f[26:30]))
	p.Dst = netip.AddrFrom4([4]byte(f[30:34]))
	p.SrcPort = binary.BigEndian.Uint16(f[34:])
	p.DstPort = binary.BigEndian.Uint16(f[36:])
	p.Seq = binary.BigEndian.Uint32(f[38:])
	p.Flags = f[47]
	p.IP = append([]byte(nil), f[14:14+28]...)
	return p, true
}
