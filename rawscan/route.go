package rawscan

import (
	"net"
	"net/netip"
	"time"
)

// A Route is everything the transmitter needs to address frames: the
// interface, our IPv4 address and MAC, and the next hop's MAC.
type Route struct {
	// Interface is the outgoing interface's name.
	Interface string
	// Source is the IPv4 source address of probes.
	Source netip.Addr
	// SourceMAC is the interface's Ethernet address.
	SourceMAC net.HardwareAddr
	// Gateway is the next hop's address; invalid when GatewayMAC was
	// given and the route not looked up.
	Gateway netip.Addr
	// GatewayMAC is the next hop's Ethernet address.
	GatewayMAC net.HardwareAddr
	// GatewayFrom says where GatewayMAC came from: "flag", "neighbour"
	// (the kernel's table) or "arp" (our own request).
	GatewayFrom string
}

// RouteConfig configures FindRoute. Every field is an override (-i, -S,
// --source-mac, -G); zero fields are looked up.
type RouteConfig struct {
	// Interface names the outgoing interface; "" means the one of the
	// route to Destination.
	Interface string
	// Source is the source address; invalid means the route's preferred
	// source or the interface's first IPv4 address.
	Source netip.Addr
	// SourceMAC overrides the interface's MAC.
	SourceMAC net.HardwareAddr
	// GatewayMAC, when set, skips the neighbour lookup and ARP.
	GatewayMAC net.HardwareAddr
	// Destination selects the route; invalid means the default route.
	Destination netip.Addr
	// ARPTimeout bounds our own ARP resolution of the gateway; 0 means
	// 3 seconds (three requests, one a second).
	ARPTimeout time.Duration
	// NoARP makes FindRoute fail instead of sending ARP requests when
	// the gateway's MAC is not in the neighbour table (--dry-run sends
	// nothing).
	NoARP bool
	// Logf, if not nil, receives what was found and how.
	Logf func(format string, args ...any)
}
