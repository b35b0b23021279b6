package pipeline

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// The dispatcher sits between the queue and the SMB workers:
//
//	queue.out ─► dispatcher ─┬─► idle worker (or a new one, up to Config.Workers)
//	                         └─► held (dense /24, scan still sending)
//	                                 └─► at send end (or HoldMax): ready, or, for a /24 that
//	                                     answered, paced at Config.DenseProbes in flight
//	                                     (doubled when slow, dropped on a paced timeout)
//
// It is one goroutine and owns its state; workers report each finished
// probe to it over done.

// paceBudget is how long a paced subnet's queue may take to drain at
// the pace's observed probe time: about a probe's read timeout, which the
// silent hosts of a scan cost anyway. When the queue would take longer,
// the pace doubles, so a slow server (or a loaded scanner) gets more load
// rather than holding the run up.
const paceBudget = 5 * time.Second

// holdPoll is how often the dispatcher checks whether sending has ended
// while it holds hits.
const holdPoll = 5 * time.Millisecond

// held is a hit waiting for the scan to stop sending to its /24.
type held struct {
	h     Hit
	until time.Time // HoldMax after it was held
}

// job is a hit handed to a worker; paced marks one that holds a slot of
// its dense subnet.
type job struct {
	h     Hit
	paced bool
}

// finished is a worker's report of one probe.
type finished struct {
	subnet   netip.Prefix
	answered bool // the host answered (any status but a timeout or a cut-off)
	paced    bool
	took     time.Duration
}

// count is what the dispatcher knows of a subnet while the scan sends.
type count struct {
	hits     int
	answered bool
}

// dense is a subnet that produced more than HoldDense hits.
type dense struct {
	answered bool          // some probe of it got an answer: a server to spare
	unpaced  bool          // a paced probe timed out: pacing only queues behind timeouts
	inFlight int           // paced probes in flight
	pace     int           // most paced probes in flight: DenseProbes, doubled as needed
	probed   int           // paced probes finished
	took     time.Duration // their total time
	waiting  []Hit         // released hits waiting for a paced slot
}

// dispatch runs the dispatcher until in is closed and every hit was
// handed to a worker (or abandoned after ctx ended), and returns once
// every worker it started has returned.
func (p *Pipeline) dispatch(ctx context.Context, in <-chan Hit, out chan<- *Record) {
	var (
		workers sync.WaitGroup
		work    = make(chan job)
		done    = make(chan finished, p.cfg.Workers)
		running int // workers started
		free    int // of them, idle
		ready   []job
		hold    []held
		counts  = make(map[netip.Prefix]count)
		since   = time.Now() // counts cover hits since then
		nhits   int          // all hits since then
		denses  = make(map[netip.Prefix]*dense)
		// nwaiting is the number of hits in the denses' waiting queues.
		nwaiting int
		sending  = true
		tick     *time.Ticker
		tickC    <-chan time.Time
	)
	defer func() {
		if tick != nil {
			tick.Stop()
		}
		close(work)
		// Workers still probing report once more before they see work
		// closed: take those reports until the last one returns.
		over := make(chan struct{})
		go func() {
			workers.Wait()
			close(over)
		}()
		for {
			select {
			case <-done:
			case <-over:
				return
			}
		}
	}()
	// admit moves a subnet's waiting hits to ready while it has slots.
	admit := func(d *dense) {
		for len(d.waiting) > 0 && d.inFlight < d.pace {
			ready = append(ready, job{h: d.waiting[0], paced: true})
			d.waiting = d.waiting[1:]
			nwaiting--
			d.inFlight++
		}
	}
	// release hands out held hits whose wait is over (all of them when
	// sending ended): a subnet that answered gets them paced.
	release := func(all bool) {
		now := time.Now()
		n := 0
		for _, x := range hold {
			if !all && now.Before(x.until) {
				hold[n] = x
				n++
				continue
			}
			d := denses[subnetOf(x.h)]
			if d == nil || !d.answered || d.unpaced {
				ready = append(ready, job{h: x.h})
				continue
			}
			d.waiting = append(d.waiting, x.h)
			nwaiting++
			admit(d)
		}
		clear(hold[n:])
		hold = hold[:n]
		if len(hold) == 0 && tick != nil {
			tick.Stop()
			tick, tickC = nil, nil
		}
	}
	for in != nil || len(ready) > 0 || len(hold) > 0 || nwaiting > 0 {
		if ctx.Err() != nil {
			// Cut off: whatever is not in a worker is abandoned.
			p.aband.Add(uint64(len(ready) + len(hold) + nwaiting))
			ready, hold, denses = nil, nil, nil
			if in != nil {
				for range in {
					p.aband.Add(1)
				}
			}
			return
		}
		if sending && (p.stop.Load() || p.exhausted()) {
			sending = false
			clear(counts)
			release(true)
		}
		// Hand out what is ready: to an idle worker, or to a new one.
		for len(ready) > 0 && free <= 0 && running < p.cfg.Workers {
			j := ready[0]
			ready = ready[1:]
			running++
			workers.Go(func() { p.work(ctx, j, work, done, out) })
		}
		var (
			workC chan<- job
			next  job
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
		case f := <-done:
			free++
			if c, ok := counts[f.subnet]; ok && f.answered {
				c.answered = true
				counts[f.subnet] = c
			}
			if d := denses[f.subnet]; d != nil {
				d.answered = d.answered || f.answered
				if f.paced {
					d.inFlight--
					d.probed++
					d.took += f.took
					mean := d.took / time.Duration(d.probed)
					if rounds := (len(d.waiting) + d.pace - 1) / d.pace; time.Duration(rounds)*mean > paceBudget {
						d.pace *= 2
					}
					if !f.answered && !d.unpaced {
						// A paced probe timed out: the server is
						// not keeping up, and pacing would only
						// line its other hosts up behind its
						// timeouts. They all go now.
						d.unpaced = true
						for _, h := range d.waiting {
							ready = append(ready, job{h: h})
						}
						nwaiting -= len(d.waiting)
						d.waiting = nil
					}
					admit(d)
				}
			}
		case h, ok := <-inC:
			if !ok {
				in = nil
				release(true)
				continue
			}
			if !sending || p.cfg.HoldDense < 0 {
				ready = append(ready, job{h: h})
				continue
			}
			if time.Since(since) > p.cfg.HoldMax {
				// A subnet is dense for the hits of one HoldMax; on a
				// long scan, this also bounds the map.
				clear(counts)
				since, nhits = time.Now(), 0
			}
			s := subnetOf(h)
			c := counts[s]
			c.hits++
			nhits++
			counts[s] = c
			if !p.dense(c.hits, nhits) {
				ready = append(ready, job{h: h})
				continue
			}
			if denses[s] == nil {
				denses[s] = &dense{pace: p.cfg.DenseProbes}
			}
			denses[s].answered = denses[s].answered || c.answered
			hold = append(hold, held{h: h, until: time.Now().Add(p.cfg.HoldMax)})
			p.heldTotal.Add(1)
			if tick == nil {
				tick = time.NewTicker(holdPoll)
				tickC = tick.C
			}
		case <-tickC:
			release(false)
		case <-ctx.Done():
			// Abandoned at the top of the loop.
		}
	}
}

// dense reports whether a subnet with hits of the scan's nhits hits is
// dense: it has more than HoldDense, and its share of the hits is at least
// denseShare times its share of the targets (Pipeline.spread: a whole /24
// of the permutation). Both counts lag the sender alike, however long the
// replies take. A subnet in which every address answers is dense after
// HoldDense+1 hits; a busy but ordinary one (a server farm, an office, the
// lab's services /24 at 4 times the lab's mean) is not, and its silent
// hosts are probed as their SYN-ACKs arrive. Without a permutation
// (tests), the hit count alone decides.
func (p *Pipeline) dense(hits, nhits int) bool {
	if hits <= p.cfg.HoldDense {
		return false
	}
	return p.spread == 0 || float64(hits) >= denseShare*float64(nhits)*p.spread
}

// denseShare is how many times its share of the targets a dense subnet's
// share of the hits is at least.
const denseShare = 8

// subnetOf is the subnet a hit counts in for Config.HoldDense and the
// pacing: the prober's own per-subnet unit (a /24, or a /64 for IPv6; an
// IPv4-mapped address counts as IPv4), so that run and probe bound the
// same thing.
func subnetOf(h Hit) netip.Prefix { return smbprobe.Subnet(h.Target.Addr()) }

// work is one SMB worker: it probes first, then every job it is handed,
// reporting each finished probe to the dispatcher.
func (p *Pipeline) work(ctx context.Context, first job, in <-chan job, done chan<- finished, out chan<- *Record) {
	j, ok := first, true
	for ok {
		t0 := time.Now()
		st := p.probe(ctx, &j.h, out)
		done <- finished{subnet: subnetOf(j.h), answered: answered(st), paced: j.paced, took: time.Since(t0)}
		j, ok = <-in
	}
}

// answered reports whether a probe's status shows the host answering:
// anything but a timeout or a cut-off ("" is a probe not run).
func answered(s smbprobe.Status) bool {
	switch s {
	case "", smbprobe.StatusIOTimeout, smbprobe.StatusConnectionTimeout, smbprobe.StatusCanceled:
		return false
	}
	return true
}

// probe probes one hit, hands its record to the writer and returns its
// status ("" if it was abandoned).
func (p *Pipeline) probe(ctx context.Context, h *Hit, out chan<- *Record) smbprobe.Status {
	if ctx.Err() != nil {
		p.aband.Add(1)
		return ""
	}
	p.inFlight.Add(1)
	t0 := time.Now()
	r := p.cfg.Prober.Probe(ctx, h.Target)
	p.inFlight.Add(-1)
	if r.Status == smbprobe.StatusCanceled && ctx.Err() != nil {
		// Cut off by a stop: a resume probes it again.
		p.aband.Add(1)
		return ""
	}
	p.latency.Observe(time.Since(t0).Seconds())
	p.probed.Add(1)
	if slices.Contains(r.Flags, smbprobe.FlagSilentSubnet) {
		p.silentCut.Add(1)
	}
	if c, ok := p.byStatus[r.Status]; ok {
		c.Add(1)
	} else {
		p.byStatus[smbprobe.StatusUnknownError].Add(1)
	}
	out <- recordFrom(h, r)
	return r.Status
}
