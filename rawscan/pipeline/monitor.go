package pipeline

import (
	"context"
	"time"

	"github.com/smbsweep/smbsweep/rawscan/target"
)

// A snap is a position snapshot: every hit received before it has an
// epoch below its epoch.
type snap struct {
	epoch uint32
	st    target.State
	t     time.Time
	rate  float64
}

// monitor is the monitor goroutine: status, checkpoints, adaptive rate.
func (p *Pipeline) monitor(ctx context.Context) {
	status := time.NewTicker(p.cfg.StatusInterval)
	defer status.Stop()
	ckpt := time.NewTicker(p.cfg.CheckpointInterval)
	defer ckpt.Stop()
	var adapt *adaptive
	if a := p.cfg.Adaptive; a != nil && p.cfg.Scan.Rate > 0 {
		adapt = newAdaptive(a, p.cfg.Scan.Rate)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-status.C:
			st := p.Status()
			if adapt != nil && st.Phase == PhaseSending {
				if r, why := adapt.next(st); why != "" {
					p.scanner.Rate().Set(r)
					p.logf("pipeline: adaptive rate %.0f pps (%s)", r, why)
				}
			}
			if p.cfg.OnStatus != nil {
				p.cfg.OnStatus(st)
			}
		case <-ckpt.C:
			if err := p.checkpoint(false); err != nil {
				p.setErr(err)
			}
		}
	}
}

// positions returns the permutation state at the cursors' positions.
func (p *Pipeline) positions() target.State {
	st := p.layout()
	for t, c := range p.cursors {
		st.Positions[t] = c.pos.Load()
		st.Emitted[t] = c.emitted.Load()
	}
	return st
}

// lowEpoch advances p.low to the lowest epoch up to cur with hits not yet
// written, or cur+1 if there is none.
func (p *Pipeline) lowEpoch(cur uint32) uint32 {
	for p.low <= cur && p.outstanding[p.low%epochRing].Load() == 0 {
		p.low++
	}
	return p.low
}

// checkpoint commits the newest snapshot whose hits are all written and
// takes a new one; final commits the current positions if nothing is
// outstanding. It runs on the monitor goroutine, or after it has ended.
func (p *Pipeline) checkpoint(final bool) error {
	if p.cfg.CheckpointPath == "" {
		return nil
	}
	now := time.Now()
	cur := p.epoch.Load()
	low := p.lowEpoch(cur)
	var commit *snap
	for len(p.snaps) > 0 && p.snaps[0].epoch <= low {
		commit = &p.snaps[0]
		p.snaps = p.snaps[1:]
	}
	done := false
	if final && low > cur {
		commit = &snap{epoch: cur + 1, st: p.positions(), t: now, rate: p.scanner.Rate().Get()}
		done = p.exhausted() && p.aband.Load() == 0 && p.firstErr() == nil
	}
	if !final && cur+1-low < epochRing-1 {
		// The snapshot first, then the new epoch: a hit counted in the
		// old epoch was received no later than the snapshot.
		s := snap{st: p.positions(), t: now, rate: p.scanner.Rate().Get()}
		s.epoch = cur + 1
		p.epoch.Store(cur + 1)
		p.snaps = append(p.snaps, s)
	}
	if commit == nil {
		return nil
	}
	if err := p.cfg.Output.Sync(); err != nil {
		return err
	}
	c := &Checkpoint{
		Time: commit.t.UTC(), State: commit.st, OutputOffset: p.cfg.Output.Offset(),
		Rate: commit.rate, Cooldown: p.cfg.Scan.Cooldown, Done: done,
	}
	if err := c.Save(p.cfg.CheckpointPath); err != nil {
		return err
	}
	p.lastCkpt.Store(now.UnixNano())
	return nil
}

// Snapshot returns the run's counters without the rates (SendRate,
// ProbeRate, ETA), leaving the rate measurement of Status undisturbed: for
// scrapes and GET /status, which may come at any time.
func (p *Pipeline) Snapshot() *Status { return p.status(false) }

// Status returns a snapshot of the run, with rates measured since the
// previous call of Status. The monitor calls it every StatusInterval.
func (p *Pipeline) Status() *Status { return p.status(true) }

func (p *Pipeline) status(rates bool) *Status {
	now := time.Now()
	st := &Status{
		Time:         now.UTC(),
		Elapsed:      now.Sub(p.start),
		Phase:        p.phase.Load().(string),
		Scan:         scanStats(p.scanner.Stats()),
		RateLimit:    p.scanner.Rate().Get(),
		TargetsTotal: p.total,
		Hits:         p.hits.Load(),
		Resumed:      p.resumed.Load(),
		Queue:        p.q.depth(),
		Spilled:      max(p.q.pending.Load(), 0),
		SpilledTotal: p.q.total.Load(),
		InFlight:     p.inFlight.Load(),
		Probed:       p.probed.Load(),
		Written:      p.written.Load(),
		Abandoned:    p.aband.Load(),
		Held:         p.heldTotal.Load(),
		SilentSubnet: p.silentCut.Load(),
		ByStatus:     make(map[string]uint64, len(Statuses)),
	}
	if st.Phase == PhaseSending && !st.Scan.SendEnd.IsZero() {
		st.Phase = PhaseCooldown
	}
	for _, s := range Statuses {
		st.ByStatus[string(s)] = p.byStatus[s].Load()
	}
	if t := p.lastCkpt.Load(); t != 0 {
		st.Checkpoint = time.Unix(0, t).UTC()
	}
	var drawn uint64
	for _, c := range p.cursors {
		drawn += c.emitted.Load()
	}
	if p.total > 0 {
		st.Done = min(float64(drawn)/float64(p.total), 1)
	}
	if p.exhausted() {
		st.Done = 1
	}
	if st.Scan.Targets > 0 {
		st.HitRate = float64(st.Hits+st.Resumed) / float64(st.Scan.Targets)
	}
	p.mu.Lock()
	prev := p.prev
	if rates {
		p.prev = st
	} else if prev != nil {
		st.SendRate, st.ProbeRate, st.ETA = prev.SendRate, prev.ProbeRate, prev.ETA
		prev = nil
	}
	p.mu.Unlock()
	if prev != nil {
		if dt := st.Time.Sub(prev.Time).Seconds(); dt > 0 {
			st.SendRate = float64(st.Scan.Sent-prev.Scan.Sent) / dt
			st.ProbeRate = float64(st.Probed-prev.Probed) / dt
			tps := float64(st.Scan.Targets-prev.Scan.Targets) / dt
			if tps > 0 && drawn < p.total {
				st.ETA = time.Duration(float64(p.total-drawn) / tps * float64(time.Second))
			}
		}
	}
	return st
}
