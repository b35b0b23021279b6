package target

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/smbsweep/smbsweep/blocklist"
)

// State is where a scan's senders are in the permutation: enough, with the
// same allowed set, to resume them exactly. It is plain data meant to be
// written as JSON at a checkpoint. The parameters derived from the seed are
// recorded too, so a resume with a different build or set is refused rather
// than silently visiting other targets.
type State struct {
	Seed       uint64   `json:"seed"`
	Prime      uint64   `json:"prime"`
	Generator  uint64   `json:"generator"`
	Offset     uint64   `json:"offset"`
	Shards     int      `json:"shards"`
	Shard      int      `json:"shard"`
	Threads    int      `json:"threads"`
	Ports      []uint16 `json:"ports"`
	MaxTargets uint64   `json:"max_targets"`

	// AllowedHash identifies the allowed set: SHA-256 over its sorted
	// ranges, in hex.
	AllowedHash string `json:"allowed_hash"`

	// Positions holds, per thread, the group elements consumed
	// (Iterator.Position); Emitted the targets returned (Iterator.Emitted),
	// which MaxTargets needs.
	Positions []uint64 `json:"positions"`
	Emitted   []uint64 `json:"emitted"`
}

// State returns the permutation's State with the positions of its
// iterators, one per thread in thread order (its[t].Thread() == t). The
// iterators must not be advanced concurrently with this call.
func (p *Permutation) State(its []*Iterator) (State, error) {
	if len(its) != p.threads {
		return State{}, fmt.Errorf("target: State needs %d iterators, got %d", p.threads, len(its))
	}
	st := p.layoutState()
	for t, it := range its {
		if it == nil || it.perm != p || it.thread != t {
			return State{}, fmt.Errorf("target: State: iterator %d does not belong to thread %d of this permutation", t, t)
		}
		st.Positions[t] = it.Position()
		st.Emitted[t] = it.Emitted()
	}
	return st, nil
}

// layoutState returns the State of p with every position at the start.
func (p *Permutation) layoutState() State {
	return State{
		Seed:        p.seed,
		Prime:       p.prime,
		Generator:   p.gen,
		Offset:      p.offset,
		Shards:      p.shards,
		Shard:       p.shard,
		Threads:     p.threads,
		Ports:       slices.Clone(p.ports),
		MaxTargets:  p.maxTargets,
		AllowedHash: p.hash,
		Positions:   make([]uint64, p.threads),
		Emitted:     make([]uint64, p.threads),
	}
}

// Resume returns the permutation of cfg with its iterators starting where st
// left them. cfg must describe the same scan as st: same seed, ports, shard
// layout, MaxTargets and allowed set, and this build must derive the same
// prime, generator and offset; otherwise Resume fails with
// ErrStateMismatch.
func Resume(cfg *Config, st State) (*Permutation, error) {
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	want := p.layoutState()
	check := func(what string, ok bool, got, want any) error {
		if ok {
			return nil
		}
		return fmt.Errorf("%w: %s is %v in the state, %v here", ErrStateMismatch, what, got, want)
	}
	for _, err := range []error{
		check("seed", st.Seed == want.Seed, st.Seed, want.Seed),
		check("allowed set hash", st.AllowedHash == want.AllowedHash, st.AllowedHash, want.AllowedHash),
		check("ports", slices.Equal(st.Ports, want.Ports), st.Ports, want.Ports),
		check("shards", st.Shards == want.Shards, st.Shards, want.Shards),
		check("shard", st.Shard == want.Shard, st.Shard, want.Shard),
		check("threads", st.Threads == want.Threads, st.Threads, want.Threads),
		check("max targets", st.MaxTargets == want.MaxTargets, st.MaxTargets, want.MaxTargets),
		check("prime", st.Prime == want.Prime, st.Prime, want.Prime),
		check("generator", st.Generator == want.Generator, st.Generator, want.Generator),
		check("offset", st.Offset == want.Offset, st.Offset, want.Offset),
		check("number of positions", len(st.Positions) == p.threads, len(st.Positions), p.threads),
		check("number of emitted counts", len(st.Emitted) == p.threads, len(st.Emitted), p.threads),
	} {
		if err != nil {
			return nil, err
		}
	}
	for t := range p.subs {
		sub := &p.subs[t]
		if st.Positions[t] > sub.length {
			return nil, fmt.Errorf("%w: thread %d position %d is past its subshard's %d elements", ErrStateMismatch, t, st.Positions[t], sub.length)
		}
		if st.Emitted[t] > st.Positions[t] || st.Emitted[t] > sub.max {
			return nil, fmt.Errorf("%w: thread %d emitted %d targets in %d elements with a cap of %d", ErrStateMismatch, t, st.Emitted[t], st.Positions[t], sub.max)
		}
		sub.pos, sub.emitted = st.Positions[t], st.Emitted[t]
	}
	return p, nil
}

// setHash returns the hex SHA-256 of s's sorted ranges, each as two
// big-endian uint32s, so equal sets hash equal however they were built.
func setHash(s *blocklist.Set) string {
	h := sha256.New()
	var b [8]byte
	for _, r := range s.Ranges() {
		f, l := r.First.As4(), r.Last.As4()
		copy(b[:4], f[:])
		copy(b[4:], l[:])
		h.Write(b[:])
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(s.Len()))
	h.Write(n[:])
	return hex.EncodeToString(h.Sum(nil))
}
