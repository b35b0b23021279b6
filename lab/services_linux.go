package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// impacketServer is where Debian's python3-impacket installs smbserver.py
// (dpkg -L python3-impacket).
const impacketServer = "/usr/share/doc/python3-impacket/examples/smbserver.py"

// sambaServices returns the Samba matrix, impacket and the AnyIP smbd.
func sambaServices(prefix string, lay layout) []service {
	var out []service
	for _, m := range sambaMatrix() {
		addr := lay.host(m.octet)
		ports := m.ports
		if len(ports) == 0 {
			ports = []uint16{445}
		}
		s := service{
			name:   m.name,
			ns:     prefix + roleSMB + m.name,
			netIf:  "v-" + m.name,
			locals: []netip.Prefix{netip.PrefixFrom(addr, 32)},
			routes: []netip.Prefix{netip.PrefixFrom(addr, 32)},
			argv:   smbdArgv(),
		}
		s.smbConf = smbConf("DIR", "LAB-"+strings.ToUpper(m.name), ports, m.extra, m.guest)
		desc := m.extra
		if len(m.ports) > 0 {
			desc = append(desc, fmt.Sprintf("smb ports = %v", strings.Trim(fmt.Sprint(m.ports), "[]")))
		}
		if m.guest {
			desc = append(desc, "[public] guest ok = yes")
		}
		for _, p := range ports {
			ex := m.expect
			ex.NetBIOS = p == 139
			s.servers = append(s.servers, Server{Name: m.name, Address: addr, Port: p, Config: strings.Join(desc, "; "), Expect: ex})
			s.ready = append(s.ready, netip.AddrPortFrom(addr, p))
		}
		out = append(out, s)
	}

	imp := lay.host(impacketOctet)
	out = append(out, service{
		name:   "impacket",
		ns:     prefix + roleSMB + "impacket",
		netIf:  "v-impacket",
		locals: []netip.Prefix{netip.PrefixFrom(imp, 32)},
		routes: []netip.Prefix{netip.PrefixFrom(imp, 32)},
		argv:   []string{"/usr/bin/python3", impacketServer, "-ip", "0.0.0.0", "-port", "445", "PUBLIC", "DIR/share"},
		servers: []Server{{Name: "impacket", Address: imp, Port: 445, Config: "smbserver.py (SMB1 only)",
			// Guest: smbserver.py accepts any user, and its share PUBLIC
			// (share names are case-insensitive) is readable by "guest".
			Expect: Expect{Software: "impacket", SMB1: true, Guest: true}}},
		ready: []netip.AddrPort{netip.AddrPortFrom(imp, 445)},
	})

	first := lay.anyip.Addr().Next()
	any := service{
		name:    "anyip",
		ns:      prefix + roleAnyIP,
		netIf:   "v-anyip",
		locals:  []netip.Prefix{lay.anyip},
		routes:  []netip.Prefix{lay.anyip},
		argv:    smbdArgv(),
		smbConf: smbConf("DIR", "LAB-ANYIP", []uint16{445}, nil, false),
		servers: []Server{{Name: "anyip", Address: first, Prefix: lay.anyip, Port: 445,
			Config: "one smbd for a whole /24 (AnyIP)", Expect: Expect{Software: "samba", Dialect: "3.1.1"}}},
		ready: []netip.AddrPort{netip.AddrPortFrom(first, 445)},
	}
	return append(out, any)
}

// smbdArgv runs smbd without systemd, as PID 1 of its own PID namespace so
// that samba-dcerpcd and rpcd_* die with it (smb-protocol notes §4).
func smbdArgv() []string {
	return []string{"unshare", "--pid", "--fork", "--kill-child=SIGKILL",
		"smbd", "--foreground", "--no-process-group", "--debug-stdout", "-s", "DIR/smb.conf"}
}

// hostileService returns the hostile hosts' namespace.
func hostileService(prefix string, lay layout) service {
	kinds := []struct{ kind, does string }{
		{hostileSilent, "accepts, then never sends"},
		{hostileSlow, "sends an SMB2 negotiate reply at 1 byte per second"},
		{hostileHuge, "declares a 4 GiB NBSS length (ff ff ff ff), then stalls"},
		{hostileGarbage, "sends 4 KiB of random bytes and closes"},
		{hostileReset, "sends half a reply, then RST"},
	}
	s := service{
		name:   "hostile",
		ns:     prefix + roleHostile,
		netIf:  "v-hostile",
		helper: &helperSpec{},
	}
	for i, k := range kinds {
		a := lay.host(hostileOctet + byte(i))
		ap := netip.AddrPortFrom(a, 445)
		s.locals = append(s.locals, netip.PrefixFrom(a, 32))
		s.routes = append(s.routes, netip.PrefixFrom(a, 32))
		s.helper.Hostile = append(s.helper.Hostile, hostileSpec{Kind: k.kind, Addr: ap})
		s.hostile = append(s.hostile, Hostile{Name: k.kind, Address: a, Port: 445, Does: k.does})
		s.ready = append(s.ready, ap)
	}
	// The SYN-proxy range: every port of every address is redirected to
	// one silent listener (nft redirect, nft(8) "NAT STATEMENTS").
	s.locals = append(s.locals, lay.synproxy)
	s.routes = append(s.routes, lay.synproxy)
	sp := netip.AddrPortFrom(netip.IPv4Unspecified(), synproxyPort)
	s.helper.Hostile = append(s.helper.Hostile, hostileSpec{Kind: hostileSYNProxy, Addr: sp})
	s.hostile = append(s.hostile, Hostile{Name: hostileSYNProxy, Address: lay.synproxy.Addr(), Prefix: lay.synproxy,
		Does: "answers SYN-ACK on every address and port, then stays silent"})
	s.nft = fmt.Sprintf("table ip smbsweep_hostile {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat;\n"+
		"\t\tip daddr %v meta l4proto tcp redirect to :%d\n\t}\n}\n", lay.synproxy, synproxyPort)
	s.ready = append(s.ready, netip.AddrPortFrom(lay.synproxy.Addr().Next(), 80))
	return s
}

// synproxyPort is the hostile namespace's port behind the SYN-proxy range.
const synproxyPort = 9

// startListeners starts the helper that listens behind the open set.
func (l *Lab) startListeners(ctx context.Context, inet string) error {
	return l.startHelper("listeners", inet, helperSpec{Listen: l.cfg.Ports})
}

// startServices starts every service's process in parallel, then waits
// until each answers TCP from the scanner namespace.
// With Config.ListenBacklog, every served process (Samba, impacket) starts
// with the listen backlog shim (backlog_linux.go) preloaded.
func (l *Lab) startServices(ctx context.Context, svcs []service) error {
	r := runner{logf: l.cfg.Logf}
	var env []string
	if l.cfg.ListenBacklog > 0 && len(svcs) > 0 {
		var err error
		if env, err = l.listenShimEnv(ctx, l.cfg.ListenBacklog); err != nil {
			return err
		}
	}
	errs := make([]error, len(svcs))
	var wg sync.WaitGroup
	for i := range svcs {
		s := &svcs[i]
		wg.Go(func() { errs[i] = l.startService(ctx, r, s, env) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := range svcs {
		s := &svcs[i]
		wg.Go(func() { errs[i] = l.waitReady(ctx, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (l *Lab) startService(ctx context.Context, r runner, s *service, env []string) error {
	dir := filepath.Join(l.dir, "svc", s.name)
	for _, d := range []string{"lock", "state", "cache", "pid", "private", "ncalrpc", "bind-dns", "share"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "share", "README.txt"), []byte("smbsweep lab share\n"), 0o644); err != nil {
		return err
	}
	if s.smbConf != "" {
		conf := strings.ReplaceAll(s.smbConf, "DIR", dir)
		if err := os.WriteFile(filepath.Join(dir, "smb.conf"), []byte(conf), 0o644); err != nil {
			return err
		}
	}
	if s.nft != "" {
		p := filepath.Join(dir, "rules.nft")
		if err := os.WriteFile(p, []byte(s.nft), 0o644); err != nil {
			return err
		}
		if err := r.run(ctx, "", "ip", "netns", "exec", s.ns, "nft", "-f", p); err != nil {
			return err
		}
	}
	if s.helper != nil {
		if err := setSysctls(s.ns, map[string]string{"net/ipv4/ip_nonlocal_bind": "1"}); err != nil {
			return err
		}
		return l.startHelper(s.name, s.ns, *s.helper)
	}
	// One namespace answers for many addresses (a whole /24 for AnyIP),
	// but the kernel's per-destination ICMP limit (icmp_ratelimit, 1 s
	// per peer; ip-sysctl.rst) would be shared by all of them: nmap's
	// NetBIOS name query (UDP 137) to 256 AnyIP hosts then got 1 port
	// unreachable per second and waited out its timeout on the rest.
	// Every real host has its own limit, so the servers' namespaces have
	// none (bench/results/smbprobe.md: before/after).
	if err := setSysctls(s.ns, map[string]string{"net/ipv4/icmp_ratelimit": "0"}); err != nil {
		return err
	}
	argv := make([]string, len(s.argv))
	for i, a := range s.argv {
		argv[i] = strings.ReplaceAll(a, "DIR", dir)
	}
	cmd, err := startDetached(l.dir, s.name, s.ns, argv, env, l.logPath(s.name), nil)
	if err != nil {
		return err
	}
	l.track(cmd)
	return nil
}

// waitReady polls each ready address of s with kernel TCP from the scanner
// namespace until it connects or ctx ends.
func (l *Lab) waitReady(ctx context.Context, s *service) error {
	for _, ap := range s.ready {
		for {
			dctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
			c, err := l.DialContext(dctx, "tcp4", ap.String())
			cancel()
			if err == nil {
				c.Close()
				break
			}
			if ctx.Err() != nil {
				log, _ := os.ReadFile(l.logPath(s.name))
				if len(log) > 2000 {
					log = log[len(log)-2000:]
				}
				return fmt.Errorf("lab: %s (%v) not ready: %w; log tail:\n%s", s.name, ap, err, log)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	return nil
}
