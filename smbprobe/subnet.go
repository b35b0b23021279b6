package smbprobe

import "net/netip"

// DefaultSubnetProbes is Config.SubnetProbes's default: the same bound as
// 'smbsweep run' puts on a dense /24 (pipeline.DefaultDenseProbes). With two
// connections per probe, 16 probes keep a server that answers a whole
// subnet within a listen backlog of 50 (smbd's default; listen(2)) even
// when every handshake of a round is still queued.
const DefaultSubnetProbes = 16

// Subnet returns the subnet that Config.SubnetProbes counts a address in:
// its /24 for IPv4 (the smallest prefix routed on the internet, and the
// block a NAT, a SYN proxy or an AnyIP server typically answers for), its
// /64 for IPv6 (one link). An IPv4-mapped IPv6 address counts as IPv4; the
// zero Addr gives the zero Prefix.
func Subnet(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p
}
