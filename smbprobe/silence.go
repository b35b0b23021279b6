package smbprobe

import (
	"net/netip"
	"sync"
	"time"
)

// Silent subnets. A SYN proxy or tarpit in front of a whole subnet
// completes the handshake for every address and then never answers, and
// each of its hosts holds a probe (two sockets, a Run slot) for the whole
// read timeout. Once Config.SilentProbes probes of one subnet (Subnet: a
// /24, a /64) have waited that long for their first reply without a byte,
// and no probe of the subnet has answered, the subnet is judged silent:
//
//	probe of a silent subnet        first reply awaited for
//	  waiting when it is judged       SilentTimeout since its request was
//	                                  written, or until now if longer ago
//	  started later                   SilentTimeout
//
// Such a probe ends as it would have, with status io-timeout, and its
// Result carries FlagSilentSubnet. A probe of the subnet that answers
// (any byte, or a close) clears the judgement, and the subnet is not
// judged again until it has had no probe for a minute: one server is
// enough to give every host of its subnet the whole read timeout. Only
// the first reply is ever shortened.

// Defaults of Config.SilentProbes and Config.SilentTimeout.
const (
	DefaultSilentProbes  = 4
	DefaultSilentTimeout = 2 * time.Second
)

// silenceIdle is how long a subnet's record outlives its last probe event.
const silenceIdle = time.Minute

// silence tracks probe outcomes per subnet. It is safe for concurrent use.
type silence struct {
	probes int // silent probes that judge a subnet; 0: never judged
	mu     sync.Mutex
	nets   map[netip.Prefix]*quiet
	swept  time.Time
}

// quiet is what silence knows of one subnet.
type quiet struct {
	silent   int  // probes that ended without a first reply
	answered bool // a probe of it answered: never judged while remembered
	judged   bool
	last     time.Time
	waiters  map[*session]struct{} // blocking sessions awaiting a first reply
}

func newSilence(probes int) *silence {
	return &silence{probes: probes, nets: make(map[netip.Prefix]*quiet)}
}

// get returns n's record, made if missing. s.mu must be held.
func (s *silence) get(n netip.Prefix, now time.Time) *quiet {
	q := s.nets[n]
	if q == nil {
		if now.Sub(s.swept) > silenceIdle {
			s.sweep(now)
		}
		q = &quiet{}
		s.nets[n] = q
	}
	q.last = now
	return q
}

// sweep forgets subnets idle for silenceIdle. s.mu must be held.
func (s *silence) sweep(now time.Time) {
	s.swept = now
	for n, q := range s.nets {
		if now.Sub(q.last) > silenceIdle && len(q.waiters) == 0 {
			delete(s.nets, n)
		}
	}
}

// judged reports whether n is judged silent now.
func (s *silence) judged(n netip.Prefix) bool {
	if s.probes <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.nets[n]
	return q != nil && q.judged
}

// ended records how a probe of n that connected ended: silent when its
// first reply never came. It returns true when this judges n silent; the
// caller then cuts the subnet's waiting probes short, starting with the
// blocking sessions in cut.
func (s *silence) ended(n netip.Prefix, silent bool) (judgedNow bool, cut []*session) {
	if s.probes <= 0 {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.get(n, time.Now())
	if !silent {
		q.silent, q.answered, q.judged = 0, true, false
		return false, nil
	}
	q.silent++
	if q.judged || q.answered || q.silent < s.probes {
		return false, nil
	}
	q.judged = true
	for w := range q.waiters {
		cut = append(cut, w)
	}
	return true, cut
}

// wait registers a blocking session awaiting its first reply from a host
// of n, and reports whether n is judged silent already.
func (s *silence) wait(n netip.Prefix, w *session) (judged bool) {
	if s.probes <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.get(n, time.Now())
	if q.waiters == nil {
		q.waiters = make(map[*session]struct{})
	}
	q.waiters[w] = struct{}{}
	return q.judged
}

// done unregisters a session registered with wait.
func (s *silence) done(n netip.Prefix, w *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.nets[n]; q != nil {
		delete(q.waiters, w)
	}
}

// judgeSilence records how connection A of a probe of subnet n ended once
// connected (silent: no first reply), and when that judges n silent, cuts
// short the first-reply waits of n's other probes: the blocking sessions',
// then the reactor's (locked: the caller holds the reactor's lock).
func judgeSilence(s *silence, react *reactor, n netip.Prefix, silent, locked bool) {
	if s == nil || !n.IsValid() {
		return
	}
	judged, cut := s.ended(n, silent)
	if !judged {
		return
	}
	now := time.Now()
	for _, w := range cut {
		w.cutShort(now)
	}
	if react != nil {
		react.cutShort(n, now, locked)
	}
}

// silentSince is the deadline of a first reply awaited since waitFrom in a
// subnet judged silent at now: SilentTimeout after waitFrom, but not
// before now.
func silentSince(waitFrom, now time.Time, timeout time.Duration) time.Time {
	if t := waitFrom.Add(timeout); t.After(now) {
		return t
	}
	return now
}
