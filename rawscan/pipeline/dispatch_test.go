package pipeline

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// dialLog is a prober's dialer that records every address dialed and
// refuses the connection once gate lets it (gate nil: at once), so a probe
// is one dial and no I/O.
type dialLog struct {
	mu       sync.Mutex
	dialed   []netip.Addr
	inFlight int
	peak     int
	gate     chan struct{}
	block    func(netip.Addr) bool // whether a dial waits for gate; nil: all do
	timeout  func(netip.Addr) bool // whether a dial times out (no answer) instead of refusing
	delay    time.Duration         // every dial takes this long
	each     chan netip.Addr       // every dial, as it starts
}

func (d *dialLog) dial(ctx context.Context, _, address string) (net.Conn, error) {
	ap := netip.MustParseAddrPort(address)
	d.mu.Lock()
	d.dialed = append(d.dialed, ap.Addr())
	d.inFlight++
	d.peak = max(d.peak, d.inFlight)
	d.mu.Unlock()
	d.each <- ap.Addr()
	time.Sleep(d.delay)
	if d.gate != nil && (d.block == nil || d.block(ap.Addr())) {
		select {
		case <-d.gate:
		case <-ctx.Done():
		}
	}
	d.mu.Lock()
	d.inFlight--
	d.mu.Unlock()
	if d.timeout != nil && d.timeout(ap.Addr()) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// dispatchPipeline is a Pipeline with just what dispatch needs: one
// cursor (not exhausted: the scan is "sending") and a prober dialing
// through d.
func dispatchPipeline(d *dialLog, workers, holdDense int, holdMax time.Duration) *Pipeline {
	p := &Pipeline{
		cfg: Config{
			Prober:  smbprobe.New(&smbprobe.Config{Dial: d.dial, SkipSMB1: true}),
			Workers: workers, HoldDense: holdDense, HoldMax: holdMax, QueueSize: 1 << 10,
			DenseProbes: DefaultDenseProbes,
		},
		byStatus: make(map[smbprobe.Status]*atomic.Uint64, len(Statuses)),
		latency:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t"}),
	}
	for _, s := range Statuses {
		p.byStatus[s] = new(atomic.Uint64)
	}
	p.cursors = []*cursor{{stop: &p.stop}}
	return p
}

// hitsIn returns n hits in subnet s (a /24), from .1 up.
func hitsIn(s string, n int) []Hit {
	a := netip.MustParsePrefix(s).Addr()
	var hs []Hit
	for range n {
		a = a.Next()
		hs = append(hs, Hit{Target: netip.AddrPortFrom(a, 445)})
	}
	return hs
}

// recv takes n values from c, failing after a generous timeout.
func recv[T any](t *testing.T, c <-chan T, n int) []T {
	t.Helper()
	var got []T
	for range n {
		select {
		case v := <-c:
			got = append(got, v)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d", len(got), n)
		}
	}
	return got
}

func TestDispatchHoldsDenseSubnets(t *testing.T) {
	tests := []struct {
		name      string
		holdDense int
		holdMax   time.Duration
		endSend   bool // end sending after the first wave
		wantFirst int  // probes before sending ends (or HoldMax)
		wantHeld  uint64
	}{
		{name: "held until sending ends", holdDense: 4, holdMax: time.Hour, endSend: true, wantFirst: 4 + 2, wantHeld: 6},
		{name: "held until HoldMax", holdDense: 4, holdMax: 300 * time.Millisecond, wantFirst: 4 + 2, wantHeld: 6},
		{name: "never held", holdDense: -1, holdMax: time.Hour, wantFirst: 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dialLog{each: make(chan netip.Addr, 64)}
			p := dispatchPipeline(d, 64, tt.holdDense, tt.holdMax)
			// 10 hits of a dense /24, 2 of a sparse one.
			hits := append(hitsIn("198.18.1.0/24", 10), hitsIn("198.18.2.0/24", 2)...)
			in, out, done := startDispatch(context.Background(), p, hits, 64, false)
			recv(t, d.each, tt.wantFirst)
			if tt.wantFirst < len(hits) && tt.holdMax == time.Hour {
				// Nothing more while the scan sends.
				select {
				case a := <-d.each:
					t.Fatalf("%v probed while sending; HoldDense %d", a, tt.holdDense)
				case <-time.After(200 * time.Millisecond):
				}
			}
			if tt.endSend {
				p.cursors[0].exhausted.Store(true)
			}
			recv(t, d.each, len(hits)-tt.wantFirst)
			close(in)
			<-done
			close(out)
			var got []netip.Addr
			for r := range out {
				if r.Status != smbprobe.StatusConnectionRefused {
					t.Errorf("%v: status %q, want %q", r.IP, r.Status, smbprobe.StatusConnectionRefused)
				}
				got = append(got, r.IP)
			}
			var want []netip.Addr
			for _, h := range hits {
				want = append(want, h.Target.Addr())
			}
			slices.SortFunc(got, netip.Addr.Compare)
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if p.heldTotal.Load() != tt.wantHeld {
				t.Errorf("held %d, want %d", p.heldTotal.Load(), tt.wantHeld)
			}
		})
	}
}

func TestDispatchGrowsUpToWorkers(t *testing.T) {
	const workers, n = 5, 40
	d := &dialLog{each: make(chan netip.Addr, n), gate: make(chan struct{})}
	p := dispatchPipeline(d, workers, -1, time.Hour)
	_, out, done := startDispatch(context.Background(), p, hitsIn("198.18.0.0/16", n), n, true)
	recv(t, d.each, workers)
	select {
	case a := <-d.each:
		t.Fatalf("probe of %v started with %d workers busy", a, workers)
	case <-time.After(200 * time.Millisecond):
	}
	close(d.gate)
	recv(t, d.each, n-workers)
	<-done
	if len(out) != n {
		t.Errorf("%d records, want %d", len(out), n)
	}
	if d.peak != workers {
		t.Errorf("peak %d probes in flight, want %d", d.peak, workers)
	}
}

func TestDispatchAbandonsOnCancel(t *testing.T) {
	d := &dialLog{each: make(chan netip.Addr, 64), gate: make(chan struct{})}
	p := dispatchPipeline(d, 2, 1, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	_, out, done := startDispatch(ctx, p, hitsIn("198.18.1.0/24", 10), 64, true)
	recv(t, d.each, 1) // one probed, nine held
	cancel()
	<-done
	// The probe cut off by the cancel is abandoned too.
	if got := p.aband.Load() + uint64(len(out)); got != 10 {
		t.Errorf("abandoned %d + written %d, want 10 in all", p.aband.Load(), len(out))
	}
}

func TestDispatchPacesAnsweringSubnets(t *testing.T) {
	const denseProbes = 3
	answering, silent := hitsIn("198.18.1.0/24", 12), hitsIn("198.18.2.0/24", 12)
	d := &dialLog{
		each: make(chan netip.Addr, 64), gate: make(chan struct{}),
		// The answering /24's first two hosts refuse at once (an
		// answer); every other dial waits for the gate.
		block: func(a netip.Addr) bool { return !(a == answering[0].Target.Addr() || a == answering[1].Target.Addr()) },
	}
	p := dispatchPipeline(d, 64, 2, time.Hour)
	p.cfg.DenseProbes = denseProbes
	var hits []Hit
	for i := range answering {
		hits = append(hits, answering[i], silent[i])
	}
	in, out, done := startDispatch(context.Background(), p, hits, 64, false)
	recv(t, d.each, 4) // two of each while sending
	recv(t, out, 2)    // the answering /24's answers
	// The workers report to the dispatcher after writing the record;
	// give it time to take the reports before sending ends.
	time.Sleep(300 * time.Millisecond)
	p.cursors[0].exhausted.Store(true)
	// Released: the silent /24's ten at once, the answering one's paced.
	got := recv(t, d.each, 10+denseProbes)
	var fromAnswering int
	for _, a := range got {
		if netip.MustParsePrefix("198.18.1.0/24").Contains(a) {
			fromAnswering++
		}
	}
	if fromAnswering != denseProbes {
		t.Errorf("%d probes of the answering /24 in flight, want DenseProbes = %d", fromAnswering, denseProbes)
	}
	select {
	case a := <-d.each:
		t.Fatalf("probe of %v started beyond the pace", a)
	case <-time.After(200 * time.Millisecond):
	}
	close(in) // the queue closes only after the scan
	close(d.gate)
	recv(t, d.each, 24-4-10-denseProbes)
	<-done
	if got := len(out) + 2; got != 24 {
		t.Errorf("%d records, want 24", got)
	}
}

func TestDispatchUnpacesOnTimeout(t *testing.T) {
	const denseProbes = 3
	hits := hitsIn("198.18.1.0/24", 12)
	addr := func(i int) netip.Addr { return hits[i].Target.Addr() }
	d := &dialLog{
		each: make(chan netip.Addr, 64), gate: make(chan struct{}),
		// .1 and .2 refuse at once (the subnet answers); .3, the
		// first paced probe, times out at once; the rest wait.
		block:   func(a netip.Addr) bool { return a != addr(0) && a != addr(1) && a != addr(2) },
		timeout: func(a netip.Addr) bool { return a == addr(2) },
	}
	p := dispatchPipeline(d, 64, 2, time.Hour)
	p.cfg.DenseProbes = denseProbes
	in, out, done := startDispatch(context.Background(), p, hits, 64, false)
	recv(t, d.each, 2)
	recv(t, out, 2)
	time.Sleep(300 * time.Millisecond) // the dispatcher takes the reports
	p.cursors[0].exhausted.Store(true)
	// Paced: .3 .4 .5; .3 times out, and the seven left go at once
	// (paced, only one would replace it until the prober's 3 s connect
	// timeout ends .4 and .5).
	deadline := time.After(2 * time.Second)
	for n := range 10 {
		select {
		case <-d.each:
		case <-deadline:
			t.Fatalf("%d of 10 probes started within 2 s of sending's end", n)
		}
	}
	close(in)
	close(d.gate)
	<-done
	if len(out) != 10 {
		t.Errorf("%d more records, want 10", len(out))
	}
}

func TestDispatchPaceDoublesWhenSlow(t *testing.T) {
	// One held /24 of 61 hosts at 100 ms each, paced 1 at a time: 6 s,
	// over paceBudget, so the pace doubles.
	hits := hitsIn("198.18.1.0/24", 62)
	d := &dialLog{each: make(chan netip.Addr, 64), delay: 100 * time.Millisecond}
	p := dispatchPipeline(d, 64, 1, time.Hour)
	p.cfg.DenseProbes = 1
	in, out, done := startDispatch(context.Background(), p, hits, 64, false)
	recv(t, out, 1) // the subnet answered
	time.Sleep(100 * time.Millisecond)
	p.cursors[0].exhausted.Store(true)
	recv(t, d.each, len(hits))
	close(in)
	<-done
	if len(out) != len(hits)-1 {
		t.Errorf("%d more records, want %d", len(out), len(hits)-1)
	}
	if d.peak < 2 {
		t.Errorf("peak %d probes in flight: the pace never doubled", d.peak)
	}
}

// startDispatch runs p.dispatch in a goroutine on hits, queued in a
// channel of room (closed first if closeIn), and returns that channel, the
// records' channel (also of room) and one closed when dispatch returns.
func startDispatch(ctx context.Context, p *Pipeline, hits []Hit, room int, closeIn bool) (chan Hit, chan *Record, chan struct{}) {
	in := make(chan Hit, room)
	out := make(chan *Record, room)
	for _, h := range hits {
		in <- h
	}
	if closeIn {
		close(in)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.dispatch(ctx, in, out)
	}()
	return in, out, done
}

// TestDispatchHoldsByShare checks that a subnet counts as dense only when
// its share of the hits is far above its share of the targets: one
// machine answering for the subnet, not a busy but ordinary one.
func TestDispatchHoldsByShare(t *testing.T) {
	tests := []struct {
		name       string
		background int // hits of other /24s first, one each
		wantFirst  int // of 10 hits of one /24, probed while sending
	}{
		{name: "the only subnet answering", background: 0, wantFirst: 4},
		{name: "busy among many", background: 400, wantFirst: 10}, // dense from 8 x 410/256 = 12.8 hits
		{name: "at the edge", background: 200, wantFirst: 6},      // 7 >= 8 x 207/256 = 6.5
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &dialLog{each: make(chan netip.Addr, 512)}
			p := dispatchPipeline(d, 512, 4, time.Hour)
			p.spread = 256.0 / 65536 // a /16, one port
			var hits []Hit
			for i := range tt.background {
				hits = append(hits, hitsIn(fmt.Sprintf("198.19.%d.0/24", i%256), 1+i/256)[i/256:]...)
			}
			dense := hitsIn("198.18.1.0/24", 10)
			hits = append(hits, dense...)
			in, out, done := startDispatch(context.Background(), p, hits, len(hits), false)
			recv(t, d.each, tt.background+tt.wantFirst)
			select {
			case a := <-d.each:
				t.Fatalf("%v probed while sending", a)
			case <-time.After(200 * time.Millisecond):
			}
			p.cursors[0].exhausted.Store(true)
			recv(t, d.each, len(dense)-tt.wantFirst)
			close(in)
			<-done
			close(out)
			if got, want := p.heldTotal.Load(), uint64(len(dense)-tt.wantFirst); got != want {
				t.Errorf("held %d, want %d", got, want)
			}
		})
	}
}
