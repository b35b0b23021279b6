package smbprobe

import "net/netip"

// slots is run's per-subnet bound: it counts the targets in flight (with a
// worker or about to be) per subnet and queues, in arrival order, the
// targets of subnets at their bound. A subnet that has a queue has all its
// slots taken, so every waiting target is behind a probe that will free a
// slot. It is not safe for concurrent use: run's dispatcher owns it.
type slots struct {
	limit    int // targets in flight per subnet; negative means no bound
	max      int // most waiting targets in all
	inFlight map[netip.Prefix]int
	waiting  map[netip.Prefix]*fifo
	nwaiting int
}

// newSlots returns slots for limit targets per subnet (negative: no bound)
// and at most maxWaiting waiting targets.
func newSlots(limit, maxWaiting int) *slots {
	s := &slots{limit: limit, max: maxWaiting}
	s.reset()
	return s
}

// reset forgets every slot and waiting target.
func (s *slots) reset() {
	s.inFlight = make(map[netip.Prefix]int)
	s.waiting = make(map[netip.Prefix]*fifo)
	s.nwaiting = 0
}

// full reports whether no more targets may wait.
func (s *slots) full() bool { return s.limit >= 0 && s.nwaiting >= s.max }

// take gives t a slot of its subnet and reports true, or queues t behind
// its subnet's targets in flight and reports false.
func (s *slots) take(t netip.AddrPort) bool {
	if s.limit < 0 {
		return true
	}
	n := Subnet(t.Addr())
	if c := s.inFlight[n]; c < s.limit {
		s.inFlight[n] = c + 1
		return true
	}
	q := s.waiting[n]
	if q == nil {
		q = new(fifo)
		s.waiting[n] = q
	}
	q.push(t)
	s.nwaiting++
	return false
}

// free releases a slot of subnet n. If a target of n was waiting, the slot
// passes to it and free returns it with true.
func (s *slots) free(n netip.Prefix) (netip.AddrPort, bool) {
	if s.limit < 0 {
		return netip.AddrPort{}, false
	}
	if q := s.waiting[n]; q != nil {
		t := q.pop()
		s.nwaiting--
		if q.len() == 0 {
			delete(s.waiting, n)
		}
		return t, true
	}
	switch c, ok := s.inFlight[n]; {
	case !ok: // taken before a reset
	case c <= 1:
		delete(s.inFlight, n)
	default:
		s.inFlight[n] = c - 1
	}
	return netip.AddrPort{}, false
}

// fifoCompact is how many popped entries a fifo keeps before it moves its
// live entries to the front of its slice.
const fifoCompact = 64

// fifo is a queue of targets in a slice that it reuses.
type fifo struct {
	q    []netip.AddrPort
	head int // q[head:] are queued
}

func (f *fifo) len() int { return len(f.q) - f.head }

func (f *fifo) push(t netip.AddrPort) { f.q = append(f.q, t) }

func (f *fifo) pop() netip.AddrPort {
	t := f.q[f.head]
	f.head++
	if f.head >= fifoCompact && 2*f.head >= len(f.q) {
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return t
}
