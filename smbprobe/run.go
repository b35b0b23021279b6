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
//	(Run's goroutine)   │         ├─► worker 2 ─┼─► done (buffered, 4×Workers) ─┐
//	   │   ▲            │         └─► worker N ─┘   ▲                           │
//	   │   │            └─► launched on the reactor ┘ (port 445; see below)     │
//	   │   └── a slot of the host's subnet frees ◄── emit (same goroutine) ◄────┘
//	   └─► waiting (its subnet has SubnetProbes in flight; at most
//	       waitingPerWorker×Workers hosts in all)
//
// Up to Config.Workers goroutines, started as needed, each take a target,
// Probe it and pass the Result on. At most Config.SubnetProbes targets of one subnet (Subnet: a
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
//
// On the reactor (port 445 without a caller's Config.Dial, on Linux, and
// without Config.Shares, whose guest follow-up blocks), Run starts each
// probe itself and the reactor reports its end on the done channel: no
// worker goroutine, and one goroutine wake-up per host instead of three
// (worker, then Run). Other targets go to the workers; Config.Workers
// bounds both together.
func (p *Prober) Run(ctx context.Context, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	var l *launcher
	if p.react != nil && !p.cfg.Shares {
		l = &launcher{
			start: func(ctx context.Context, t netip.AddrPort, done chan<- finished) bool {
				if t.Port() == 139 {
					return false // NetBIOS: blocking sessions
				}
				p.react.start(p.begin(ctx, t), done)
				return true
			},
			expire: p.react.expireAll,
		}
	}
	return runOn(ctx, p.cfg.Workers, p.cfg.SubnetProbes, p.Probe, l, targets, emit)
}

// A launcher starts probes that report their end on Run's done channel
// by themselves, without a worker.
type launcher struct {
	// start starts probing t, unless t needs a worker (false). The
	// probe sends one finished on done, with pd and err (Run finishes
	// the Result) or with r and subnet, never blocking: done has room
	// for every probe in flight.
	start func(ctx context.Context, t netip.AddrPort, done chan<- finished) bool
	// expire makes every probe started on done end now, as if its
	// deadline had passed.
	expire func(done chan<- finished)
}

// waitingPerWorker bounds the targets Run holds back for busy subnets to
// waitingPerWorker×Workers: 16,384 with the defaults, 32 bytes each
// (netip.AddrPort) plus their subnets' queues. Input sorted by address
// (full /24s one after another) needs Workers/SubnetProbes subnets open at
// once to keep every worker busy, that is 16 × 256 = 4,096 waiting targets
// with the defaults; the bound leaves 4× headroom for ragged input.
const waitingPerWorker = 64

// finished is the report of one probe: a worker's (r set), or a
// launched probe's (pd and err set; Run finishes the Result).
type finished struct {
	subnet netip.Prefix // Subnet of the target; the zero Prefix when unbounded
	r      *Result
	pd     *pending
	err    error // connection A's error, with pd
	worker bool  // from a worker, which is idle again
}

// run is Run with its probe function as a parameter (a seam for tests):
// workers probes at once, at most perSubnet of one subnet (0 means
// DefaultSubnetProbes; negative means no bound).
func run(ctx context.Context, workers, perSubnet int, probe func(context.Context, netip.AddrPort) *Result, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	return runOn(ctx, workers, perSubnet, probe, nil, targets, emit)
}

// runOn is run with l, if not nil, starting the probes it can take
// without a worker.
func runOn(ctx context.Context, workers, perSubnet int, probe func(context.Context, netip.AddrPort) *Result, l *launcher, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if perSubnet == 0 {
		perSubnet = DefaultSubnetProbes
	}
	work := make(chan netip.AddrPort)
	done := make(chan finished, 4*workers)
	var wg sync.WaitGroup
	worker := func() {
		for t := range work {
			f := finished{r: probe(ctx, t), worker: true}
			if perSubnet > 0 {
				f.subnet = Subnet(t.Addr())
			}
			done <- f
		}
	}
	// Workers start when a target needs one and none is idle, so that
	// launched probes leave no idle goroutines behind (50,000 of them
	// held 8 KiB of stack each).
	started, busy := 0, 0 // workers; those given a target whose result is not in
	defer func() {
		close(work)
		wg.Wait()
	}()

	var (
		in      = targets
		ctxDone = ctx.Done()
		s       = newSlots(perSubnet, waitingPerWorker*workers)
		ready   []netip.AddrPort // holding a slot of their subnet, not yet with a worker
		running int              // with a worker or launched, result not yet emitted
		err     error
	)
	// stop drops every target not yet with a worker.
	stop := func() {
		in, ctxDone = nil, nil
		ready = nil
		s.reset()
		if l != nil {
			l.expire(done)
		}
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
			if running == workers {
				break // wait for a result
			}
			if l != nil && l.start(ctx, ready[0], done) {
				ready = ready[1:]
				running++
				continue
			}
			if busy == started {
				wg.Go(worker)
				started++
			}
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
			busy++
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
			if f.worker {
				busy--
			}
			if f.pd != nil {
				f.r = f.pd.finish(f.err)
				if perSubnet > 0 {
					f.subnet = Subnet(f.pd.target.Addr())
				}
			}
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
