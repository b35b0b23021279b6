package pipeline

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// The dispatcher sits between the queue and the SMB workers:
//
//	queue.out ─► dispatcher ─┬─► idle worker (or a new one, up to Config.Workers)
//	                         └─► held (dense /24, scan still sending) ─► released at send end or HoldMax
//
// It is one goroutine and owns its state; workers tell it they are idle
// again over idle.

// holdPoll is how often the dispatcher checks whether sending has ended
// while it holds hits.
const holdPoll = 5 * time.Millisecond

// held is a hit waiting for the scan to stop sending to its /24.
type held struct {
	h     Hit
	until time.Time // HoldMax after it was held
}

// dispatch runs the dispatcher until in is closed and every hit was
// handed to a worker (or abandoned after ctx ended), then closes out's
// producers: it returns once every worker it started has returned.
func (p *Pipeline) dispatch(ctx context.Context, in <-chan Hit, out chan<- *Record) {
	var (
		workers sync.WaitGroup
		work    = make(chan Hit)
		idle    = make(chan struct{}, p.cfg.Workers)
		running int // workers started
		free    int // of them, idle
		ready   []Hit
		hold    []held
		dense   = make(map[netip.Prefix]int)
		sending = true
		tick    *time.Ticker
		tickC   <-chan time.Time
	)
	defer func() {
		if tick != nil {
			tick.Stop()
		}
		close(work)
		// Workers still probing report idle once more before they see
		// work closed: take those reports until the last one returns.
		finished := make(chan struct{})
		go func() {
			workers.Wait()
			close(finished)
		}()
		for {
			select {
			case <-idle:
			case <-finished:
				return
			}
		}
	}()
	// sendingOver reports whether the scan stopped sending for good.
	sendingOver := func() bool { return p.stop.Load() || p.exhausted() }
	release := func(all bool) {
		now := time.Now()
		n := 0
		for _, x := range hold {
			if all || !now.Before(x.until) {
				ready = append(ready, x.h)
			} else {
				hold[n] = x
				n++
			}
		}
		clear(hold[n:])
		hold = hold[:n]
		if len(hold) == 0 && tick != nil {
			tick.Stop()
			tick, tickC = nil, nil
		}
	}
	for in != nil || len(ready) > 0 || len(hold) > 0 {
		if ctx.Err() != nil {
			// Cut off: whatever is not in a worker is abandoned.
			p.aband.Add(uint64(len(ready) + len(hold)))
			ready, hold = nil, nil
			if in != nil {
				for range in {
					p.aband.Add(1)
				}
			}
			return
		}
		if sending && sendingOver() {
			sending = false
			clear(dense)
			release(true)
		}
		// Hand out what is ready: to an idle worker, or to a new one.
		for len(ready) > 0 && free == 0 && running < p.cfg.Workers {
			h := ready[0]
			ready = ready[1:]
			running++
			workers.Go(func() { p.work(ctx, h, work, idle, out) })
		}
		var (
			workC chan<- Hit
			next  Hit
		)
		if len(ready) > 0 {
			workC, next = work, ready[0]
		}
		inC := in
		if len(ready) >= p.cfg.QueueSize {
			inC = nil // let the queue fill and spill
		}
		select {
		case workC <- next:
			ready = ready[1:]
			free--
		case <-idle:
			free++
		case h, ok := <-inC:
			if !ok {
				in = nil
				release(true)
				continue
			}
			if !sending || p.cfg.HoldDense < 0 {
				ready = append(ready, h)
				continue
			}
			s, _ := h.Target.Addr().Prefix(subnetBits(h.Target.Addr()))
			dense[s]++
			if dense[s] <= p.cfg.HoldDense {
				ready = append(ready, h)
				continue
			}
			hold = append(hold, held{h: h, until: time.Now().Add(p.cfg.HoldMax)})
			p.heldTotal.Add(1)
			if tick == nil {
				tick = time.NewTicker(holdPoll)
				tickC = tick.C
			}
		case <-tickC:
			release(false)
		}
	}
}

// subnetBits is the size of the subnet whose hits count together for
// Config.HoldDense: a /24 for IPv4 (the smallest prefix routed on the
// internet), a /64 for IPv6.
func subnetBits(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return 24
	}
	return 64
}

// work is one SMB worker: it probes first, then every hit it is handed,
// telling the dispatcher each time it is idle again.
func (p *Pipeline) work(ctx context.Context, first Hit, in <-chan Hit, idle chan<- struct{}, out chan<- *Record) {
	h, ok := first, true
	for ok {
		p.probe(ctx, &h, out)
		idle <- struct{}{}
		h, ok = <-in
	}
}

// probe probes one hit and hands its record to the writer.
func (p *Pipeline) probe(ctx context.Context, h *Hit, out chan<- *Record) {
	if ctx.Err() != nil {
		p.aband.Add(1)
		return
	}
	p.inFlight.Add(1)
	t0 := time.Now()
	r := p.cfg.Prober.Probe(ctx, h.Target)
	p.inFlight.Add(-1)
	if r.Status == smbprobe.StatusCanceled && ctx.Err() != nil {
		// Cut off by a stop: a resume probes it again.
		p.aband.Add(1)
		return
	}
	p.latency.Observe(time.Since(t0).Seconds())
	p.probed.Add(1)
	if c, ok := p.byStatus[r.Status]; ok {
		c.Add(1)
	} else {
		p.byStatus[smbprobe.StatusUnknownError].Add(1)
	}
	out <- recordFrom(h, r)
}
