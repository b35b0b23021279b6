package rawscan

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// Frame layout of a SYN probe. Ethernet II (IEEE 802.3 clause 3.1.1), IPv4
// without options (RFC 791 section 3.1), TCP (RFC 9293 section 3.1) with the
// option block Windows sends, which ZMap also sends
// (src/probe_modules/packet.c): MSS, NOP, window scale, NOP, NOP,
// SACK-permitted.
const (
	ethLen     = 14
	ipv4Len    = 20
	tcpBaseLen = 20

	offEthDst  = 0
	offEthSrc  = 6
	offEthType = 12

	offIP      = ethLen
	offIPLen   = offIP + 2
	offIPID    = offIP + 4
	offIPFrag  = offIP + 6
	offIPTTL   = offIP + 8
	offIPProto = offIP + 9
	offIPSum   = offIP + 10
	offIPSrc   = offIP + 12
	offIPDst   = offIP + 16

	offTCP      = offIP + ipv4Len
	offTCPSport = offTCP
	offTCPDport = offTCP + 2
	offTCPSeq   = offTCP + 4
	offTCPAck   = offTCP + 8
	offTCPOff   = offTCP + 12
	offTCPFlags = offTCP + 13
	offTCPWin   = offTCP + 14
	offTCPSum   = offTCP + 16
	offTCPOpts  = offTCP + tcpBaseLen

	etherTypeIPv4 = 0x0800
	protoICMP     = 1
	protoTCP      = 6

	// TCP flag bits, RFC 9293 section 3.1.
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// synOptions is the TCP option block of every probe: MSS 1460, NOP, window
// scale 2, NOP, NOP, SACK-permitted (RFC 9293 section 3.2, RFC 7323 section
// 2.2, RFC 2018 section 2).
var synOptions = [...]byte{2, 4, 0x05, 0xb4, 1, 3, 3, 2, 1, 1, 4, 2}

// FrameLen is the length in bytes of every probe frame.
const FrameLen = offTCPOpts + len(synOptions)

// DefaultTTL is the IPv4 time to live of probes when TemplateConfig.TTL is
// zero, as in ZMap.
const DefaultTTL = 64

// errTemplate is returned for a template configuration that cannot build a
// frame.
var errTemplate = errors.New("rawscan: invalid template")

// TemplateConfig describes the constant part of every probe.
type TemplateConfig struct {
	// SourceMAC and GatewayMAC are the Ethernet source and destination.
	SourceMAC, GatewayMAC net.HardwareAddr
	// Source is the IPv4 source address.
	Source netip.Addr
	// TTL is the IPv4 time to live; 0 means DefaultTTL.
	TTL uint8
	// Window is the TCP window; 0 means 65535.
	Window uint16
}

// A Template is a prebuilt SYN frame plus the partial checksums of its
// constant fields. Stamp writes the per-target fields into a copy of the
// frame and finishes both checksums from those partial sums, so stamping a
// probe costs a few stores and additions.
//
// A Template is immutable after NewTemplate and safe for concurrent use.
type Template struct {
	frame [FrameLen]byte
	// ipSum is the one's-complement sum of the IPv4 header with the
	// identification, destination and checksum fields zero.
	ipSum uint32
	// tcpSum is the sum of the TCP pseudo-header (RFC 9293 section 3.1)
	// and TCP header with destination address, ports, sequence number and
	// checksum zero.
	tcpSum uint32
}

// NewTemplate builds the template frame.
func NewTemplate(cfg *TemplateConfig) (*Template, error) {
	if cfg == nil {
		cfg = &TemplateConfig{}
	}
	if len(cfg.SourceMAC) != 6 || len(cfg.GatewayMAC) != 6 {
		return nil, errors.Join(errTemplate, errors.New("rawscan: source and gateway MAC must be 6-byte Ethernet addresses"))
	}
	if !cfg.Source.Is4() {
		return nil, errors.Join(errTemplate, errors.New("rawscan: source address must be IPv4"))
	}
	ttl, win := cfg.TTL, cfg.Window
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if win == 0 {
		win = 65535
	}
	t := &Template{}
	f := t.frame[:]
	copy(f[offEthDst:], cfg.GatewayMAC)
	copy(f[offEthSrc:], cfg.SourceMAC)
	binary.BigEndian.PutUint16(f[offEthType:], etherTypeIPv4)

	f[offIP] = 0x45 // version 4, IHL 5 words
	binary.BigEndian.PutUint16(f[offIPLen:], uint16(FrameLen-ethLen))
	binary.BigEndian.PutUint16(f[offIPFrag:], 0x4000) // DF, as Linux sends SYNs
	f[offIPTTL] = ttl
	f[offIPProto] = protoTCP
	src := cfg.Source.As4()
	copy(f[offIPSrc:], src[:])

	f[offTCPOff] = byte((tcpBaseLen+len(synOptions))/4) << 4
	f[offTCPFlags] = tcpSYN
	binary.BigEndian.PutUint16(f[offTCPWin:], win)
	copy(f[offTCPOpts:], synOptions[:])

	t.ipSum = sum16(0, f[offIP:offTCP])
	tcpLen := FrameLen - offTCP
	t.tcpSum = sum16(0, src[:]) + protoTCP + uint32(tcpLen)
	t.tcpSum = sum16(t.tcpSum, f[offTCP:])
	return t, nil
}

// Frame copies the template frame into dst, which must hold FrameLen bytes,
// and returns dst[:FrameLen]. Stamp then overwrites only the variable fields,
// so each batch slot is filled once.
func (t *Template) Frame(dst []byte) []byte {
	return dst[:copy(dst[:FrameLen], t.frame[:])]
}

// Stamp writes the destination address, destination and source ports,
// sequence number and IP ID into frame, a copy made by Frame, and sets both
// checksums. dst must be IPv4. Stamp does not allocate.
func (t *Template) Stamp(frame []byte, dst netip.Addr, dport, sport uint16, seq uint32, ipid uint16) {
	f := frame[:FrameLen:FrameLen]
	d := dst.As4()
	copy(f[offIPDst:offIPDst+4], d[:])
	binary.BigEndian.PutUint16(f[offIPID:], ipid)
	binary.BigEndian.PutUint16(f[offTCPSport:], sport)
	binary.BigEndian.PutUint16(f[offTCPDport:], dport)
	binary.BigEndian.PutUint32(f[offTCPSeq:], seq)

	dhi := uint32(d[0])<<8 | uint32(d[1])
	dlo := uint32(d[2])<<8 | uint32(d[3])
	binary.BigEndian.PutUint16(f[offIPSum:], fold(t.ipSum+dhi+dlo+uint32(ipid)))
	s := t.tcpSum + dhi + dlo + uint32(sport) + uint32(dport) + seq>>16 + seq&0xffff
	binary.BigEndian.PutUint16(f[offTCPSum:], fold(s))
}
