package rawscan

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// fakeClock advances only when slept on, plus an optional jitter per Now
// call that stands in for the time the send itself takes. With late set,
// a Sleep lasts at least that long, as Go's timers on Linux do (≈ 1.1 ms).
type fakeClock struct {
	now    time.Time
	jitter func() time.Duration
	late   time.Duration
}

func (c *fakeClock) Now() time.Time {
	if c.jitter != nil {
		c.now = c.now.Add(c.jitter())
	}
	return c.now
}
func (c *fakeClock) Sleep(d time.Duration) { c.now = c.now.Add(max(d, c.late)) }

func TestPacerRate(t *testing.T) {
	tests := []struct {
		name   string
		pps    float64
		share  float64
		jitter time.Duration // maximum random cost of one batch
		late   time.Duration // shortest sleep the clock does
	}{
		{"10k pps one sender", 10_000, 1, 0, 0},
		{"100 pps shrinks batches", 100, 1, 0, 0},
		{"1M pps two senders", 1_000_000, 0.5, 0, 0},
		{"100k pps slow sends", 100_000, 1, 500 * time.Microsecond, 0},
		{"20k pps sends slower than rate", 20_000, 1, 8 * time.Millisecond, 0},
		// Go's timers: every sleep lasts ≥ 1.1 ms. Writing off what a
		// sleep overshot, or sleeping for a 427 µs batch period, held
		// one sender at 77 % of 300 kpps (bench transmit section).
		{"300k pps late timers", 300_000, 1, 0, 1100 * time.Microsecond},
		{"1M pps two senders late timers", 1_000_000, 0.5, 0, 1100 * time.Microsecond},
		{"10k pps late timers", 10_000, 1, 0, 1100 * time.Microsecond},
		{"300k pps late timers slow sends", 300_000, 1, 100 * time.Microsecond, 1100 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			clk := &fakeClock{now: time.Unix(1e9, 0), late: tt.late}
			if tt.jitter > 0 {
				clk.jitter = func() time.Duration { return time.Duration(rng.Int64N(int64(tt.jitter))) }
			}
			var r Rate
			r.Set(tt.pps)
			p := &pacer{rate: &r, share: tt.share, clk: clk}
			start := clk.now
			sent := 0
			for clk.now.Sub(start) < time.Second {
				n := p.batchFor()
				p.wait(n)
				sent += n
			}
			elapsed := clk.now.Sub(start).Seconds()
			got := float64(sent) / elapsed
			want := tt.pps * tt.share
			if tt.jitter > 0 {
				// The sender cannot go faster than one batch per
				// mean send cost.
				want = min(want, float64(BatchSize)/(tt.jitter.Seconds()/2))
			}
			if math.Abs(got-want)/want > 0.05 {
				t.Fatalf("sent %.0f pps over %.3fs, want %.0f ±5%%", got, elapsed, want)
			}
		})
	}
}

func TestPacerDebtCappedAtOneBatch(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	var r Rate
	r.Set(10_000)
	p := &pacer{rate: &r, share: 1, clk: clk}
	p.wait(BatchSize)
	clk.now = clk.now.Add(time.Second) // a one-second stall
	before := clk.now
	// Without the cap the pacer would send 10,000 packets unpaced; with
	// it, at most one batch goes out before sleeping resumes.
	unslept := 0
	for range 10 {
		t0 := clk.now
		p.wait(BatchSize)
		if clk.now == t0 {
			unslept++
		}
	}
	if unslept > 2 {
		t.Fatalf("%d batches sent without pacing after a stall, want at most 2", unslept)
	}
	if clk.now.Sub(before) < 7*time.Duration(float64(BatchSize)/10_000*float64(time.Second)) {
		t.Fatalf("ten batches after a stall took %v, too fast for 10k pps", clk.now.Sub(before))
	}
}

func TestRateChangeWhileRunning(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	var r Rate
	r.Set(10_000)
	p := &pacer{rate: &r, share: 1, clk: clk}
	run := func(d time.Duration) float64 {
		start, sent := clk.now, 0
		for clk.now.Sub(start) < d {
			n := p.batchFor()
			p.wait(n)
			sent += n
		}
		return float64(sent) / clk.now.Sub(start).Seconds()
	}
	run(time.Second)
	r.Scale(1.1)
	if got := run(time.Second); math.Abs(got-11_000)/11_000 > 0.05 {
		t.Fatalf("after Scale(1.1): %.0f pps, want 11000 ±5%%", got)
	}
	r.Set(0)
	if got := p.batchFor(); got != BatchSize {
		t.Fatalf("unlimited rate: batch %d, want %d", got, BatchSize)
	}
}

func TestBandwidthRate(t *testing.T) {
	// ZMap: 10 Gb/s of minimum-size frames is 14.88 Mpps.
	if got := BandwidthRate(10e9, 54); math.Abs(got-14_880_952) > 1 {
		t.Fatalf("BandwidthRate(10G, 54) = %.0f, want 14880952", got)
	}
	if got := BandwidthRate(1e6, FrameLen); got != 1e6/float64((FrameLen+24)*8) {
		t.Fatalf("BandwidthRate(1M, %d) = %v", FrameLen, got)
	}
}
