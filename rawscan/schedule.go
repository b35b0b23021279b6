package rawscan

import (
	"encoding/binary"
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
)

// Targets yields one sender's share of the target space: an address and a
// destination port per call, false when the share is exhausted. The
// permutation iterator of package rawscan/target satisfies it. A Targets is
// used by one sender goroutine only.
type Targets interface {
	Next() (netip.Addr, uint16, bool)
}

// BatchTargets is a Targets that also hands out targets in batches, the
// way a sender uses them: FillAddrs writes the next targets' IPv4
// addresses as host-order integers (a.b.c.d is a<<24 | b<<16 | c<<8 | d)
// to addrs and their ports to ports, and returns how many it wrote; fewer
// than min(len(addrs), len(ports)) only at the end, so 0 means the end.
// It yields the same sequence as Next. The schedule draws through
// FillAddrs when its Targets has it: one call per batch instead of one per
// target, and no netip.Addr built. The permutation iterator of package
// rawscan/target satisfies it.
type BatchTargets interface {
	Targets
	FillAddrs(addrs []uint32, ports []uint16) int
}

// OptOut is the opt-out set, checked once per target before sending and
// again on every reply. blocklist.Watcher satisfies it. Contains must be
// safe for concurrent use and should neither lock nor allocate.
type OptOut interface {
	Contains(netip.Addr) bool
}

// A GatedOptOut is an OptOut that is empty until its Watcher first
// reloads: Contains reports false for every address while
// Gate().Generation() is 0. That is the opt-out filter of a scan whose
// target set was built without the Watcher's initial set (cmd/smbsweep's).
// The schedule then tests the generation per target inline, one atomic
// load, and calls Contains only after a reload: the same answers, at
// every target, without an interface call per target.
type GatedOptOut interface {
	OptOut
	Gate() *blocklist.Watcher
}

// slot is one target waiting in the retry ring: 8 bytes, since the ring
// holds (probes−1) × rate × spacing of them (48 MiB for two probes at
// 6 Mpps per sender).
type slot struct {
	addr  uint32 // IPv4, big-endian value
	port  uint16
	valid bool
}

func slotOf(a netip.Addr, port uint16) slot {
	b := a.As4()
	return slot{addr: uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), port: port, valid: true}
}

func (s slot) ip() netip.Addr { return addrFrom(s.addr) }

// addrFrom returns the IPv4 address of a big-endian value. Going through
// PutUint32 compiles to a byte swap, where building the [4]byte from
// shifted bytes costs a dozen instructions per target.
func addrFrom(a uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b)
}

// A schedule turns one sender's targets into probes, spacing the probes to
// the same target gap steps apart so that retries are not sent back to back
// (Masscan spaces them the same way; ZMap sends them consecutively).
//
// At step i it draws target t_i and emits probe 0 of t_i plus probe k of
// t_{i−k·gap} for k = 1…probes−1, kept in a ring of (probes−1)·gap
// slots. After the targets run out it keeps stepping, emitting only the
// pending retries, until the ring is empty.
type schedule struct {
	targets Targets
	batch   BatchTargets // targets, if it has FillAddrs; nil otherwise
	optOut  OptOut
	gate    *blocklist.Watcher // optOut's Gate, if it is a GatedOptOut
	quota   uint64             // targets still allowed; ^0 = unlimited
	probes  int
	gap     int
	ring    []slot

	step      int  // steps run; counted, and needed, only with a ring
	head      int  // step mod len(ring): the ring slot of the current step
	drained   bool // targets exhausted or quota reached
	drainLeft int  // steps still to run after drained

	// drawn and skipped count targets since the sender last flushed them
	// into the shared counters (once per batch, not per target).
	drawn, skipped uint64

	// emitted by the current step, in order
	out  [maxProbes]probe
	nout int
	pos  int

	// Targets drawn from batch and not yet taken: addrs[bpos:blen].
	addrs      [drawBatch]uint32
	ports      [drawBatch]uint16
	bpos, blen int
}

// drawBatch is how many targets the schedule draws per FillAddrs call:
// a sender's batch (BatchSize), so one call per batch of probes.
const drawBatch = BatchSize

// maxProbes bounds Config.Probes.
const maxProbes = 16

// probe is one SYN to send.
type probe struct {
	addr netip.Addr
	port uint16
	k    uint32
}

func newSchedule(t Targets, o OptOut, quota uint64, probes, gap int) *schedule {
	s := &schedule{targets: t, optOut: o, quota: quota, probes: probes, gap: max(gap, 1)}
	s.batch, _ = t.(BatchTargets)
	if g, ok := o.(GatedOptOut); ok {
		s.gate = g.Gate()
	}
	if probes > 1 {
		s.ring = make([]slot, (probes-1)*s.gap)
	}
	return s
}

// next returns the next probe. ok is false when the schedule is finished;
// empty is true when a step produced nothing (only pending retries remain
// and none is due), which the sender counts as one unit of pacing so that
// retries keep their spacing in time.
func (s *schedule) next() (p probe, ok, empty bool) {
	if s.ring == nil {
		// One probe per target: a step is a draw, and while the batch
		// lasts it is this loop, runStep's and drawBatch's work for
		// probes = 1 without their bookkeeping. (The batch never holds
		// more targets than the quota left, see drawBatch; and no probe
		// of out is pending, as a step without retries emits at most one,
		// which next returns at once.)
		for s.bpos < s.blen {
			a, port := s.addrs[s.bpos], s.ports[s.bpos]
			s.bpos++
			ip := addrFrom(a)
			if s.checkOptOut() && s.optOut.Contains(ip) {
				s.skipped++
				continue
			}
			s.quota--
			s.drawn++
			return probe{addr: ip, port: port}, true, false
		}
	}
	if s.pos < s.nout {
		s.pos++
		return s.out[s.pos-1], true, false
	}
	if s.drained && s.drainLeft <= 0 {
		return probe{}, false, false
	}
	s.runStep()
	if s.nout == 0 {
		return probe{}, !(s.drained && s.drainLeft <= 0), true
	}
	s.pos = 1
	return s.out[0], true, false
}

// checkOptOut reports whether the opt-out set may hold anything now, so
// that targets must be looked up in it: false with no set, or with a
// GatedOptOut before its first reload. It is inlined: a target then costs
// a comparison or an atomic load and no call.
func (s *schedule) checkOptOut() bool {
	return s.optOut != nil && (s.gate == nil || s.gate.Generation() != 0)
}

// runStep fills out with the probes of the current step.
func (s *schedule) runStep() {
	s.nout, s.pos = 0, 0
	i, head := s.step, s.head
	s.step++
	if s.drained {
		s.drainLeft--
	}
	if len(s.ring) > 0 {
		if s.head++; s.head == len(s.ring) {
			s.head = 0
		}
		for k := s.probes - 1; k >= 1; k-- {
			back := k * s.gap // ≤ len(ring)
			if i < back {
				continue // no target drawn that long ago
			}
			j := head - back // (i − back) mod len(ring), without a divide
			if j < 0 {
				j += len(s.ring)
			}
			if sl := &s.ring[j]; sl.valid {
				if k == s.probes-1 {
					sl.valid = false // last probe: the slot is free
				}
				a := sl.ip()
				if s.checkOptOut() && s.optOut.Contains(a) {
					continue
				}
				s.out[s.nout] = probe{addr: a, port: sl.port, k: uint32(k)}
				s.nout++
			}
		}
	}
	var cur slot
	if !s.drained {
		cur = s.draw()
	}
	if len(s.ring) > 0 {
		s.ring[head] = cur
	}
	if cur.valid {
		s.out[s.nout] = probe{addr: cur.ip(), port: cur.port}
		s.nout++
	}
}

// draw takes the next target that is not opted out, or marks the schedule
// drained.
func (s *schedule) draw() slot {
	if s.batch != nil {
		return s.drawBatch()
	}
	for s.quota > 0 {
		a, port, ok := s.targets.Next()
		if !ok {
			break
		}
		if !a.Is4() {
			continue
		}
		if s.checkOptOut() && s.optOut.Contains(a) {
			s.skipped++
			continue
		}
		s.quota--
		s.drawn++
		return slotOf(a, port)
	}
	s.drained = true
	s.drainLeft = len(s.ring)
	return slot{}
}

// drawBatch is draw for a BatchTargets. It asks FillAddrs for at most the
// remaining quota, so it takes from the iterator exactly the targets that
// draw would have taken one at a time with Next (each of them is either
// opted out or counted against the quota), and the opt-out set is checked
// per target when the target is taken from the batch, as draw does.
func (s *schedule) drawBatch() slot {
	for s.quota > 0 {
		if s.bpos == s.blen {
			s.bpos = 0
			s.blen = s.batch.FillAddrs(s.addrs[:min(uint64(drawBatch), s.quota)], s.ports[:])
			if s.blen == 0 {
				break
			}
		}
		sl := slot{addr: s.addrs[s.bpos], port: s.ports[s.bpos], valid: true}
		s.bpos++
		if s.checkOptOut() && s.optOut.Contains(sl.ip()) {
			s.skipped++
			continue
		}
		s.quota--
		s.drawn++
		return sl
	}
	s.drained = true
	s.drainLeft = len(s.ring)
	return slot{}
}
