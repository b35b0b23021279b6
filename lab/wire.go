package lab

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// wireSpec configures the wire: a helper in namespace PREFIX+"wire" that
// forwards every frame between its two veths (A toward the scanner, B
// toward the internet namespace), delayed like tc-netem(8) would: each
// frame waits Delay ± Jitter (uniform, never below zero), except that a
// Reorder fraction of frames goes at once, overtaking the delayed ones.
// It exists because kernels without sch_netem (this project's CI) cannot
// delay or reorder.
type wireSpec struct {
	A, B    string        `json:",omitempty"`
	Delay   time.Duration `json:",omitempty"`
	Jitter  time.Duration `json:",omitempty"`
	Reorder float64       `json:",omitempty"`
	Seed    uint64        `json:",omitempty"`
}

// scheduler decides when each frame leaves. It is not safe for concurrent
// use.
type scheduler struct {
	spec wireSpec
	rng  *rand.Rand
	q    frameHeap
	seq  uint64
}

func newScheduler(spec wireSpec, stream uint64) *scheduler {
	return &scheduler{spec: spec, rng: rand.New(rand.NewPCG(spec.Seed, stream))}
}

// push queues frame b, received at now, and reports whether it became the
// first to leave.
func (s *scheduler) push(b []byte, now time.Time) bool {
	at := now
	if s.spec.Reorder == 0 || s.rng.Float64() >= s.spec.Reorder {
		d := s.spec.Delay
		if j := s.spec.Jitter; j > 0 {
			d += time.Duration(s.rng.Int64N(int64(2*j)+1)) - j
		}
		at = now.Add(max(d, 0))
	}
	s.seq++
	heap.Push(&s.q, queued{at: at, seq: s.seq, b: b})
	return s.q[0].seq == s.seq
}

// next returns the time the first queued frame leaves, and false if none
// is queued.
func (s *scheduler) next() (time.Time, bool) {
	if len(s.q) == 0 {
		return time.Time{}, false
	}
	return s.q[0].at, true
}

// pop removes and returns the first frame if it is due at now.
func (s *scheduler) pop(now time.Time) ([]byte, bool) {
	if len(s.q) == 0 || s.q[0].at.After(now) {
		return nil, false
	}
	return heap.Pop(&s.q).(queued).b, true
}

type queued struct {
	at  time.Time
	seq uint64 // arrival order breaks ties: equal times keep FIFO
	b   []byte
}

// frameHeap is a min-heap by (at, seq) (container/heap).
type frameHeap []queued

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return x
}
