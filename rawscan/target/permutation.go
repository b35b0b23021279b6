package target

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/smbsweep/smbsweep/blocklist"
)

// Limits of a layout. They match ZMap's (uint16 shards, uint8 threads) and
// keep the per-permutation tables small.
const (
	// MaxShards is the largest Config.Shards.
	MaxShards = 65535
	// MaxThreads is the largest Config.Threads.
	MaxThreads = 255
)

// DefaultPort is the port used when Config.Ports is empty: SMB over TCP
// (RFC 1001/1002 session service is 139; direct hosting, MS-SMB2 §2.1, is
// 445).
const DefaultPort = 445

// Errors returned by New and Resume. They are wrapped with details; test for
// them with errors.Is.
var (
	// ErrEmpty means the allowed set × ports holds no target.
	ErrEmpty = errors.New("target: no targets: the allowed set is empty")
	// ErrConfig means a Config field is out of range.
	ErrConfig = errors.New("target: invalid config")
	// ErrStateMismatch means a State does not belong to the Config it is
	// resumed with.
	ErrStateMismatch = errors.New("target: state does not match this permutation")
)

// Config says which targets a Permutation covers and how the work is split.
// A nil *Config is not enough on its own: Allowed is required.
type Config struct {
	// Allowed is the set of addresses to visit, already reduced to
	// targets ∩ allowlist − reserved − static blocklist. Required.
	Allowed *blocklist.Set

	// Ports are the destination ports; each address is visited once per
	// port. Default: [DefaultPort]. The order matters for the sequence, so
	// every machine of a sharded scan must pass the same list. No
	// duplicates.
	Ports []uint16

	// Seed fixes the generator and the start of the walk. Every machine of
	// a sharded scan must use the same seed and the same Allowed set. The
	// caller picks a random seed when the user gave none, and records it so
	// the run can be reproduced or resumed. Zero is a valid seed.
	Seed uint64

	// Shards is the number of machines sharing the scan, Shard the index of
	// this one (0 ≤ Shard < Shards). Default: 1 and 0.
	Shards, Shard int

	// Threads is the number of sender threads on this machine, each with
	// its own Iterator. Default: 1.
	Threads int

	// MaxTargets caps the targets the whole scan (all shards and threads)
	// emits; 0 means no cap. It is divided among the Shards·Threads
	// subshards: each gets ⌊MaxTargets/S⌋ and the first MaxTargets mod S one
	// more, so a subshard may stop before its cap only when it runs out of
	// targets (ZMap's -n semantics).
	MaxTargets uint64
}

// A Permutation is the fixed order of one scan's targets and this machine's
// part of it. It is immutable and safe for concurrent use; each sender
// thread walks its part with its own Iterator.
type Permutation struct {
	allowed *blocklist.Set
	ports   []uint16
	seed    uint64

	n      uint64 // targets: allowed.Count() × len(ports)
	prime  uint64 // smallest prime > n
	gen    uint64 // primitive root mod prime
	offset uint64 // exponent of the walk's start, in [0, prime−1)

	shards, shard, threads int
	maxTargets             uint64

	subs  []subshard // this machine's subshards, one per thread
	hash  string     // hash of allowed, for State
	addrs *addrTable // index → address, shared by the iterators
}

// subshard is one thread's slice of the exponent range and where its
// Iterator starts.
type subshard struct {
	begin  uint64 // exponent of the first element, mod prime−1
	length uint64 // elements (exponents) in the slice
	max    uint64 // targets it may emit; math.MaxUint64 for no cap

	// Where a new Iterator starts: zero, or a resumed State's position.
	pos, emitted uint64
}

// New returns the permutation cfg describes. It fails if cfg has no Allowed
// set, if the set × ports is empty, or if the layout is out of range.
func New(cfg *Config) (*Permutation, error) {
	if cfg == nil || cfg.Allowed == nil {
		return nil, fmt.Errorf("%w: Allowed is nil", ErrConfig)
	}
	p := &Permutation{
		allowed:    cfg.Allowed,
		seed:       cfg.Seed,
		shards:     max(cfg.Shards, 1),
		shard:      cfg.Shard,
		threads:    max(cfg.Threads, 1),
		maxTargets: cfg.MaxTargets,
	}
	if cfg.Shards < 0 || cfg.Shards > MaxShards {
		return nil, fmt.Errorf("%w: Shards %d not in [1, %d]", ErrConfig, cfg.Shards, MaxShards)
	}
	if cfg.Shard < 0 || cfg.Shard >= p.shards {
		return nil, fmt.Errorf("%w: Shard %d not in [0, %d)", ErrConfig, cfg.Shard, p.shards)
	}
	if cfg.Threads < 0 || cfg.Threads > MaxThreads {
		return nil, fmt.Errorf("%w: Threads %d not in [1, %d]", ErrConfig, cfg.Threads, MaxThreads)
	}
	p.ports = append([]uint16(nil), cfg.Ports...)
	if len(p.ports) == 0 {
		p.ports = []uint16{DefaultPort}
	}
	seen := make(map[uint16]bool, len(p.ports))
	for _, port := range p.ports {
		if seen[port] {
			return nil, fmt.Errorf("%w: port %d listed twice", ErrConfig, port)
		}
		seen[port] = true
	}

	// At most 2^32 addresses × 2^16 ports, so n < 2^49 and no overflow.
	p.n = p.allowed.Count() * uint64(len(p.ports))
	if p.n == 0 {
		return nil, ErrEmpty
	}
	p.prime = nextPrime(p.n)
	p.gen, p.offset = chooseWalk(p.prime, p.seed)
	p.subs = p.layout()
	p.hash = setHash(p.allowed)
	p.addrs = newAddrTable(p.allowed)
	return p, nil
}

// chooseWalk derives the generator and the start exponent of the walk
// modulo the prime p from seed. The generator is a uniformly drawn
// primitive root, so the walk visits every element of the group. (ZMap keeps
// it below 2^22 so that cur·g fits in 64 bits; Shoup multiplication, see
// shoupMul, has no such limit.)
func chooseWalk(p, seed uint64) (gen, offset uint64) {
	q := p - 1 // the group's order
	if q == 1 {
		return 1, 0 // p = 2: the group is {1}
	}
	factors := primeFactors(q)
	s := newStream(seed)
	// Candidates are 2…p−1. Primitive roots are a fraction φ(q)/q of the
	// group, over 1/7 for any q below 2^49 (q has at most 13 distinct prime
	// factors, and ∏(1−1/r) over the first 13 primes is 0.145), so a few
	// draws find one. The bound on draws only guards against a bug.
	for range 10000 {
		g := 2 + uniform(s, q-1)
		if isPrimitiveRoot(g, p, factors) {
			return g, uniform(s, q)
		}
	}
	for g := uint64(2); ; g++ {
		if isPrimitiveRoot(g, p, factors) {
			return g, uniform(s, q)
		}
	}
}

// layout computes this machine's subshards. Subshard k of S covers the
// exponents [⌊k·Q/S⌋, ⌊(k+1)·Q/S⌋) of the group's Q = p−1, shifted by the
// offset; the last one ends at Q, so together they cover the group once.
func (p *Permutation) layout() []subshard {
	q := p.prime - 1
	s := uint64(p.shards) * uint64(p.threads)
	subs := make([]subshard, p.threads)
	for t := range subs {
		k := uint64(p.shard)*uint64(p.threads) + uint64(t)
		lo, hi := mulDiv(k, q, s), mulDiv(k+1, q, s)
		subs[t] = subshard{
			begin:  addMod(lo, p.offset, q),
			length: hi - lo,
			max:    math.MaxUint64,
		}
		if p.maxTargets != 0 {
			subs[t].max = p.maxTargets / s
			if k < p.maxTargets%s {
				subs[t].max++
			}
		}
	}
	return subs
}

// mulDiv returns ⌊a·b/c⌋ for a ≤ c, computed in 128 bits.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c) // hi < c because a ≤ c and b < 2^64
	return q
}

// addMod returns (a + b) mod m for a, b < m.
func addMod(a, b, m uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 || s >= m {
		s -= m
	}
	return s
}

// Iterator returns a new Iterator over the given thread's subshard, 0 ≤
// thread < Threads. It starts at the beginning, or where the State given to
// Resume left off. It panics if thread is out of range.
func (p *Permutation) Iterator(thread int) *Iterator {
	sub := p.subs[thread]
	q := p.prime - 1
	return &Iterator{
		cur:     powMod(p.gen, addMod(sub.begin, sub.pos%max(q, 1), max(q, 1)), p.prime),
		left:    sub.length - sub.pos,
		emitted: sub.emitted,
		max:     sub.max,
		mul:     newShoupMul(p.gen, p.prime),
		n:       p.n,
		rng:     p.addrs.rng,
		rs:      p.addrs.rs,
		shift:   uint(p.addrs.shift),
		bucket:  1 << (32 - min(p.addrs.shift, 32)),
		set:     p.allowed,
		ports:   p.ports,
		portDiv: newReducer(uint64(len(p.ports))),
		length:  sub.length,
		perm:    p,
		thread:  thread,
	}
}

// Count returns the number of targets in the whole scan, over every shard
// and thread: the allowed set's size × the number of ports. MaxTargets does
// not change it.
func (p *Permutation) Count() uint64 { return p.n }

// Seed returns the seed the permutation was built from.
func (p *Permutation) Seed() uint64 { return p.seed }

// Prime returns the group's modulus, the smallest prime above Count.
func (p *Permutation) Prime() uint64 { return p.prime }

// Generator returns the primitive root the walk multiplies by.
func (p *Permutation) Generator() uint64 { return p.gen }

// Threads returns the number of sender threads, that is of Iterators.
func (p *Permutation) Threads() int { return p.threads }

// Ports returns a copy of the ports, in permutation order.
func (p *Permutation) Ports() []uint16 { return append([]uint16(nil), p.ports...) }
