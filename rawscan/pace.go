package rawscan

import (
	"math"
	"sync/atomic"
	"time"
)

// A Rate is a packets-per-second budget that can be changed while a scan
// runs. Senders read it once per batch. The zero value is unlimited. A Rate
// is safe for concurrent use.
type Rate struct {
	bits atomic.Uint64 // math.Float64bits of packets per second; 0 = unlimited
}

// Set sets the rate in packets per second; 0 or less means unlimited.
func (r *Rate) Set(pps float64) {
	if pps < 0 || math.IsNaN(pps) {
		pps = 0
	}
	r.bits.Store(math.Float64bits(pps))
}

// Get returns the rate in packets per second, 0 for unlimited.
func (r *Rate) Get() float64 { return math.Float64frombits(r.bits.Load()) }

// Scale multiplies the rate by f (SIGUSR1/SIGUSR2 use 1.1 and 1/1.1, as
// ZMap's ±10%). An unlimited rate stays unlimited.
func (r *Rate) Scale(f float64) {
	for {
		old := r.bits.Load()
		v := math.Float64frombits(old)
		if v == 0 {
			return
		}
		if r.bits.CompareAndSwap(old, math.Float64bits(v*f)) {
			return
		}
	}
}

// BandwidthRate converts a bandwidth in bits per second to a packet rate
// with ZMap's formula (src/send.c): each frame occupies its length, at least
// the 60-byte Ethernet minimum, plus 24 bytes of preamble, start delimiter,
// frame check sequence and inter-frame gap on the wire.
func BandwidthRate(bitsPerSecond float64, frameLen int) float64 {
	return bitsPerSecond / float64((max(frameLen, 60)+24)*8)
}

// A clock is the pacer's view of time, so tests can run it on a fake one.
type clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// maxBatchPeriod bounds how long one batch may represent at low rates:
// BatchFor shrinks the batch so the traffic is not sent in bursts longer
// than this.
const maxBatchPeriod = 5 * time.Millisecond

// Pacing tolerances. Go's timers wake about a millisecond late on Linux
// (the netpoller waits in whole milliseconds: a 50 µs or a 900 µs
// time.Sleep both took 1.1–1.2 ms on the benchmark machine), so at high
// rates, where a batch lasts a few hundred microseconds, the pacer must
// neither sleep for short waits nor write off the time a sleep overshot:
// doing either held 1 sender at 77 % of a 300 kpps rate.
const (
	// minSleep: a batch due sooner than this is sent at once; it is early
	// by less than minSleep, and the next wait absorbs it.
	minSleep = 500 * time.Microsecond
	// maxDebt: how far behind schedule the pacer may fall and still catch
	// up by sending batches back to back; beyond this (or one batch
	// period, if longer) the debt is written off.
	maxDebt = 2 * time.Millisecond
)

// A pacer spaces one sender's batches so that it sends share×rate packets
// per second. It is owned by one goroutine.
//
// It keeps a due time for the next batch. Falling behind (a late timer, a
// slow syscall, a descheduled thread) creates debt that later batches repay
// by not sleeping, but the debt is capped at max(maxDebt, one batch period),
// so a stall is never followed by a burst longer than that. Running ahead
// is bounded by minSleep.
type pacer struct {
	rate  *Rate
	share float64 // this sender's fraction of the rate
	clk   clock
	due   time.Time
}

// batchFor returns how many frames the next batch should hold: BatchSize,
// or fewer at low rates so a batch spans at most maxBatchPeriod.
func (p *pacer) batchFor() int {
	pps := p.rate.Get() * p.share
	if pps <= 0 {
		return BatchSize
	}
	n := int(pps * maxBatchPeriod.Seconds())
	return min(max(n, 1), BatchSize)
}

// wait is called before sending a batch of n frames; it sleeps until the
// batch is due and then schedules the next.
func (p *pacer) wait(n int) {
	pps := p.rate.Get() * p.share
	if pps <= 0 {
		return
	}
	period := time.Duration(float64(n) / pps * float64(time.Second))
	now := p.clk.Now()
	if p.due.IsZero() {
		p.due = now
	}
	if d := p.due.Sub(now); d >= minSleep {
		p.clk.Sleep(d)
	} else if -d > max(period, maxDebt) {
		// Too far behind: forgive the debt, send this batch now and the
		// next when it is due.
		p.due = now.Add(-period)
	}
	p.due = p.due.Add(period)
}
