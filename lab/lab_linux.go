package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Lab is a running lab. Its methods are safe for concurrent use; Close
// must not run concurrently with the others.
type Lab struct {
	cfg    Config
	dir    string   // STATEDIR/PREFIX
	scanNS *os.File // /run/netns/PREFIXscan, kept open for Do and DialContext
	status Status
	truth  *GroundTruth
	cmds   []*exec.Cmd // started by this process, reaped on Close

	mu     sync.Mutex
	closed bool
}

// Namespace roles; the namespace name is PREFIX+role. Down removes only
// names whose remainder after the prefix matches roleRE, so labs whose
// prefixes extend each other ("x-" and "x-t1-") stay apart.
const (
	roleScan    = "scan"
	roleNet     = "net"
	roleHostile = "hostile"
	roleAnyIP   = "anyip"
	roleWire    = "wire"
	roleSMB     = "smb-" // + server name
)

var roleRE = regexp.MustCompile(`^(scan|net|wire|hostile|anyip|smb-[a-z0-9]+)$`)

// nsPath is where ip-netns(8) keeps named namespaces.
const nsPath = "/run/netns"

// Up brings a lab up and returns when every listener and server answers.
// It first removes any lab with the same prefix (Down). On error, it
// removes what it created. Up needs root.
func Up(ctx context.Context, cfg *Config) (*Lab, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("lab: up needs root: %w", os.ErrPermission)
	}
	if err := checkTools(c.Samba, wired(&c)); err != nil {
		return nil, err
	}
	if err := down(c.Prefix, c.StateDir, c.Logf); err != nil {
		return nil, err
	}
	start := time.Now()
	l := &Lab{cfg: c, dir: filepath.Join(c.StateDir, c.Prefix)}
	if err := l.up(ctx); err != nil {
		l.reap()
		if derr := down(c.Prefix, c.StateDir, c.Logf); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	c.Logf("lab: %s up in %v", c.Prefix, time.Since(start).Round(time.Millisecond))
	return l, nil
}

func (l *Lab) up(ctx context.Context) error {
	c := &l.cfg
	r := runner{logf: c.Logf}
	if err := os.MkdirAll(filepath.Join(l.dir, "log"), 0o755); err != nil {
		return err
	}
	scan, inet := c.Prefix+roleScan, c.Prefix+roleNet

	var reserved []netip.Prefix
	var lay layout
	if c.Samba || c.Hostile {
		lay = newLayout(c.Range)
		reserved = lay.reserved()
	}
	g := draw(c, reserved)
	l.truth = g

	// The services (Samba, hostile hosts) each get a namespace.
	var svcs []service
	if c.Samba {
		svcs = append(svcs, sambaServices(c.Prefix, lay)...)
	}
	if c.Hostile {
		svcs = append(svcs, hostileService(c.Prefix, lay))
	}

	// 1. Namespaces, created from the root namespace (nothing else is done
	// there).
	names := []string{scan, inet}
	wire := c.Prefix + roleWire
	if wired(c) {
		names = append(names, wire)
	}
	for _, s := range svcs {
		names = append(names, s.ns)
	}
	var add []string
	for _, n := range names {
		add = append(add, "netns add "+n)
	}
	if err := r.ipBatch(ctx, "", add); err != nil {
		return err
	}
	// The lab is IPv4-only: without IPv6, no router solicitation or
	// neighbour discovery frame leaves a namespace.
	for _, n := range names {
		if err := setSysctls(n, map[string]string{
			"net/ipv6/conf/all/disable_ipv6":     "1",
			"net/ipv6/conf/default/disable_ipv6": "1",
			"net/ipv4/conf/all/rp_filter":        "0",
			"net/ipv4/conf/default/rp_filter":    "0",
		}); err != nil {
			return err
		}
	}
	f, err := os.Open(filepath.Join(nsPath, scan))
	if err != nil {
		return err
	}
	l.scanNS = f

	// 2. Links, addresses and routes. Each veth is created inside the
	// internet namespace with its peer placed directly in the other
	// namespace, so no interface ever exists in the root namespace.
	// With a wire, the scanner's link runs scan0 ⇄ w1 [wire] w0 ⇄ eth0.
	peerName, peerNS, peerMAC := scannerIf, scan, " address "+scannerMAC
	if wired(c) {
		peerName, peerNS, peerMAC = "w1", wire, ""
	}
	netCmds := []string{
		"link set lo up",
		fmt.Sprintf("link add %s address %s type veth peer name %s netns %s%s", gatewayIf, gatewayMAC, peerName, peerNS, peerMAC),
		fmt.Sprintf("addr add %v/%d dev %s", gatewayIP, linkNet.Bits(), gatewayIf),
		"link set " + gatewayIf + " up",
		// AnyIP: every address of the range is local (in table main, so the
		// more specific service routes below win by longest prefix).
		fmt.Sprintf("route add local %v dev lo table main", c.Range),
	}
	for _, s := range svcs {
		netCmds = append(netCmds,
			fmt.Sprintf("link add %s type veth peer name eth0 netns %s", s.netIf, s.ns),
			fmt.Sprintf("addr add %v/32 dev %s", serviceGW, s.netIf),
			"link set "+s.netIf+" up")
		for _, p := range s.routes {
			netCmds = append(netCmds, fmt.Sprintf("route add %v via %v dev %s onlink", p, serviceIP, s.netIf))
		}
	}
	if c.Sink {
		netCmds = append(netCmds,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", sinkPeer, sinkVeth, scan),
			"link set "+sinkPeer+" up")
	}
	if err := r.ipBatch(ctx, inet, netCmds); err != nil {
		return err
	}
	if wired(c) {
		if err := r.ipBatch(ctx, wire, []string{
			"link set lo up",
			fmt.Sprintf("link add w0 type veth peer name %s netns %s address %s", scannerIf, scan, scannerMAC),
			"link set w0 up",
			"link set w1 up",
		}); err != nil {
			return err
		}
	}
	scanCmds := []string{
		"link set lo up",
		fmt.Sprintf("addr add %v/%d dev %s", scannerIP, linkNet.Bits(), scannerIf),
		"link set " + scannerIf + " up",
		fmt.Sprintf("route add default via %v dev %s", gatewayIP, scannerIf),
	}
	if c.Sink {
		scanCmds = append(scanCmds,
			"link add "+sinkIFB+" type ifb", "link set "+sinkIFB+" up",
			"link set "+sinkVeth+" up")
	}
	var wg sync.WaitGroup
	errs := make([]error, len(svcs)+2)
	wg.Go(func() { errs[0] = r.ipBatch(ctx, scan, scanCmds) })
	for i, s := range svcs {
		wg.Go(func() { errs[i+2] = r.ipBatch(ctx, s.ns, s.ipCmds()) })
	}
	// 3. The internet namespace's rules and sysctls.
	wg.Go(func() { errs[1] = l.setupNet(ctx, r, inet, g) })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := l.impair(ctx, r, scan, inet); err != nil {
		return err
	}
	if wired(c) {
		if err := l.startWire(ctx, r, scan, inet, wire); err != nil {
			return err
		}
	}

	// 4. Ground truth, then the processes that make it true.
	if err := l.startListeners(ctx, inet); err != nil {
		return err
	}
	for _, s := range svcs {
		g.Servers = append(g.Servers, s.servers...)
		g.Hostile = append(g.Hostile, s.hostile...)
	}
	if err := l.startServices(ctx, svcs); err != nil {
		return err
	}
	gtPath := filepath.Join(l.dir, "ground-truth.json")
	if err := writeJSON(gtPath, g); err != nil {
		return err
	}

	l.status = Status{
		Prefix:           c.Prefix,
		ScannerNamespace: scan,
		Interface:        scannerIf,
		SourceIP:         scannerIP,
		SourceMAC:        scannerMAC,
		GatewayIP:        gatewayIP,
		GatewayMAC:       gatewayMAC,
		Ranges:           []netip.Prefix{c.Range},
		Ports:            c.Ports,
		GroundTruth:      gtPath,
		StateDir:         l.dir,
		Namespaces:       names,
		Servers:          g.Servers,
		Hostile:          g.Hostile,
		Impairment:       netemArgs(c),
	}
	if c.Sink {
		l.status.Sinks = []string{sinkIFB, sinkVeth}
	}
	l.status.Processes = readPIDs(l.dir)
	return writeJSON(filepath.Join(l.dir, "status.json"), &l.status)
}

// setupNet loads the internet namespace's sysctls and nftables ruleset.
func (l *Lab) setupNet(ctx context.Context, r runner, inet string, g *GroundTruth) error {
	if err := setSysctls(inet, map[string]string{
		"net/ipv4/ip_forward":              "1",
		"net/ipv4/conf/all/rp_filter":      "0",
		"net/ipv4/conf/default/rp_filter":  "0",
		"net/ipv4/icmp_ratelimit":          "0", // closed UDP/137 answers at once
		"net/ipv4/icmp_msgs_per_sec":       "1000000",
		"net/ipv4/icmp_msgs_burst":         "1000000",
		"net/ipv4/tcp_max_syn_backlog":     "65536",
		"net/core/somaxconn":               "65535",
		"net/ipv4/conf/all/accept_local":   "1",
		"net/ipv4/conf/all/arp_announce":   "2",
		"net/ipv4/conf/default/arp_ignore": "0",
	}); err != nil {
		return err
	}
	var b strings.Builder
	if err := writeNFT(&b, g); err != nil {
		return err
	}
	if l.cfg.Sink {
		writeSinkNFT(&b)
	}
	if l.cfg.Loss > 0 {
		writeLossNFT(&b, l.cfg.Loss)
	}
	p := filepath.Join(l.dir, "net.nft")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return r.run(ctx, "", "ip", "netns", "exec", inet, "nft", "-f", p)
}

// setSysctls writes /proc/sys entries from inside namespace ns: files under
// /proc/sys/net belong to the namespace of the thread that opens them.
func setSysctls(ns string, kv map[string]string) error {
	f, err := os.Open(filepath.Join(nsPath, ns))
	if err != nil {
		return err
	}
	defer f.Close()
	return inNetns(int(f.Fd()), func() error {
		var errs []error
		for _, k := range slices.Sorted(mapsKeys(kv)) {
			if err := os.WriteFile("/proc/sys/"+k, []byte(kv[k]), 0o644); err != nil {
				errs = append(errs, fmt.Errorf("lab: sysctl %s in %s: %w", k, ns, err))
			}
		}
		return errors.Join(errs...)
	})
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// checkTools reports the programs the lab needs that are not installed.
func checkTools(samba, wire bool) error {
	need := []string{"ip", "nft", "tc"}
	if wire {
		need = append(need, "ethtool")
	}
	if samba {
		need = append(need, "smbd", "unshare", "/usr/bin/python3")
	}
	var missing []string
	for _, t := range need {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s (run lab/deps.sh or 'make lab-deps')", ErrMissingTools, strings.Join(missing, ", "))
	}
	return nil
}

// ErrMissingTools is wrapped by Up when a program the lab runs is missing.
var ErrMissingTools = errors.New("lab: missing tools")

// Status returns the lab's description. Counters are not filled in; see
// Counters.
func (l *Lab) Status() Status { return l.status }

// GroundTruth returns what the lab was built to answer.
func (l *Lab) GroundTruth() (*GroundTruth, error) {
	if l.truth == nil {
		return ReadGroundTruth(l.status.GroundTruth)
	}
	return l.truth, nil
}

// Command returns a command that runs name inside the scanner namespace
// (through ip netns exec).
func (l *Lab) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.status.ScannerNamespace, name}, args...)...)
}

func (l *Lab) alive() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return nil
}

// Close removes the lab (Down for its prefix and state directory). It is
// idempotent.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := down(l.cfg.Prefix, l.cfg.StateDir, l.cfg.Logf)
	l.reap()
	if l.scanNS != nil {
		_ = l.scanNS.Close()
	}
	return err
}

// reap waits for the processes this process started (after they were
// killed), so none stays a zombie.
func (l *Lab) reap() {
	for _, c := range l.cmds {
		if c.Process != nil {
			_ = c.Process.Kill()
		}
	}
	l.cmds = nil
}

// Down removes the lab with the given prefix and the default state
// directory: it kills every process recorded in its pid files and every
// process in its namespaces, deletes the namespaces and the state
// directory. It is idempotent and works after a crash.
func Down(prefix string) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	return down(prefix, DefaultStateDir, func(string, ...any) {})
}

// DownConfig is Down for the prefix and state directory of cfg.
func DownConfig(cfg *Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	return down(c.Prefix, c.StateDir, c.Logf)
}

func down(prefix, stateDir string, logf func(string, ...any)) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("lab: down needs root: %w", os.ErrPermission)
	}
	r := runner{logf: logf}
	dir := filepath.Join(stateDir, prefix)
	var pids []int
	for _, p := range readPIDs(dir) {
		pids = append(pids, p.PID)
	}
	nss := namespaces(prefix)
	for _, ns := range nss {
		out, err := r.output(context.Background(), "ip", "netns", "pids", ns)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
				pids = append(pids, pid)
			}
		}
	}
	var errs []error
	if len(pids) > 0 {
		logf("lab: killing %v", pids)
		errs = append(errs, killAll(pids, 5*time.Second))
	}
	if len(nss) > 0 {
		var del []string
		for _, ns := range nss {
			del = append(del, "netns del "+ns)
		}
		// -force: go on after an error, so one stuck name does not keep
		// the others.
		errs = append(errs, r.ipBatchForce(context.Background(), "", del))
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	if left := namespaces(prefix); len(left) > 0 {
		errs = append(errs, fmt.Errorf("lab: namespaces left after down: %v", left))
	}
	return errors.Join(errs...)
}

// namespaces lists the named namespaces that belong to the lab prefix.
func namespaces(prefix string) []string {
	ents, _ := os.ReadDir(nsPath)
	var out []string
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok && roleRE.MatchString(rest) {
			out = append(out, e.Name())
		}
	}
	return out
}
