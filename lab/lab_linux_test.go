package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"golang.org/x/sys/unix"
)

// rootSnapshot is what the root namespace looks like: every interface,
// address and route (all tables), and the sysctls the lab sets in its own
// namespaces. The lab must never change it. (The test's goroutines are
// never on a thread inside a lab namespace: Do discards its threads.)
func rootSnapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, args := range [][]string{
		{"-j", "link", "show"},
		{"-j", "addr", "show"},
		{"-j", "route", "show", "table", "all"},
	} {
		b, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(b, &objs); err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		for _, o := range objs {
			// Keep identity, drop volatile state (operstate, stats).
			var key []string
			for _, k := range []string{"ifname", "address", "dst", "dev", "table", "type", "gateway", "prefsrc"} {
				if v, ok := o[k]; ok {
					key = append(key, k+"="+toString(v))
				}
			}
			if ai, ok := o["addr_info"].([]any); ok {
				for _, a := range ai {
					if m, ok := a.(map[string]any); ok {
						key = append(key, "addr="+toString(m["local"]))
					}
				}
			}
			out = append(out, args[1]+": "+strings.Join(key, " "))
		}
	}
	// The sysctls the lab sets inside its namespaces.
	for _, k := range []string{"net/ipv4/ip_forward", "net/ipv4/icmp_ratelimit", "net/ipv4/conf/all/rp_filter", "net/ipv6/conf/all/disable_ipv6", "net/core/somaxconn"} {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "sysctl: "+k+"="+strings.TrimSpace(string(b)))
	}
	slices.Sort(out)
	return out
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// labNamespaces lists named namespaces with the prefix.
func labNamespaces(prefix string) []string {
	ents, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// assertGone checks that nothing of a lab remains: no namespace, no state
// directory, no live process it recorded.
func assertGone(t *testing.T, st lab.Status, pids []lab.Process) {
	t.Helper()
	for _, ns := range st.Namespaces {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			t.Errorf("namespace %s left", ns)
		}
	}
	if _, err := os.Stat(st.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s left: %v", st.StateDir, err)
	}
	for _, p := range pids {
		if err := syscall.Kill(p.PID, 0); err == nil {
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/status"); err == nil && !strings.Contains(string(b), "zombie") {
				t.Errorf("process %s (%d) still runs", p.Name, p.PID)
			}
		}
	}
}

// probe dials ap from the scanner namespace: "open" on connect, "closed"
// on ECONNREFUSED (RST), "filtered" on timeout, and the error otherwise.
// It may run on any goroutine.
func probe(t *testing.T, l *lab.Lab, ap netip.AddrPort, timeout time.Duration) lab.PortState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := l.DialContext(ctx, "tcp4", ap.String())
	switch {
	case err == nil:
		c.Close()
		return lab.StateOpen
	case errors.Is(err, syscall.ECONNREFUSED):
		return lab.StateClosed
	case errors.Is(err, context.DeadlineExceeded):
		return lab.StateFiltered
	default:
		return lab.PortState("error: " + err.Error())
	}
}

func TestIntegrationTopology(t *testing.T) {
	skipUnlessRoot(t)
	before := rootSnapshot(t)
	prefix := labtest.Prefix()
	start := time.Now()
	l := labtest.New(t, &lab.Config{Prefix: prefix, Seed: 7, Open: 0.02, Closed: 0.02, Ports: []uint16{445, 139}})
	t.Logf("up in %v", time.Since(start))
	st := l.Status()
	g, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	file, err := lab.ReadGroundTruth(st.GroundTruth)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, file, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
		t.Errorf("ground truth file differs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
		t.Errorf("root namespace changed by up (-before +after):\n%s", diff)
	}

	// Sample addresses of each state on each port and check them, in
	// parallel, with kernel TCP from the scanner namespace.
	type probeCase struct {
		ap   netip.AddrPort
		want lab.PortState
	}
	var cases []probeCase
	for _, port := range g.Ports {
		for _, a := range g.Open[port][:10] {
			cases = append(cases, probeCase{netip.AddrPortFrom(a, port), lab.StateOpen})
		}
		for _, a := range g.Closed[port][:10] {
			cases = append(cases, probeCase{netip.AddrPortFrom(a, port), lab.StateClosed})
		}
		n := 0
		for a := g.Range.Addr(); n < 5; a = a.Next() {
			if ap := netip.AddrPortFrom(a, port); g.State(ap) == lab.StateFiltered {
				cases = append(cases, probeCase{ap, lab.StateFiltered})
				n++
			}
		}
	}
	var wg sync.WaitGroup
	got := make([]lab.PortState, len(cases))
	for i, c := range cases {
		wg.Go(func() { got[i] = probe(t, l, c.ap, time.Second) })
	}
	wg.Wait()
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%v: got %s, want %s", c.ap, got[i], c.want)
		}
	}

	// UDP: an address with a closed port answers ICMP port unreachable at
	// once (ECONNREFUSED on a connected socket); a filtered one is silent.
	udp := func(a netip.Addr) error {
		return l.Do(func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			tv := unix.NsecToTimeval((500 * time.Millisecond).Nanoseconds())
			_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
			if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: a.As4(), Port: 137}); err != nil {
				return err
			}
			if _, err := unix.Write(fd, []byte("nbstat")); err != nil {
				return err
			}
			_, err = unix.Read(fd, make([]byte, 64))
			return err
		})
	}
	for i, a := range g.Closed[445][:3] {
		if err := udp(a); !errors.Is(err, unix.ECONNREFUSED) {
			t.Errorf("UDP/137 to closed %v (try %d): %v, want ECONNREFUSED", a, i, err)
		}
	}
	if err := udp(cases[len(cases)-1].ap.Addr()); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("UDP/137 to filtered %v: %v, want a timeout", cases[len(cases)-1].ap.Addr(), err)
	}

	// The scanner resolved its gateway with ARP, as on a host.
	out, err := l.Command(context.Background(), "ip", "-j", "neigh", "show", "dev", st.Interface).Output()
	if err != nil {
		t.Fatal(err)
	}
	var neigh []struct {
		Dst    string `json:"dst"`
		Lladdr string `json:"lladdr"`
	}
	if err := json.Unmarshal(out, &neigh); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range neigh {
		found = found || n.Dst == st.GatewayIP.String() && n.Lladdr == st.GatewayMAC
	}
	if !found {
		t.Errorf("neighbour table %s lacks gateway %v at %s", out, st.GatewayIP, st.GatewayMAC)
	}

	// The JSON status has the keys the issue names.
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	_ = json.Unmarshal(b, &keys)
	for _, k := range []string{"scanner_namespace", "interface", "source_ip", "source_mac", "gateway_mac", "ranges", "ground_truth", "servers"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("status JSON lacks %q: %s", k, b)
		}
	}

	pids := st.Processes
	if len(pids) == 0 {
		t.Errorf("no processes recorded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, st, pids)
	if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
		t.Errorf("root namespace changed after down (-before +after):\n%s", diff)
	}
}
