package smbprobe

import "net/netip"

// slots is run's per-subnet bound: it counts the targets in flight (with a
// worker or about to be) per subnet and queues, in arrival order, the
// targets of subnets at their bound. A subnet that has a queue has all its
// slots taken, so every waiting target is behind a probe that will free a
// slot.
//
// The bound spares one server answering many addresses. A subnet whose
// first limit probes all time out (connection-timeout or io-timeout:
// filtered hosts, a SYN proxy, a tarpit) shows no such server, and
// queueing its hosts behind their timeouts would only make the subnet take
// limit times longer; its bound is lifted, as 'smbsweep run' paces only
// subnets that answered (rawscan/pipeline/dispatch.go). A subnet keeps what
// it learned while it has targets in flight.
//
// It is not safe for concurrent use: run's dispatcher owns it.
type slots struct {
	limit    int // targets in flight per subnet; negative means no bound
	max      int // most waiting targets in all
	subnets  map[netip.Prefix]*subnetState
	nwaiting int
}

// subnetState is what slots knows of a subnet with targets in flight.
type subnetState struct {
	inFlight int
	answered bool // a probe of it ended in anything but a timeout
	timeouts int  // probes of it that timed out before any answered
	lifted   bool // no bound: its first limit probes timed out
	waiting  fifo
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
	s.subnets = make(map[netip.Prefix]*subnetState)
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
	st := s.subnets[n]
	if st == nil {
		st = new(subnetState)
		s.subnets[n] = st
	}
	if st.lifted || st.inFlight < s.limit {
		st.inFlight++
		return true
	}
	st.waiting.push(t)
	s.nwaiting++
	return false
}

// free releases a slot of subnet n, whose probe ended with status, and
// appends to ready the targets of n that may now go: the next waiting
// one, or all of them when the subnet's bound is lifted.
func (s *slots) free(n netip.Prefix, status Status, ready []netip.AddrPort) []netip.AddrPort {
	if s.limit < 0 {
		return ready
	}
	st := s.subnets[n]
	if st == nil {
		return ready // taken before a reset
	}
	switch status {
	case StatusConnectionTimeout, StatusIOTimeout:
		st.timeouts++
	case StatusCanceled:
	default:
		st.answered = true
	}
	if !st.answered && !st.lifted && st.timeouts >= s.limit {
		st.lifted = true
	}
	st.inFlight--
	for st.waiting.len() > 0 && (st.lifted || st.inFlight < s.limit) {
		ready = append(ready, st.waiting.pop())
		s.nwaiting--
		st.inFlight++
	}
	if st.inFlight == 0 {
		delete(s.subnets, n)
	}
	return ready
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
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	} else if f.head >= fifoCompact && 2*f.head >= len(f.q) {
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return t
}
