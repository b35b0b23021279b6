package pipeline

// AdaptiveConfig configures --adaptive: the rate backs off when the
// receiver drops frames or the hit rate collapses (both signs that replies
// are being lost on the path or in the kernel) and recovers otherwise,
// never above the configured rate.
type AdaptiveConfig struct {
	// Backoff multiplies the rate on a sign of loss; 0 means 0.7.
	Backoff float64
	// Recover multiplies the rate after a clean interval; 0 means 1.05.
	Recover float64
	// Floor is the lowest rate as a fraction of the configured one; 0
	// means 0.01.
	Floor float64
	// HitRateDrop is the fraction of the running hit rate below which an
	// interval's hit rate counts as a sign of loss; 0 means 0.5.
	HitRateDrop float64
}

// minAdaptiveSample is the number of targets the controller needs before
// it judges a hit rate; with fewer it holds the rate and keeps counting.
const minAdaptiveSample = 1000

// adaptive is the controller; the monitor goroutine owns it.
type adaptive struct {
	cfg                  AdaptiveConfig
	max, rate            float64
	baseline             float64 // running hit rate (EWMA), 0 = none yet
	drops, targets, hits uint64
	primed               bool
}

func newAdaptive(c *AdaptiveConfig, max float64) *adaptive {
	a := &adaptive{cfg: *c, max: max, rate: max}
	if a.cfg.Backoff <= 0 || a.cfg.Backoff >= 1 {
		a.cfg.Backoff = 0.7
	}
	if a.cfg.Recover <= 1 {
		a.cfg.Recover = 1.05
	}
	if a.cfg.Floor <= 0 || a.cfg.Floor > 1 {
		a.cfg.Floor = 0.01
	}
	if a.cfg.HitRateDrop <= 0 || a.cfg.HitRateDrop >= 1 {
		a.cfg.HitRateDrop = 0.5
	}
	return a
}

// next takes the interval's status and returns the new rate and why it
// changed ("" if it did not).
func (a *adaptive) next(st *Status) (float64, string) {
	drops, targets, hits := st.Scan.Drops, st.Scan.Targets, st.Hits+st.Resumed
	if !a.primed {
		a.drops, a.targets, a.hits, a.primed = drops, targets, hits, true
		return a.rate, ""
	}
	dd, dt, dh := drops-a.drops, targets-a.targets, hits-a.hits
	a.drops = drops
	old := a.rate
	why := ""
	switch {
	case dd > 0:
		a.rate *= a.cfg.Backoff
		why = "receiver drops"
		a.targets, a.hits = targets, hits
	case dt < minAdaptiveSample:
		// Too few targets since the last judgement to tell a hit rate:
		// hold, and keep counting.
		return a.rate, ""
	case a.baseline > 0 && float64(dh)/float64(dt) < a.cfg.HitRateDrop*a.baseline:
		a.rate *= a.cfg.Backoff
		why = "hit rate fell"
		a.targets, a.hits = targets, hits
	default:
		hr := float64(dh) / float64(dt)
		if a.baseline == 0 {
			a.baseline = hr
		} else {
			a.baseline = 0.8*a.baseline + 0.2*hr
		}
		a.rate *= a.cfg.Recover
		why = "recovering"
		a.targets, a.hits = targets, hits
	}
	a.rate = min(max(a.rate, a.max*a.cfg.Floor), a.max)
	if a.rate == old {
		return a.rate, ""
	}
	return a.rate, why
}
