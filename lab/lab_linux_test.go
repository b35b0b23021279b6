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
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

// rootSnapshot is what the root namespace looks like: every interface,
// address and route (all tables). The lab must never change it.
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
// on ECONNREFUSED (RST), "filtered" on timeout.
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
		t.Fatalf("dial %v: %v", ap, err)
		return ""
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

	// Sample addresses of each state on each port and check them with
	// kernel TCP from the scanner namespace.
	for _, port := range g.Ports {
		var cases []netip.AddrPort
		for _, a := range g.Open[port][:10] {
			cases = append(cases, netip.AddrPortFrom(a, port))
		}
		for _, a := range g.Closed[port][:10] {
			cases = append(cases, netip.AddrPortFrom(a, port))
		}
		n := 0
		for a := g.Range.Addr(); n < 5; a = a.Next() {
			if ap := netip.AddrPortFrom(a, port); g.State(ap) == lab.StateFiltered {
				cases = append(cases, ap)
				n++
			}
		}
		for _, ap := range cases {
			want := g.State(ap)
			timeout := 2 * time.Second
			if want == lab.StateFiltered {
				timeout = 300 * time.Millisecond
			}
			if got := probe(t, l, ap, timeout); got != want {
				t.Errorf("%v: got %s, want %s", ap, got, want)
			}
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
