package smbprobe

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeLauncher launches f's probes of every target but port 139's on a
// goroutine of their own, as the reactor runs them without a worker, and
// counts the calls to expire.
func fakeLauncher(f *fakeProbes, expired *atomic.Int32) *launcher {
	return &launcher{
		start: func(ctx context.Context, t netip.AddrPort, done chan<- finished) bool {
			if t.Port() == 139 {
				return false
			}
			go func() { done <- finished{subnet: Subnet(t.Addr()), r: f.probe(ctx, t)} }()
			return true
		},
		expire: func(chan<- finished) { expired.Add(1) },
	}
}

// TestRunLaunched: probes that Run launches itself share the workers'
// bound and the per-subnet bound with those that go to workers, and
// every target gets one result.
func TestRunLaunched(t *testing.T) {
	nb := hosts("198.18.3.0", 40)
	for i := range nb {
		nb[i] = netip.AddrPortFrom(nb[i].Addr(), 139)
	}
	tests := []struct {
		name             string
		workers          int
		perSubnet        int
		targets          []netip.AddrPort
		wantPeak         map[netip.Prefix]int
		wantPeakAll      int
		wantWorkerProbes int
	}{
		{
			name: "all launched, bounded per subnet", workers: 64, perSubnet: 8,
			targets: append(hosts("198.18.0.0", 100), hosts("198.18.1.0", 100)...),
			wantPeak: map[netip.Prefix]int{
				netip.MustParsePrefix("198.18.0.0/24"): 8,
				netip.MustParsePrefix("198.18.1.0/24"): 8,
			},
			wantPeakAll: 16,
		},
		{
			name: "all launched, bounded by the workers", workers: 12, perSubnet: -1,
			targets:     hosts("198.18.0.0", 100),
			wantPeak:    map[netip.Prefix]int{netip.MustParsePrefix("198.18.0.0/24"): 12},
			wantPeakAll: 12,
		},
		{
			name: "launched and workers together", workers: 20, perSubnet: -1,
			targets: append(hosts("198.18.0.0", 60), nb...),
			wantPeak: map[netip.Prefix]int{
				netip.MustParsePrefix("198.18.0.0/24"): 20,
				netip.MustParsePrefix("198.18.3.0/24"): 20,
			},
			wantPeakAll:      20,
			wantWorkerProbes: 40,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProbes()
			f.hold = func(ctx context.Context, t netip.AddrPort, _ int) {
				// Long enough for every free slot to be taken.
				time.Sleep(5 * time.Millisecond)
			}
			var workerProbes atomic.Int32
			viaWorker := func(ctx context.Context, t netip.AddrPort) *Result {
				workerProbes.Add(1)
				return f.probe(ctx, t)
			}
			var expired atomic.Int32
			got := map[netip.AddrPort]int{}
			err := runOn(context.Background(), tt.workers, tt.perSubnet, viaWorker, fakeLauncher(f, &expired), feed(tt.targets), func(r *Result) error {
				got[netip.AddrPortFrom(r.IP, r.Port)]++
				return nil
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			want := map[netip.AddrPort]int{}
			for _, t := range tt.targets {
				want[t]++
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results per target (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPeak, f.peaks()); diff != "" {
				t.Errorf("most probes in flight per subnet (-want +got):\n%s", diff)
			}
			f.mu.Lock()
			peakAll := f.peakAll
			f.mu.Unlock()
			if peakAll != tt.wantPeakAll {
				t.Errorf("most probes in flight = %d, want %d", peakAll, tt.wantPeakAll)
			}
			if n := int(workerProbes.Load()); n != tt.wantWorkerProbes {
				t.Errorf("probes run by workers = %d, want %d", n, tt.wantWorkerProbes)
			}
			if n := expired.Load(); n != 0 {
				t.Errorf("expire called %d times without cancellation", n)
			}
		})
	}
}

// TestRunLaunchedCanceled: canceling Run expires the launched probes and
// still emits their results.
func TestRunLaunchedCanceled(t *testing.T) {
	f := newFakeProbes()
	f.hold = func(ctx context.Context, _ netip.AddrPort, _ int) { <-ctx.Done() }
	ctx, cancel := context.WithCancel(context.Background())
	var expired atomic.Int32
	targets := make(chan netip.AddrPort) // never closed
	go func() {
		for _, t := range hosts("198.18.0.0", 10) {
			targets <- t
		}
		for { // all 10 in flight: Run drops targets it has not started
			f.mu.Lock()
			n := f.started
			f.mu.Unlock()
			if n == 10 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		cancel()
	}()
	n := 0
	err := runOn(ctx, 32, -1, f.probe, fakeLauncher(f, &expired), targets, func(r *Result) error {
		if r.Status != StatusCanceled {
			t.Errorf("%v: status %q, want %q", r.IP, r.Status, StatusCanceled)
		}
		n++
		return nil
	})
	if err != context.Canceled {
		t.Errorf("run = %v, want %v", err, context.Canceled)
	}
	if n != 10 {
		t.Errorf("%d results, want 10", n)
	}
	if expired.Load() == 0 {
		t.Error("expire not called on cancellation")
	}
}
