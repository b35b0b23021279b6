package target

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/blocklist"
)

// TestStateRoundTrip stops every thread's iterator at a random point, saves
// the State through JSON, resumes from it and checks that each resumed
// iterator yields exactly the rest of the uninterrupted walk.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(30, 31))
	for i := range 100 {
		ref := randomRefSet(r, 5, 10)
		if len(ref.members) == 0 {
			continue
		}
		cfg := Config{
			Allowed:    ref.allowed,
			Ports:      [][]uint16{{445}, {445, 139}, {1, 2, 3}}[i%3],
			Seed:       r.Uint64(),
			Shards:     1 + r.IntN(3),
			Threads:    1 + r.IntN(4),
			MaxTargets: []uint64{0, r.Uint64N(uint64(len(ref.members)) + 1)}[i%2],
		}
		cfg.Shard = r.IntN(cfg.Shards)
		p, err := New(&cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		var its []*Iterator
		var rest [][]tgt
		for th := range p.Threads() {
			full := drain(p.Iterator(th))
			stop := r.IntN(len(full) + 1)
			it := p.Iterator(th)
			for range stop {
				it.Next()
			}
			its = append(its, it)
			rest = append(rest, full[stop:])
		}
		st, err := p.State(its)
		if err != nil {
			t.Fatalf("State: %v", err)
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		var back State
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("json.Unmarshal: %v", err)
		}
		if diff := cmp.Diff(st, back); diff != "" {
			t.Fatalf("State changed through JSON (-want +got):\n%s", diff)
		}
		q, err := Resume(&cfg, back)
		if err != nil {
			t.Fatalf("Resume: %v", err)
		}
		for th := range q.Threads() {
			it := q.Iterator(th)
			if it.Position() != st.Positions[th] || it.Emitted() != st.Emitted[th] {
				t.Fatalf("thread %d resumed at position %d, emitted %d; want %d, %d", th, it.Position(), it.Emitted(), st.Positions[th], st.Emitted[th])
			}
			got := drain(it)
			if !slices.Equal(got, rest[th]) {
				t.Fatalf("thread %d: resumed walk differs (-want +got):\n%s", th, cmp.Diff(rest[th], got, addrComparer))
			}
		}
	}
}

func TestResumeRefusesMismatch(t *testing.T) {
	t.Parallel()
	allowed := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/16"))
	cfg := Config{Allowed: allowed, Ports: []uint16{445, 139}, Seed: 7, Shards: 2, Shard: 1, Threads: 2, MaxTargets: 1000}
	p, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	its := []*Iterator{p.Iterator(0), p.Iterator(1)}
	its[0].Next()
	good, err := p.State(its)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(&cfg, good); err != nil {
		t.Fatalf("Resume of an unchanged state: %v", err)
	}
	tests := []struct {
		name  string
		cfg   func(c *Config)
		state func(s *State)
	}{
		{name: "other seed", cfg: func(c *Config) { c.Seed = 8 }},
		{name: "other allowed set", cfg: func(c *Config) {
			c.Allowed = allowed.Subtract(blocklist.FromPrefixes(netip.MustParsePrefix("198.18.7.7/32")))
		}},
		{name: "same size, other set", cfg: func(c *Config) {
			c.Allowed = blocklist.FromPrefixes(netip.MustParsePrefix("198.19.0.0/16"))
		}},
		{name: "other port order", cfg: func(c *Config) { c.Ports = []uint16{139, 445} }},
		{name: "other shard count", cfg: func(c *Config) { c.Shards = 3 }},
		{name: "other shard", cfg: func(c *Config) { c.Shard = 0 }},
		{name: "other threads", cfg: func(c *Config) { c.Threads = 1 }},
		{name: "other max targets", cfg: func(c *Config) { c.MaxTargets = 0 }},
		{name: "other generator", state: func(s *State) { s.Generator++ }},
		{name: "other offset", state: func(s *State) { s.Offset++ }},
		{name: "other prime", state: func(s *State) { s.Prime += 2 }},
		{name: "missing position", state: func(s *State) { s.Positions = s.Positions[:1] }},
		{name: "position past the end", state: func(s *State) { s.Positions[1] = 1 << 40 }},
		{name: "more emitted than consumed", state: func(s *State) { s.Emitted[0] = s.Positions[0] + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			st := good
			st.Positions = slices.Clone(good.Positions)
			st.Emitted = slices.Clone(good.Emitted)
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			if tt.state != nil {
				tt.state(&st)
			}
			if _, err := Resume(&c, st); !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("Resume error = %v, want %v", err, ErrStateMismatch)
			}
		})
	}
}

func TestStateRefusesForeignIterators(t *testing.T) {
	t.Parallel()
	allowed := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/24"))
	p, _ := New(&Config{Allowed: allowed, Threads: 2})
	q, _ := New(&Config{Allowed: allowed, Threads: 2})
	tests := []struct {
		name string
		its  []*Iterator
	}{
		{"too few", []*Iterator{p.Iterator(0)}},
		{"wrong order", []*Iterator{p.Iterator(1), p.Iterator(0)}},
		{"other permutation", []*Iterator{p.Iterator(0), q.Iterator(1)}},
		{"nil", []*Iterator{p.Iterator(0), nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.State(tt.its); err == nil {
				t.Fatal("State succeeded, want an error")
			}
		})
	}
}
