package lab_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

// labProcesses lists live processes whose command line mentions dir (the
// lab's state directory: smbd's config, impacket's share) or whose
// environment marks them as a lab helper with that dir's prefix.
func labProcesses(prefix string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if cl := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cl, "/"+prefix) || strings.Contains(cl, " "+prefix) {
			out = append(out, e.Name()+" "+cl)
		}
	}
	return out
}

// TestIntegrationUpDown20 brings a full lab (Samba, hostile hosts, sinks)
// up and down 20 times and checks that the machine is as it was: root
// namespace links, addresses and routes, named namespaces, state
// directories and processes.
func TestIntegrationUpDown20(t *testing.T) {
	skipUnlessRoot(t)
	if testing.Short() {
		t.Skip("-short")
	}
	prefix := labtest.Prefix()
	before := rootSnapshot(t)
	nsBefore := labNamespaces("")
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		l, err := lab.Up(ctx, &lab.Config{Prefix: prefix, Samba: i%2 == 0, Hostile: true, Sink: true, Loss: 0.01})
		cancel()
		if errors.Is(err, lab.ErrMissingTools) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatalf("round %d: up: %v", i, err)
		}
		st := l.Status()
		if err := l.Close(); err != nil {
			t.Fatalf("round %d: down: %v", i, err)
		}
		assertGone(t, st, st.Processes)
	}
	// Processes killed by SIGKILL may take a moment to be reaped.
	deadline := time.Now().Add(3 * time.Second)
	for len(labProcesses(prefix)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if ps := labProcesses(prefix); len(ps) > 0 {
		t.Errorf("processes left:\n%s", strings.Join(ps, "\n"))
	}
	if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
		t.Errorf("root namespace changed (-before +after):\n%s", diff)
	}
	// Other tests may run labs concurrently: compare only this prefix.
	if left := labNamespaces(prefix); len(left) > 0 {
		t.Errorf("namespaces left: %v (before: %d named namespaces)", left, len(nsBefore))
	}
}

// TestIntegrationDownAfterCrash leaves a lab behind as a crashed process
// would (no Close) and checks that Down with only the prefix removes it,
// and that it does not touch a lab whose prefix extends it.
func TestIntegrationDownAfterCrash(t *testing.T) {
	skipUnlessRoot(t)
	prefix := labtest.Prefix()
	other := labtest.New(t, &lab.Config{Prefix: prefix + "x-"})
	l, err := lab.Up(context.Background(), &lab.Config{Prefix: prefix, Hostile: true})
	if err != nil {
		t.Fatal(err)
	}
	st := l.Status()
	// Simulate the crash: forget l, remove the pid files, so Down must find
	// the processes through the namespaces (ip netns pids).
	if err := os.RemoveAll(st.StateDir + "/pids"); err != nil {
		t.Fatal(err)
	}
	if err := lab.Down(prefix); err != nil {
		t.Fatal(err)
	}
	if err := lab.Down(prefix); err != nil {
		t.Fatalf("second Down: %v", err)
	}
	assertGone(t, st, st.Processes)
	want := []string{prefix + "x-net", prefix + "x-scan"}
	got := labNamespaces(prefix)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namespaces after Down(%q) (-want +got):\n%s", prefix, diff)
	}
	if _, err := other.GroundTruth(); err != nil {
		t.Error(err)
	}
}

// TestIntegrationLoss checks the loss impairment: with loss p on each
// direction, a connect to a closed address gets its RST back with
// probability (1-p)^2.
func TestIntegrationLoss(t *testing.T) {
	skipUnlessRoot(t)
	const loss = 0.3
	l := labtest.New(t, &lab.Config{Loss: loss, Closed: 0.05, Seed: 11})
	g, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	closed := g.Closed[445]
	const n = 400
	var mu sync.Mutex
	var refused, timedOut int
	var other []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// Under the initial SYN retransmission timeout (1 s, RFC 6298
			// §2.1), so a lost SYN or RST is a timeout, not a retry.
			ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
			defer cancel()
			c, err := l.DialContext(ctx, "tcp4", closed[i%len(closed)].String()+":445")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				refused++
			case errors.Is(err, context.DeadlineExceeded):
				timedOut++
			case err == nil:
				c.Close()
				other = append(other, errors.New("connected to a closed address"))
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("%d unexpected dial results, first: %v", len(other), other[0])
	}
	// (1-0.3)^2 = 0.49; the standard deviation over 400 tries is 0.025.
	if f := float64(refused) / n; f < 0.37 || f > 0.61 {
		t.Errorf("%d of %d connects got their RST (%.2f; %d timed out), want about 0.49", refused, n, f, timedOut)
	}
	if st := l.Status(); !strings.Contains(st.Impairment, "loss 30%") {
		t.Errorf("Impairment = %q", st.Impairment)
	}
}

// TestIntegrationSink checks that frames sent on the sinks are counted and
// go nowhere.
func TestIntegrationSink(t *testing.T) {
	skipUnlessRoot(t)
	l := labtest.New(t, &lab.Config{Sink: true})
	before, err := l.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range l.Status().Sinks {
		// mausezahn is not installed; a raw socket on the sink sends 100 frames.
		sendFrames(t, l, dev, 100)
	}
	after, err := l.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range l.Status().Sinks {
		// ifb counts frames that tc did not redirect to it as dropped
		// (drivers/net/ifb.c, ifb_xmit); the veth counts them as sent.
		a, b := after[dev], before[dev]
		if got := a.TxPackets + a.RxDropped + a.TxDropped - b.TxPackets - b.RxDropped - b.TxDropped; got < 100 {
			t.Errorf("%s: counters grew by %d, want ≥ 100: before %+v after %+v", dev, got, b, a)
		}
	}
	if got := after["eth0"].TxPackets - before["eth0"].TxPackets; got > 5 {
		t.Errorf("eth0 sent %d frames during a sink test", got)
	}
}

// TestIntegrationRate checks the rate impairment (tbf): of a burst of
// 3000 frames of 1 kB sent at once without blocking, only what the tbf
// queue and the socket buffer hold, plus the rate over the test, leave
// the scanner's interface; without a rate nearly all do.
func TestIntegrationRate(t *testing.T) {
	skipUnlessRoot(t)
	for _, tt := range []struct {
		name     string
		rate     uint64
		min, max uint64
	}{
		// 8 Mbit/s: a 100 ms queue plus a 16 kB burst hold about 115 frames.
		{"8mbit", 8_000_000, 50, 600},
		{"unlimited", 0, 1500, 3000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.New(t, &lab.Config{Rate: tt.rate})
			before, err := l.Counters()
			if err != nil {
				t.Fatal(err)
			}
			sendBurst(t, l, l.Status().Interface, 3000, 1000)
			time.Sleep(300 * time.Millisecond) // let the queue drain
			after, err := l.Counters()
			if err != nil {
				t.Fatal(err)
			}
			got := after["eth0"].TxPackets - before["eth0"].TxPackets
			t.Logf("eth0 sent %d of 3000 frames", got)
			if got < tt.min || got > tt.max {
				t.Errorf("eth0 sent %d of 3000 frames, want %d..%d", got, tt.min, tt.max)
			}
		})
	}
}

// TestIntegrationConcurrentLabs runs three labs at once, as parallel
// packages' tests do, and checks that each answers its own ground truth.
func TestIntegrationConcurrentLabs(t *testing.T) {
	skipUnlessRoot(t)
	for i := range 3 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t, &lab.Config{Seed: uint64(100 + i), Open: 0.05})
			g, err := l.GroundTruth()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range g.Open[445][:5] {
				ap := netip.AddrPortFrom(a, 445)
				if got := probe(t, l, ap, 2*time.Second); got != lab.StateOpen {
					t.Errorf("%v: %s, want open", ap, got)
				}
			}
		})
	}
}

// TestIntegrationDelay checks the wire: with 40 ms of delay each way, a
// TCP handshake from the scanner namespace takes at least 80 ms, and
// everything still answers as the ground truth says.
func TestIntegrationDelay(t *testing.T) {
	skipUnlessRoot(t)
	const delay = 40 * time.Millisecond
	l := labtest.New(t, &lab.Config{Delay: delay, Jitter: 5 * time.Millisecond, Seed: 12})
	g, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addrs []netip.Addr
		want  lab.PortState
	}{{g.Open[445][:5], lab.StateOpen}, {g.Closed[445][:5], lab.StateClosed}} {
		for _, a := range tt.addrs {
			ap := netip.AddrPortFrom(a, 445)
			start := time.Now()
			got := probe(t, l, ap, 3*time.Second)
			rtt := time.Since(start)
			if got != tt.want {
				t.Errorf("%v: %s, want %s", ap, got, tt.want)
			}
			// A lower bound only: a loaded machine can add, never remove.
			if rtt < 2*(delay-5*time.Millisecond) {
				t.Errorf("%v: handshake took %v, want ≥ %v", ap, rtt, 2*(delay-5*time.Millisecond))
			}
		}
	}
	if st := l.Status(); !strings.Contains(st.Impairment, "delay 40ms ± 5ms (wire)") {
		t.Errorf("Impairment = %q", st.Impairment)
	}
}
