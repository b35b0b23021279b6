package smbprobe

import (
	"net/netip"
	"testing"
	"time"
)

func TestSilenceJudges(t *testing.T) {
	a := netip.MustParsePrefix("198.18.1.0/24")
	b := netip.MustParsePrefix("198.18.2.0/24")
	type event struct {
		subnet netip.Prefix
		silent bool
		judges bool // this event judges the subnet silent
	}
	tests := []struct {
		name   string
		probes int
		events []event
		judged map[netip.Prefix]bool // at the end
	}{
		{
			name:   "third silent probe judges",
			probes: 3,
			events: []event{{a, true, false}, {a, true, false}, {b, true, false}, {a, true, true}, {a, true, false}},
			judged: map[netip.Prefix]bool{a: true, b: false},
		},
		{
			name:   "an answer first: never judged",
			probes: 2,
			events: []event{{a, false, false}, {a, true, false}, {a, true, false}, {a, true, false}},
			judged: map[netip.Prefix]bool{a: false},
		},
		{
			name:   "an answer after the judgement clears it for good",
			probes: 2,
			events: []event{{a, true, false}, {a, true, true}, {a, false, false}, {a, true, false}, {a, true, false}},
			judged: map[netip.Prefix]bool{a: false},
		},
		{
			name:   "off",
			probes: 0,
			events: []event{{a, true, false}, {a, true, false}, {a, true, false}},
			judged: map[netip.Prefix]bool{a: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSilence(tt.probes)
			for i, e := range tt.events {
				if got, _ := s.ended(e.subnet, e.silent); got != e.judges {
					t.Errorf("event %d (%v silent=%v): judged now %v, want %v", i, e.subnet, e.silent, got, e.judges)
				}
			}
			for n, want := range tt.judged {
				if got := s.judged(n); got != want {
					t.Errorf("judged(%v) = %v, want %v", n, got, want)
				}
			}
		})
	}
}

func TestSilenceCutsWaiters(t *testing.T) {
	n := netip.MustParsePrefix("198.18.1.0/24")
	s := newSilence(1)
	w1, w2, other := &session{}, &session{}, &session{}
	if s.wait(n, w1) || s.wait(n, w2) {
		t.Fatal("judged before any probe ended")
	}
	s.wait(netip.MustParsePrefix("198.18.2.0/24"), other)
	s.done(n, w2)
	judged, cut := s.ended(n, true)
	if !judged || len(cut) != 1 || cut[0] != w1 {
		t.Fatalf("ended = %v, %v; want true and [w1] (w2 is done, other is in another subnet)", judged, cut)
	}
	if !s.wait(n, &session{}) {
		t.Error("a session waiting after the judgement was not told")
	}
}

func TestSilenceForgetsIdleSubnets(t *testing.T) {
	s := newSilence(2)
	old := time.Now().Add(-2 * silenceIdle)
	for i := range 100 {
		n := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 0}), 24)
		s.ended(n, true)
		s.nets[n].last = old
	}
	s.swept = old
	s.ended(netip.MustParsePrefix("198.19.0.0/24"), true)
	if len(s.nets) != 1 {
		t.Errorf("%d subnets remembered after a sweep, want 1", len(s.nets))
	}
}

func TestSilentSince(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tt := range []struct {
		now  time.Time
		want time.Time
	}{
		{t0.Add(500 * time.Millisecond), t0.Add(2 * time.Second)}, // waited less than the timeout
		{t0.Add(3 * time.Second), t0.Add(3 * time.Second)},        // waited longer: now
	} {
		if got := silentSince(t0, tt.now, 2*time.Second); !got.Equal(tt.want) {
			t.Errorf("silentSince(t0, t0+%v, 2s) = t0+%v, want t0+%v", tt.now.Sub(t0), got.Sub(t0), tt.want.Sub(t0))
		}
	}
}
