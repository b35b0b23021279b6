package lab

import (
	"fmt"
	"net/netip"
	"strings"
)

// serviceIP is a service namespace's side of its veth (RFC 3927
// link-local, reused on every link); the internet namespace routes the
// service's addresses via it.
var serviceIP = netip.MustParseAddr("169.254.0.2")

// service is one namespace behind the internet namespace: a Samba server,
// impacket, the AnyIP smbd or the hostile hosts.
type service struct {
	name   string         // short, [a-z0-9]
	ns     string         // namespace name
	netIf  string         // its veth in the internet namespace (≤ 15 bytes)
	locals []netip.Prefix // addresses local in the service namespace
	routes []netip.Prefix // routed to it from the internet namespace

	servers []Server
	hostile []Hostile
	ready   []netip.AddrPort // answer TCP once the service is up

	// smbConf is the service's smb.conf (Samba only), with DIR standing for
	// the instance's state directory.
	smbConf string
	// argv is the command that serves, run inside ns, with DIR replaced.
	argv []string
	// helper is set for services served by the lab's own helper.
	helper *helperSpec
	// nft is a ruleset loaded into ns (may be empty).
	nft string
}

// ipCmds configures the service namespace (ip -batch lines).
func (s *service) ipCmds() []string {
	cmds := []string{
		"link set lo up",
		fmt.Sprintf("addr add %v/32 dev eth0", serviceIP),
		"link set eth0 up",
		fmt.Sprintf("route add %v dev eth0 scope link", serviceGW),
		fmt.Sprintf("route add default via %v dev eth0 onlink", serviceGW),
	}
	for _, p := range s.locals {
		if p.IsSingleIP() {
			cmds = append(cmds, fmt.Sprintf("addr add %v dev lo", p))
		} else {
			cmds = append(cmds, fmt.Sprintf("route add local %v dev lo", p))
		}
	}
	return cmds
}

// sambaConfig is one entry of the Samba matrix (smb-protocol notes §4).
type sambaConfig struct {
	name   string
	octet  byte     // last octet of its address in the services /24
	extra  []string // smb.conf [global] lines
	guest  bool     // export a guest-readable share "public"
	ports  []uint16
	expect Expect
}

// sambaMatrix is the set of Samba configurations every lab with Samba
// runs, one smbd each. The expectations are Samba 4.17's (observed in the
// smb-protocol notes §4).
func sambaMatrix() []sambaConfig {
	e := func(smb1 bool, dialect string) Expect {
		return Expect{Software: "samba", SMB1: smb1, Dialect: dialect}
	}
	signed := e(false, "3.1.1")
	signed.SigningRequired = true
	enc := e(false, "3.1.1")
	enc.EncryptionRequired = true
	guest := e(false, "3.1.1")
	guest.Guest = true
	return []sambaConfig{
		{name: "nt1", octet: 1, extra: []string{"server min protocol = NT1"}, expect: e(true, "3.1.1")},
		{name: "smb2", octet: 2, extra: []string{"server min protocol = SMB2_02"}, expect: e(false, "3.1.1")},
		{name: "smb3sign", octet: 3, extra: []string{"server min protocol = SMB3_00", "server signing = mandatory"}, expect: signed},
		{name: "max21", octet: 4, extra: []string{"server max protocol = SMB2_10"}, expect: e(false, "2.1")},
		{name: "encrypt", octet: 5, extra: []string{"server smb encrypt = required"}, expect: enc},
		{name: "guest", octet: 6, guest: true, expect: guest},
		{name: "smb1only", octet: 7, extra: []string{"server min protocol = NT1", "server max protocol = NT1"}, expect: e(true, "")},
		{name: "nbt", octet: 8, ports: []uint16{445, 139}, expect: e(false, "3.1.1")},
	}
}

// impacketOctet is the address of impacket's smbserver.py in the services
// /24; hostile hosts start at hostileOctet.
const (
	impacketOctet = 20
	hostileOctet  = 200
)

// smbConf renders an smb.conf for one instance whose state lives in dir.
// Every instance has its own lock, state, cache, pid, private and ncalrpc
// directories, so instances share nothing (smb-protocol notes §4,
// pitfall 3).
func smbConf(dir, netbios string, ports []uint16, extra []string, guest bool) string {
	var b strings.Builder
	b.WriteString("[global]\n")
	for _, l := range []string{
		"lock directory = " + dir + "/lock",
		"state directory = " + dir + "/state",
		"cache directory = " + dir + "/cache",
		"pid directory = " + dir + "/pid",
		"private dir = " + dir + "/private",
		"ncalrpc dir = " + dir + "/ncalrpc",
		"binddns dir = " + dir + "/bind-dns",
		"log file = " + dir + "/log.%m",
		"server role = standalone server",
		"bind interfaces only = no",
		"disable netbios = yes",
		"load printers = no",
		"printing = bsd",
		"printcap name = /dev/null",
		"disable spoolss = yes",
		"passdb backend = tdbsam",
		"map to guest = Bad User",
		"guest account = nobody",
		"usershare path =",
		"server multi channel support = no",
		"workgroup = SMBSWEEP",
		"netbios name = " + netbios,
	} {
		b.WriteString("\t" + l + "\n")
	}
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = fmt.Sprint(p)
	}
	b.WriteString("\tsmb ports = " + strings.Join(ps, " ") + "\n")
	for _, l := range extra {
		b.WriteString("\t" + l + "\n")
	}
	if guest {
		b.WriteString("[public]\n\tpath = " + dir + "/share\n\tguest ok = yes\n\tread only = yes\n")
	}
	return b.String()
}
