package rawscan

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ICMP constants, RFC 792.
const (
	icmpDestUnreach = 3
	icmpHeaderLen   = 8
	// icmpInnerMin is the part of the quoted datagram a reply must carry:
	// its IPv4 header plus the first 8 bytes of TCP (ports and sequence
	// number), which RFC 792 requires routers to include.
	icmpInnerMin = ipv4Len + 8
)

// Errors returned by Reply.Decode. Each names why a frame is not a reply the
// scanner can use; the receiver counts them, it does not log them.
var (
	ErrShortFrame  = errors.New("rawscan: frame too short")
	ErrNotIPv4     = errors.New("rawscan: not an IPv4 frame")
	ErrFragment    = errors.New("rawscan: IPv4 fragment")
	ErrNotReply    = errors.New("rawscan: neither TCP nor ICMP destination unreachable")
	ErrBadIPHeader = errors.New("rawscan: malformed IPv4 header")
)

// A Reply is a decoded candidate answer to a probe: a TCP segment or an ICMP
// destination-unreachable message quoting a TCP segment. Decode fills it in
// place from fixed offsets; it holds no references to the frame.
type Reply struct {
	// Src and Dst are the outer IPv4 addresses.
	Src, Dst netip.Addr
	// TTL is the outer IPv4 time to live.
	TTL uint8
	// Proto is the IPv4 protocol: 6 (TCP) or 1 (ICMP).
	Proto uint8

	// TCP fields, set when Proto is 6.
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	TCPFlags         uint8
	Window           uint16
	// MSS is the maximum-segment-size option, 0 when absent.
	MSS uint16

	// ICMP fields, set when Proto is 1.
	ICMPType, ICMPCode uint8
	// InnerSrc and InnerDst are the addresses of the quoted datagram (our
	// probe): InnerDst is the target.
	InnerSrc, InnerDst netip.Addr
	// InnerSrcPort, InnerDstPort and InnerSeq come from the quoted TCP
	// header.
	InnerSrcPort, InnerDstPort uint16
	InnerSeq                   uint32
}

// Decode parses an Ethernet frame into r. It checks every length before it
// reads and never allocates. On error r is left partly written.
func (r *Reply) Decode(frame []byte) error {
	if len(frame) < ethLen+ipv4Len {
		return ErrShortFrame
	}
	if binary.BigEndian.Uint16(frame[offEthType:]) != etherTypeIPv4 {
		return ErrNotIPv4
	}
	ip := frame[ethLen:]
	payload, err := r.decodeIPv4(ip)
	if err != nil {
		return err
	}
	r.Src = netip.AddrFrom4([4]byte(ip[12:16]))
	r.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
	r.TTL = ip[8]
	r.Proto = ip[9]
	switch r.Proto {
	case protoTCP:
		return r.decodeTCP(payload)
	case protoICMP:
		return r.decodeICMP(payload)
	}
	return ErrNotReply
}

// decodeIPv4 checks an IPv4 header (RFC 791 section 3.1) and returns its
// payload, trimmed to the total length (Ethernet may pad short frames).
func (r *Reply) decodeIPv4(ip []byte) ([]byte, error) {
	if ip[0]>>4 != 4 {
		return nil, ErrNotIPv4
	}
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < ipv4Len || total < ihl || total > len(ip) {
		return nil, ErrBadIPHeader
	}
	// More-fragments set or a non-zero offset: the transport header may
	// not be here.
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		return nil, ErrFragment
	}
	return ip[ihl:total], nil
}

// decodeTCP reads a TCP header (RFC 9293 section 3.1) and its MSS option.
func (r *Reply) decodeTCP(b []byte) error {
	if len(b) < tcpBaseLen {
		return ErrShortFrame
	}
	r.SrcPort = binary.BigEndian.Uint16(b[0:])
	r.DstPort = binary.BigEndian.Uint16(b[2:])
	r.Seq = binary.BigEndian.Uint32(b[4:])
	r.Ack = binary.BigEndian.Uint32(b[8:])
	r.TCPFlags = b[13]
	r.Window = binary.BigEndian.Uint16(b[14:])
	r.MSS = 0
	off := int(b[12]>>4) * 4
	if off < tcpBaseLen || off > len(b) {
		return ErrShortFrame
	}
	r.MSS = findMSS(b[tcpBaseLen:off])
	return nil
}

// findMSS walks a TCP option list (RFC 9293 section 3.2) and returns the MSS
// value, 0 when absent or malformed.
func findMSS(opts []byte) uint16 {
	for len(opts) > 0 {
		switch kind := opts[0]; kind {
		case 0: // end of option list
			return 0
		case 1: // no-operation
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return 0
		}
		if opts[0] == 2 && opts[1] == 4 {
			return binary.BigEndian.Uint16(opts[2:4])
		}
		opts = opts[opts[1]:]
	}
	return 0
}

// decodeICMP reads an ICMP destination-unreachable message (RFC 792) and the
// IPv4 and TCP headers it quotes.
func (r *Reply) decodeICMP(b []byte) error {
	if len(b) < icmpHeaderLen {
		return ErrShortFrame
	}
	r.ICMPType, r.ICMPCode = b[0], b[1]
	if r.ICMPType != icmpDestUnreach {
		return ErrNotReply
	}
	in := b[icmpHeaderLen:]
	if len(in) < icmpInnerMin || in[0]>>4 != 4 {
		return ErrShortFrame
	}
	ihl := int(in[0]&0x0f) * 4
	if ihl < ipv4Len || len(in) < ihl+8 {
		return ErrShortFrame
	}
	if in[9] != protoTCP {
		return ErrNotReply
	}
	r.InnerSrc = netip.AddrFrom4([4]byte(in[12:16]))
	r.InnerDst = netip.AddrFrom4([4]byte(in[16:20]))
	t := in[ihl:]
	r.InnerSrcPort = binary.BigEndian.Uint16(t[0:])
	r.InnerDstPort = binary.BigEndian.Uint16(t[2:])
	r.InnerSeq = binary.BigEndian.Uint32(t[4:])
	return nil
}
