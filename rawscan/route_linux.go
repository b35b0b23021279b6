//go:build linux

package rawscan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoRoute is returned when no usable IPv4 route, source address or
// gateway MAC can be found.
var ErrNoRoute = errors.New("rawscan: no usable route")

// FindRoute finds the interface, source address and gateway MAC for a scan
// from the kernel's routing and neighbour tables (rtnetlink(7)) of the
// calling thread's network namespace. When the gateway's MAC is not in the
// neighbour table (a fresh VPS, a Kubernetes pod) it sends ARP requests
// itself on the interface, which needs CAP_NET_RAW.
func FindRoute(ctx context.Context, cfg *RouteConfig) (*Route, error) {
	if cfg == nil {
		cfg = &RouteConfig{}
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	rt := &Route{Source: cfg.Source, SourceMAC: cfg.SourceMAC, GatewayMAC: cfg.GatewayMAC}
	var ifi *net.Interface
	var err error
	if cfg.Interface != "" {
		if ifi, err = net.InterfaceByName(cfg.Interface); err != nil {
			return nil, fmt.Errorf("%w: interface %q: %w", ErrNoRoute, cfg.Interface, err)
		}
	}
	var prefSrc netip.Addr
	if len(rt.GatewayMAC) == 0 || ifi == nil {
		r, err := lookupRoute(cfg.Destination, ifi)
		if err != nil {
			return nil, err
		}
		rt.Gateway, prefSrc = r.gateway, r.prefSrc
		if ifi == nil {
			if ifi, err = net.InterfaceByIndex(r.oif); err != nil {
				return nil, fmt.Errorf("%w: interface %d: %w", ErrNoRoute, r.oif, err)
			}
		}
	}
	rt.Interface = ifi.Name
	if len(rt.SourceMAC) == 0 {
		rt.SourceMAC = ifi.HardwareAddr
	}
	if len(rt.SourceMAC) != 6 {
		return nil, fmt.Errorf("%w: interface %s has no Ethernet address (give --source-mac)", ErrNoRoute, ifi.Name)
	}
	if !rt.Source.IsValid() {
		rt.Source = prefSrc
	}
	if !rt.Source.IsValid() {
		if rt.Source, err = firstIPv4(ifi); err != nil {
			return nil, err
		}
	}
	switch {
	case len(rt.GatewayMAC) != 0:
		rt.GatewayFrom = "flag"
	case !rt.Gateway.IsValid():
		return nil, fmt.Errorf("%w: the route to %v has no gateway (on-link targets each need their own MAC); give -G", ErrNoRoute, cfg.Destination)
	default:
		if mac, ok, err := lookupNeighbour(ifi.Index, rt.Gateway); err != nil {
			return nil, err
		} else if ok {
			rt.GatewayMAC, rt.GatewayFrom = mac, "neighbour"
		} else if cfg.NoARP {
			return nil, fmt.Errorf("%w: gateway %v not in the neighbour table of %s", ErrNoRoute, rt.Gateway, ifi.Name)
		} else {
			logf("rawscan: gateway %v not in the neighbour table of %s; sending ARP requests", rt.Gateway, ifi.Name)
			to := cfg.ARPTimeout
			if to == 0 {
				to = 3 * time.Second
			}
			if rt.GatewayMAC, err = resolveARP(ctx, ifi.Name, rt.SourceMAC, rt.Source, rt.Gateway, to); err != nil {
				return nil, err
			}
			rt.GatewayFrom = "arp"
		}
	}
	logf("rawscan: interface %s, source %v %v, gateway %v %v (%s)", rt.Interface, rt.Source, rt.SourceMAC, rt.Gateway, rt.GatewayMAC, rt.GatewayFrom)
	return rt, nil
}

type kernelRoute struct {
	oif      int
	gateway  netip.Addr
	prefSrc  netip.Addr
	bits     int
	priority uint32
}

// lookupRoute dumps the IPv4 routes (RTM_GETROUTE) and picks the longest
// prefix of table main containing dst (the default route for an invalid
// dst), lowest metric first, restricted to ifi when given.
func lookupRoute(dst netip.Addr, ifi *net.Interface) (kernelRoute, error) {
	if !dst.IsValid() {
		dst = netip.IPv4Unspecified()
	}
	b, err := syscall.NetlinkRIB(unix.RTM_GETROUTE, unix.AF_INET)
	if err != nil {
		return kernelRoute{}, os.NewSyscallError("netlink RTM_GETROUTE", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return kernelRoute{}, fmt.Errorf("rawscan: parsing routes: %w", err)
	}
	best := kernelRoute{bits: -1}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
			continue
		}
		rtm := (*unix.RtMsg)(unsafePointer(m.Data))
		if rtm.Family != unix.AF_INET || rtm.Type != unix.RTN_UNICAST {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			continue
		}
		r := kernelRoute{bits: int(rtm.Dst_len)}
		table := uint32(rtm.Table)
		prefix := netip.PrefixFrom(netip.IPv4Unspecified(), int(rtm.Dst_len))
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.RTA_DST:
				if len(a.Value) == 4 {
					prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte(a.Value)), int(rtm.Dst_len))
				}
			case unix.RTA_GATEWAY:
				if len(a.Value) == 4 {
					r.gateway = netip.AddrFrom4([4]byte(a.Value))
				}
			case unix.RTA_PREFSRC:
				if len(a.Value) == 4 {
					r.prefSrc = netip.AddrFrom4([4]byte(a.Value))
				}
			case unix.RTA_OIF:
				if len(a.Value) == 4 {
					r.oif = int(binary.NativeEndian.Uint32(a.Value))
				}
			case unix.RTA_PRIORITY:
				if len(a.Value) == 4 {
					r.priority = binary.NativeEndian.Uint32(a.Value)
				}
			case unix.RTA_TABLE:
				if len(a.Value) == 4 {
					table = binary.NativeEndian.Uint32(a.Value)
				}
			}
		}
		if table != unix.RT_TABLE_MAIN || !prefix.Contains(dst) || (ifi != nil && r.oif != ifi.Index) {
			continue
		}
		if r.bits > best.bits || (r.bits == best.bits && r.priority < best.priority) {
			best = r
		}
	}
	if best.bits < 0 {
		return best, fmt.Errorf("%w: no IPv4 route to %v in table main", ErrNoRoute, dst)
	}
	return best, nil
}

// Neighbour states that hold a usable MAC (include/uapi/linux/neighbour.h).
const nudUsable = unix.NUD_REACHABLE | unix.NUD_STALE | unix.NUD_DELAY | unix.NUD_PROBE | unix.NUD_PERMANENT | unix.NUD_NOARP

// lookupNeighbour dumps the IPv4 neighbour table (RTM_GETNEIGH) and returns
// the MAC of ip on interface index, if usable.
func lookupNeighbour(index int, ip netip.Addr) (net.HardwareAddr, bool, error) {
	b, err := syscall.NetlinkRIB(unix.RTM_GETNEIGH, unix.AF_INET)
	if err != nil {
		return nil, false, os.NewSyscallError("netlink RTM_GETNEIGH", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, false, fmt.Errorf("rawscan: parsing neighbours: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWNEIGH {
			continue
		}
		if mac, ok := parseNeighbour(m.Data, index, ip); ok {
			return mac, true, nil
		}
	}
	return nil, false, nil
}

// parseNeighbour reads one struct ndmsg (12 bytes: family, pad, pad,
// ifindex, state, flags, type) and its NDA_* attributes.
func parseNeighbour(b []byte, index int, ip netip.Addr) (net.HardwareAddr, bool) {
	if len(b) < unix.SizeofNdMsg || b[0] != unix.AF_INET {
		return nil, false
	}
	ifindex := int(int32(binary.NativeEndian.Uint32(b[4:])))
	state := binary.NativeEndian.Uint16(b[8:])
	if ifindex != index || state&nudUsable == 0 {
		return nil, false
	}
	var dst netip.Addr
	var mac net.HardwareAddr
	for a := b[unix.SizeofNdMsg:]; len(a) >= 4; {
		l := int(binary.NativeEndian.Uint16(a[0:]))
		typ := binary.NativeEndian.Uint16(a[2:])
		if l < 4 || l > len(a) {
			break
		}
		v := a[4:l]
		switch typ {
		case unix.NDA_DST:
			if len(v) == 4 {
				dst = netip.AddrFrom4([4]byte(v))
			}
		case unix.NDA_LLADDR:
			if len(v) == 6 {
				mac = append(net.HardwareAddr(nil), v...)
			}
		}
		al := (l + 3) &^ 3 // NLA_ALIGN
		if al > len(a) {
			break
		}
		a = a[al:]
	}
	return mac, dst == ip && mac != nil
}

func firstIPv4(ifi *net.Interface) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: addresses of %s: %w", ErrNoRoute, ifi.Name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && n.IP.To4() != nil {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: interface %s has no IPv4 address (give -S)", ErrNoRoute, ifi.Name)
}

// resolveARP asks for gw's MAC with up to three ARP requests spread over
// timeout and returns the first matching reply.
func resolveARP(ctx context.Context, ifname string, srcMAC net.HardwareAddr, src, gw netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	c, ifindex, err := openPacket(&AFPacketConfig{Interface: ifname}, "rawscan-arp")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := bindPacket(c, ifindex, etherTypeARP); err != nil {
		return nil, err
	}
	req := arpRequestFrame(srcMAC, src, gw)
	bcast := &unix.SockaddrLinklayer{Ifindex: ifindex, Protocol: htons(etherTypeARP), Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	buf := make([]byte, 1500)
	for range 3 {
		if err := c.Sendto(ctx, req, 0, bcast); err != nil {
			return nil, err
		}
		rctx, rcancel := context.WithTimeout(ctx, timeout/3)
		for {
			n, _, err := c.Recvfrom(rctx, buf, 0)
			if err != nil {
				break
			}
			if ip, mac, err := parseARPReply(buf[:n]); err == nil && ip == gw {
				rcancel()
				return mac, nil
			}
		}
		rcancel()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: no ARP reply from gateway %v on %s within %v (give -G)", ErrNoRoute, gw, ifname, timeout)
}
