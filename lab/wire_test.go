package lab

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// drain pops every frame in release order, returning their first bytes.
func drain(s *scheduler) []byte {
	var out []byte
	for {
		at, ok := s.next()
		if !ok {
			return out
		}
		b, _ := s.pop(at)
		out = append(out, b[0])
	}
}

func TestScheduler(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name string
		spec wireSpec
		// check inspects the release order of frames 0..n-1 pushed 1 ms
		// apart.
		n     int
		check func(order []byte) string
	}{
		{name: "delay keeps order", spec: wireSpec{Delay: 50 * time.Millisecond}, n: 50, check: func(o []byte) string {
			want := make([]byte, 50)
			for i := range want {
				want[i] = byte(i)
			}
			return cmp.Diff(want, o)
		}},
		{name: "reorder overtakes", spec: wireSpec{Delay: 50 * time.Millisecond, Reorder: 0.5, Seed: 1}, n: 100, check: func(o []byte) string {
			inversions := 0
			for i := 1; i < len(o); i++ {
				if o[i] < o[i-1] {
					inversions++
				}
			}
			if inversions < 10 {
				return "too few frames overtaken"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(tt.spec, 1)
			for i := range tt.n {
				s.push([]byte{byte(i)}, t0.Add(time.Duration(i)*time.Millisecond))
			}
			order := drain(s)
			if len(order) != tt.n {
				t.Fatalf("released %d of %d frames", len(order), tt.n)
			}
			if msg := tt.check(order); msg != "" {
				t.Errorf("%s: order %v", msg, order)
			}
		})
	}
}

// TestSchedulerDelay checks each frame's release time against the spec.
func TestSchedulerDelay(t *testing.T) {
	spec := wireSpec{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Seed: 3}
	s := newScheduler(spec, 1)
	now := time.Unix(1000, 0)
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		s.push([]byte{0}, now)
		at, _ := s.next()
		d := at.Sub(now)
		lo, hi = min(lo, d), max(hi, d)
		if _, ok := s.pop(at.Add(-time.Nanosecond)); ok {
			t.Fatal("frame released before its time")
		}
		if _, ok := s.pop(at); !ok {
			t.Fatal("frame not released at its time")
		}
	}
	if lo < 15*time.Millisecond || hi > 25*time.Millisecond || hi-lo < 8*time.Millisecond {
		t.Errorf("delays spread over [%v, %v], want about [15ms, 25ms]", lo, hi)
	}
}
