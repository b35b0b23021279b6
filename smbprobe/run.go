package smbprobe

import (
	"context"
	"net/netip"
	"sync"
)

// Run is the probing stage of the pipeline:
//
//	targets (caller's channel)
//	   │
//	   ▼
//	dispatcher ──► ready ─► work ─┬─► worker 1 ─┐
//	(Run's goroutine)             ├─► worker 2 ─┼─► done (buffered, 4×Workers) ─┐
//	   │   ▲                      └─► worker N ─┘                               │
//	   │   └── a slot of the host's subnet frees ◄── emit (same goroutine) ◄────┘
//	   └─► waiting (its subnet has SubnetProbes in flight; at most
//	       waitingPerWorker×Workers hosts in all)
//
// Config.Workers goroutines each take a target, Probe it and pass the
// Result on. At most Config.SubnetProbes targets of one subnet (Subnet: a
// /24, a /64) are in flight at once; further targets of a busy subnet wait
// in arrival order while those of other subnets go on to idle workers, and
// Run stops reading targets only when the waiting hosts reach their bound
// (then every busy subnet has probes in flight that will free a slot). A
// subnet whose first SubnetProbes probes all time out (filtered hosts, a
// SYN proxy, a tarpit: no server to spare) has its bound lifted while it
// has probes in flight, so that its hosts do not queue behind timeouts.
//
// Run itself is the single writer and calls emit for every result, in
// completion order, never concurrently. Run returns when targets is closed
// and drained and every result has been emitted, or when ctx is canceled
// (in-flight probes end within their deadline, and their results are still
// emitted; targets not yet handed to a worker are dropped), or with the
// first error of emit, after which the remaining results are dropped.
func (p *Prober) Run(ctx context.Context, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	return run(ctx, p.cfg.Workers, p.cfg.SubnetProbes, p.Probe, targets, emit)
}

// waitingPerWorker bounds the targets Run holds back for busy subnets to
// waitingPerWorker×Workers: 16,384 with the defaults, 32 bytes each
// (netip.AddrPort) plus their subnets' queues. Input sorted by address
// (full /24s one after another) needs Workers/SubnetProbes subnets open at
// once to keep every worker busy, that is 16 × 256 = 4,096 waiting targets
// with the defaults; the bound leaves 4× headroom for ragged input.
const waitingPerWorker = 64

// finished is a worker's report of one probe.
type finished struct {
	subnet netip.Prefix // Subnet of the target; the zero Prefix when unbounded
	r      *Result
}

// run is Run with its probe function as a parameter (a seam for tests):
// workers probes at once, at most perSubnet of one subnet (0 means
// DefaultSubnetProbes; negative means no bound).
func run(ctx context.Context, workers, perSubnet int, probe func(context.Context, netip.AddrPort) *Result, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if perSubnet == 0 {
		perSubnet = DefaultSubnetProbes
	}
	work := make(chan netip.AddrPort)
	done := make(chan finished, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := range work {
				f := finished{r: probe(ctx, t)}
				if perSubnet > 0 {
					f.subnet = Subnet(t.Addr())
				}
				done <- f
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	var (
		in      = targets
		ctxDone = ctx.Done()
		s       = newSlots(perSubnet, waitingPerWorker*workers)
		ready   []netip.AddrPort // holding a slot of their subnet, not yet with a worker
		running int              // with a worker, result not yet emitted
		err     error
	)
	// stop drops every target not yet with a worker.
	stop := func() {
		in, ctxDone = nil, nil
		ready = nil
		s.reset()
	}
	for in != nil || len(ready) > 0 || running > 0 {
		if in != nil && ctx.Err() != nil {
			stop() // checked first: select picks ready cases at random
		}
		var (
			inC   <-chan netip.AddrPort
			workC chan<- netip.AddrPort
			next  netip.AddrPort
		)
		switch {
		case len(ready) > 0:
			workC, next = work, ready[0]
		case !s.full():
			// Read on only while no target waits for a worker: what a
			// busy worker pool would not take yet stays in targets.
			inC = in
		}
		select {
		case workC <- next:
			ready = ready[1:]
			running++
		case t, ok := <-inC:
			if !ok {
				in = nil
				continue
			}
			if s.take(t) {
				ready = append(ready, t)
			}
		case f := <-done:
			running--
			ready = s.free(f.subnet, f.r.Status, ready)
			if err == nil {
				if err = emit(f.r); err != nil {
					cancel()
					stop()
				}
			}
		case <-ctxDone:
			stop()
		}
	}
	if err == nil {
		err = ctx.Err() // the caller's cancellation; ours has not run yet
	}
	return err
}
