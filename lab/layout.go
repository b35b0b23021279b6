package lab

import (
	"net/netip"
)

// The scanner's link into the lab is TEST-NET-1 (RFC 5737 §3), outside the
// simulated internet, so a scan of the whole range never hits its gateway.
var (
	scannerIP = netip.MustParseAddr("192.0.2.2")
	gatewayIP = netip.MustParseAddr("192.0.2.1")
	linkNet   = netip.MustParsePrefix("192.0.2.0/24")
	// serviceGW is the internet namespace's side of every service veth:
	// one link-local address (RFC 3927), reused on each link.
	serviceGW = netip.MustParseAddr("169.254.0.1")
)

// Fixed, locally administered MACs (the 0x02 bit of the first octet,
// IEEE 802 §8.2.2), so Status needs no netlink query.
const (
	scannerMAC = "02:53:4d:42:00:02"
	gatewayMAC = "02:53:4d:42:00:01"
)

// Interface names inside the lab namespaces. They need not be unique across
// labs: each lives only in its own namespace.
const (
	scannerIf = "eth0"
	gatewayIf = "scan0"
)

// layout places the servers and hostile hosts inside the range: its last
// /24 holds single-address services, the one before it the AnyIP smbd, the
// one before that the SYN-proxy range. It is used only when Samba or Hostile
// is set; the range is then at least a /22.
type layout struct {
	services netip.Prefix // last /24: one address per server or hostile host
	anyip    netip.Prefix // second-to-last /24: one smbd for all of it
	synproxy netip.Prefix // third-to-last /24: SYN-ACK on every port
}

func newLayout(r netip.Prefix) layout {
	last := lastAddr(r)
	b := last.As4()
	b[3] = 0
	services := netip.PrefixFrom(netip.AddrFrom4(b), 24)
	b[2]--
	anyip := netip.PrefixFrom(netip.AddrFrom4(b), 24)
	b[2]--
	synproxy := netip.PrefixFrom(netip.AddrFrom4(b), 24)
	return layout{services: services, anyip: anyip, synproxy: synproxy}
}

// reserved is the part of the range that the seeded draw never uses.
func (l layout) reserved() []netip.Prefix {
	return []netip.Prefix{l.synproxy, l.anyip, l.services}
}

// host returns the address with the given last octet in the services /24.
func (l layout) host(octet byte) netip.Addr {
	b := l.services.Addr().As4()
	b[3] = octet
	return netip.AddrFrom4(b)
}

// lastAddr is the highest address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= ^uint32(0) >> p.Bits()
	if p.Bits() == 0 {
		v = ^uint32(0)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
