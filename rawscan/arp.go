package rawscan

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// ARP over Ethernet for IPv4 (RFC 826): a 14-byte Ethernet header and a
// 28-byte ARP packet.
const (
	etherTypeARP = 0x0806
	arpLen       = 28
	arpRequest   = 1
	arpReply     = 2
)

var errNotARPReply = errors.New("rawscan: not an ARP reply")

// arpRequestFrame builds a broadcast ARP request asking who has target,
// from srcIP at srcMAC.
func arpRequestFrame(srcMAC net.HardwareAddr, srcIP, target netip.Addr) []byte {
	f := make([]byte, ethLen+arpLen)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], srcMAC)
	binary.BigEndian.PutUint16(f[12:], etherTypeARP)
	a := f[ethLen:]
	binary.BigEndian.PutUint16(a[0:], 1) // hardware type Ethernet
	binary.BigEndian.PutUint16(a[2:], etherTypeIPv4)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], arpRequest)
	copy(a[8:14], srcMAC)
	s, t := srcIP.As4(), target.As4()
	copy(a[14:18], s[:])
	copy(a[24:28], t[:])
	return f
}

// parseARPReply returns the sender of an Ethernet ARP reply for IPv4.
func parseARPReply(f []byte) (netip.Addr, net.HardwareAddr, error) {
	if len(f) < ethLen+arpLen || binary.BigEndian.Uint16(f[12:]) != etherTypeARP {
		return netip.Addr{}, nil, errNotARPReply
	}
	a := f[ethLen:]
	if binary.BigEndian.Uint16(a[0:]) != 1 || binary.BigEndian.Uint16(a[2:]) != etherTypeIPv4 ||
		a[4] != 6 || a[5] != 4 || binary.BigEndian.Uint16(a[6:]) != arpReply {
		return netip.Addr{}, nil, errNotARPReply
	}
	return netip.AddrFrom4([4]byte(a[14:18])), net.HardwareAddr(append([]byte(nil), a[8:14]...)), nil
}
