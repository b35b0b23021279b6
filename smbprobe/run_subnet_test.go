package smbprobe

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeProbes is a probe function for run that counts the probes in flight
// per subnet and blocks each probe until hold lets it go.
type fakeProbes struct {
	// hold, if not nil, decides when a probe of t may end: it is called
	// with the probe's context and returns when the probe may return.
	hold func(ctx context.Context, t netip.AddrPort, inSubnet int)
	// status, if not nil, gives the status of t's result; default success.
	status func(t netip.AddrPort) Status

	mu       sync.Mutex
	inFlight map[netip.Prefix]int
	peak     map[netip.Prefix]int
	total    int // probes in flight, all subnets
	peakAll  int
	started  int
}

func newFakeProbes() *fakeProbes {
	return &fakeProbes{inFlight: map[netip.Prefix]int{}, peak: map[netip.Prefix]int{}}
}

func (f *fakeProbes) probe(ctx context.Context, t netip.AddrPort) *Result {
	s := Subnet(t.Addr())
	f.mu.Lock()
	f.inFlight[s]++
	n := f.inFlight[s]
	f.peak[s] = max(f.peak[s], n)
	f.total++
	f.peakAll = max(f.peakAll, f.total)
	f.started++
	f.mu.Unlock()
	if f.hold != nil {
		f.hold(ctx, t, n)
	}
	f.mu.Lock()
	f.inFlight[s]--
	f.total--
	f.mu.Unlock()
	status := StatusSuccess
	switch {
	case ctx.Err() != nil:
		status = StatusCanceled
	case f.status != nil:
		status = f.status(t)
	}
	return &Result{IP: t.Addr().Unmap(), Port: t.Port(), Status: status}
}

func (f *fakeProbes) peaks() map[netip.Prefix]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[netip.Prefix]int, len(f.peak))
	for s, n := range f.peak {
		m[s] = n
	}
	return m
}

// untilSubnetFull holds a probe until its subnet has want probes in flight
// or a while has passed, so that a bound that is not enforced shows as a
// peak above it, and one that is shows as a peak of exactly the bound.
func untilSubnetFull(f *fakeProbes, want int) func(context.Context, netip.AddrPort, int) {
	return func(ctx context.Context, t netip.AddrPort, _ int) {
		s := Subnet(t.Addr())
		deadline := time.Now().Add(50 * time.Millisecond)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			f.mu.Lock()
			n := f.inFlight[s]
			f.mu.Unlock()
			if n >= want {
				time.Sleep(time.Millisecond) // let an excess probe, if any, start
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// hosts returns n targets on port 445 from first on, in address order.
func hosts(first string, n int) []netip.AddrPort {
	a := netip.MustParseAddr(first)
	ts := make([]netip.AddrPort, n)
	for i := range ts {
		ts[i] = netip.AddrPortFrom(a, 445)
		a = a.Next()
	}
	return ts
}

// feed returns a closed channel holding ts.
func feed(ts []netip.AddrPort) <-chan netip.AddrPort {
	c := make(chan netip.AddrPort, len(ts))
	for _, t := range ts {
		c <- t
	}
	close(c)
	return c
}

func TestRunSubnetBound(t *testing.T) {
	mixed := append(hosts("198.18.0.0", 200), hosts("198.18.1.0", 100)...)
	mixed = append(mixed, hosts("198.18.2.7", 3)...)
	tests := []struct {
		name      string
		workers   int
		perSubnet int // as in Config.SubnetProbes
		targets   []netip.AddrPort
		wantPeak  map[netip.Prefix]int
	}{
		{
			name: "one /24, default bound", workers: 256, perSubnet: 0,
			targets:  hosts("198.18.0.0", 256),
			wantPeak: map[netip.Prefix]int{netip.MustParsePrefix("198.18.0.0/24"): DefaultSubnetProbes},
		},
		{
			name: "one /24, bound 4", workers: 64, perSubnet: 4,
			targets:  hosts("198.18.0.0", 100),
			wantPeak: map[netip.Prefix]int{netip.MustParsePrefix("198.18.0.0/24"): 4},
		},
		{
			name: "three /24s share the workers", workers: 20, perSubnet: 8,
			targets: mixed,
			wantPeak: map[netip.Prefix]int{
				netip.MustParsePrefix("198.18.0.0/24"): 8,
				netip.MustParsePrefix("198.18.1.0/24"): 8,
				netip.MustParsePrefix("198.18.2.0/24"): 3,
			},
		},
		{
			name: "IPv6 counts per /64, mapped IPv4 per /24", workers: 64, perSubnet: 5,
			targets: append(append(hosts("2001:db8::1", 40), hosts("2001:db8:0:1::1", 2)...), hosts("::ffff:198.18.3.1", 30)...),
			wantPeak: map[netip.Prefix]int{
				netip.MustParsePrefix("2001:db8::/64"):     5,
				netip.MustParsePrefix("2001:db8:0:1::/64"): 2,
				netip.MustParsePrefix("198.18.3.0/24"):     5,
			},
		},
		{
			name: "no bound: the workers are the only limit", workers: 32, perSubnet: -1,
			targets:  hosts("198.18.0.0", 100),
			wantPeak: map[netip.Prefix]int{netip.MustParsePrefix("198.18.0.0/24"): 32},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProbes()
			want := tt.perSubnet
			switch {
			case want == 0:
				want = DefaultSubnetProbes
			case want < 0:
				want = tt.workers
			}
			f.hold = untilSubnetFull(f, want)
			got := map[netip.AddrPort]int{}
			err := run(context.Background(), tt.workers, tt.perSubnet, f.probe, feed(tt.targets), func(r *Result) error {
				got[netip.AddrPortFrom(r.IP, r.Port)]++
				return nil
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			wantGot := map[netip.AddrPort]int{}
			for _, t := range tt.targets {
				wantGot[netip.AddrPortFrom(t.Addr().Unmap(), t.Port())]++
			}
			if diff := cmp.Diff(wantGot, got); diff != "" {
				t.Errorf("results per target (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPeak, f.peaks()); diff != "" {
				t.Errorf("most probes in flight per subnet (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunTimeoutsLiftBound: a subnet whose first probes all time out has
// no server to spare and loses its bound; one that answered keeps it, even
// when its later probes time out.
func TestRunTimeoutsLiftBound(t *testing.T) {
	const perSubnet = 4
	firstAnswers := netip.MustParseAddr("198.18.1.0") // then times out
	tests := []struct {
		name     string
		first    string
		status   func(netip.AddrPort) Status
		min, max int // peak probes in flight in the subnet
	}{
		{"all time out", "198.18.0.0", func(netip.AddrPort) Status { return StatusConnectionTimeout }, 50, 96},
		{"all io-timeout", "198.18.0.0", func(netip.AddrPort) Status { return StatusIOTimeout }, 50, 96},
		{"first answers, rest time out", "198.18.1.0", func(t netip.AddrPort) Status {
			if t.Addr() == firstAnswers {
				return StatusSuccess
			}
			return StatusIOTimeout
		}, perSubnet, perSubnet},
		{"all answer", "198.18.2.0", func(netip.AddrPort) Status { return StatusSuccess }, perSubnet, perSubnet},
		{"refused counts as an answer", "198.18.2.0", func(netip.AddrPort) Status { return StatusConnectionRefused }, perSubnet, perSubnet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProbes()
			f.status = tt.status
			f.hold = untilSubnetFull(f, 96)
			ts := hosts(tt.first, 100)
			n := 0
			if err := run(context.Background(), 128, perSubnet, f.probe, feed(ts), func(*Result) error { n++; return nil }); err != nil {
				t.Fatalf("run: %v", err)
			}
			if n != len(ts) {
				t.Errorf("%d results, want %d", n, len(ts))
			}
			if p := f.peaks()[Subnet(ts[0].Addr())]; p < tt.min || p > tt.max {
				t.Errorf("peak %d probes in flight, want %d to %d", p, tt.min, tt.max)
			}
		})
	}
}

// TestRunBusySubnetDoesNotBlock puts a /24 whose probes never end (until the
// test lets them) ahead of hosts of other subnets: those must all be probed
// and emitted while the /24 holds its slots.
func TestRunBusySubnetDoesNotBlock(t *testing.T) {
	const workers, perSubnet = 32, 4
	busy := hosts("198.18.0.1", 200)
	var others []netip.AddrPort
	for i := range 100 {
		others = append(others, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(1 + i/50), byte(i)}), 445))
		others = append(others, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i), 1}), 445))
	}
	release := make(chan struct{})
	busyNet := Subnet(busy[0].Addr())
	f := newFakeProbes()
	f.hold = func(ctx context.Context, t netip.AddrPort, _ int) {
		if Subnet(t.Addr()) == busyNet {
			select {
			case <-release:
			case <-time.After(2 * time.Second): // the others are stuck: fail, not hang
			}
		}
	}
	otherLeft := len(others)
	var busyDone int
	err := run(context.Background(), workers, perSubnet, f.probe, feed(append(busy, others...)), func(r *Result) error {
		if Subnet(r.IP) == busyNet {
			busyDone++
			return nil
		}
		if otherLeft--; otherLeft == 0 {
			if busyDone != 0 {
				t.Errorf("%d hosts of the busy /24 done before the others", busyDone)
			}
			close(release)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if otherLeft != 0 || busyDone != len(busy) {
		t.Errorf("%d other hosts left, %d of %d busy hosts done", otherLeft, busyDone, len(busy))
	}
	if p := f.peaks()[busyNet]; p != perSubnet {
		t.Errorf("busy /24 had up to %d probes in flight, want %d", p, perSubnet)
	}
}

// TestRunWaitingBounded streams hosts of one /24 whose probes never end:
// run must stop reading at its bound of waiting targets (memory), and on
// cancellation emit the probes in flight, drop the waiting targets, and
// return once every worker has.
func TestRunWaitingBounded(t *testing.T) {
	const workers, perSubnet = 8, 3
	targets := make(chan netip.AddrPort)
	var (
		mu   sync.Mutex
		sent int
	)
	stopFeed := make(chan struct{})
	go func() {
		a := netip.MustParseAddr("198.18.0.1")
		for {
			select {
			case targets <- netip.AddrPortFrom(a, 445):
				mu.Lock()
				sent++
				mu.Unlock()
			case <-stopFeed:
				return
			}
		}
	}()
	defer close(stopFeed)
	f := newFakeProbes()
	f.hold = func(ctx context.Context, _ netip.AddrPort, _ int) { <-ctx.Done() }
	ctx, cancel := context.WithCancel(context.Background())
	var emitted []Status
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, workers, perSubnet, f.probe, targets, func(r *Result) error {
			emitted = append(emitted, r.Status)
			return nil
		})
	}()
	// The same host count for 100 ms: run has stopped reading.
	want := perSubnet + waitingPerWorker*workers
	last, stable := -1, 0
	for deadline := time.Now().Add(5 * time.Second); stable < 10; {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("run read %d targets (still changing, or stopped short), want it to stop at %d", last, want)
		}
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		n := sent
		mu.Unlock()
		if n == last && n >= want {
			stable++
		} else {
			stable = 0
		}
		last = n
	}
	if last != want {
		t.Errorf("run read %d targets, want %d (%d in flight + %d waiting)", last, want, perSubnet, waitingPerWorker*workers)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("run = %v, want %v", err, context.Canceled)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	if diff := cmp.Diff([]Status{StatusCanceled, StatusCanceled, StatusCanceled}, emitted); diff != "" {
		t.Errorf("results after cancel (-want +got):\n%s", diff)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.total != 0 || f.started != perSubnet {
		t.Errorf("%d probes still running, %d started; want 0 and %d", f.total, f.started, perSubnet)
	}
}

// TestRunSubnetEmitError stops at emit's error with a busy subnet waiting:
// the waiting targets are dropped and run returns the error.
func TestRunSubnetEmitError(t *testing.T) {
	f := newFakeProbes()
	f.hold = func(context.Context, netip.AddrPort, int) { time.Sleep(time.Millisecond) }
	errStop := errors.New("stop")
	calls := 0
	err := run(context.Background(), 16, 2, f.probe, feed(hosts("198.18.0.0", 256)), func(*Result) error {
		calls++
		if calls == 5 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 5 {
		t.Errorf("run = %v after %d calls, want %v after 5", err, calls, errStop)
	}
	if f.started > 5+2 {
		t.Errorf("%d probes started, want at most the 5 emitted and the 2 in flight", f.started)
	}
}

// BenchmarkRunSorted streams b.N targets sorted by address (full /24s one
// after another, the worst case for a per-subnet bound) through run with
// probes that take 1 ms, the defaults' 256 workers and 16 per subnet:
// ns/op is the pool's cost per target (hosts/s is bound by 256 / 1 ms),
// allocs/op its allocations.
func BenchmarkRunSorted(b *testing.B) {
	probe := func(ctx context.Context, t netip.AddrPort) *Result {
		time.Sleep(time.Millisecond)
		return &Result{IP: t.Addr(), Port: t.Port()}
	}
	for _, perSubnet := range []int{-1, DefaultSubnetProbes} {
		name := "unbounded"
		if perSubnet > 0 {
			name = "per-subnet-16"
		}
		b.Run(name, func(b *testing.B) {
			targets := make(chan netip.AddrPort, 1024)
			go func() {
				defer close(targets)
				a := netip.MustParseAddr("10.0.0.0")
				for range b.N {
					targets <- netip.AddrPortFrom(a, 445)
					a = a.Next()
				}
			}()
			b.ReportAllocs()
			t0 := time.Now()
			n := 0
			if err := run(context.Background(), 256, perSubnet, probe, targets, func(*Result) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "hosts/s")
		})
	}
}

// BenchmarkRunWaitingMemory fills run's waiting targets to their bound with
// the defaults (256 workers, 16 per subnet: 16,384 waiting) from one /24
// whose probes never end, and reports the Go heap they take.
func BenchmarkRunWaitingMemory(b *testing.B) {
	const workers = 256
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		targets := make(chan netip.AddrPort)
		ctx, cancel := context.WithCancel(context.Background())
		probe := func(ctx context.Context, t netip.AddrPort) *Result {
			<-ctx.Done()
			return &Result{IP: t.Addr(), Port: t.Port()}
		}
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, workers, 0, probe, targets, func(*Result) error { return nil })
		}()
		a := netip.MustParseAddr("198.18.0.1")
		want := DefaultSubnetProbes + waitingPerWorker*workers
		for range want {
			targets <- netip.AddrPortFrom(a, 445)
		}
		select {
		case targets <- netip.AddrPortFrom(a, 445):
			b.Fatal("run read past its bound")
		case <-time.After(50 * time.Millisecond):
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		cancel()
		<-errc
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(waitingPerWorker*workers), "waiting-hosts")
	}
}
