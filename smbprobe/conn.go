package smbprobe

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// session is one TCP connection of a probe: deadlines, framing and a
// lazily taken receive buffer. It is used by a single goroutine, but for
// cutShort.
type session struct {
	conn     net.Conn
	p        *Prober
	subnet   netip.Prefix
	deadline time.Time     // the host's hard deadline
	read     time.Duration // per-read timeout
	fr       frameReader
	wbuf     []byte
	stop     func() bool // unregisters the context watcher
	asked    bool        // the first request was written
	heard    bool        // a byte arrived
	drip     trickle     // the reply frame being read (trickle.go)
	readDL   time.Time   // the current read deadline

	// Guarded by mu: the first reply's wait, which a silent subnet's
	// judgement (silence.go) may cut short from another goroutine.
	mu       sync.Mutex
	waiting  bool // registered with the Prober's silence tracker
	waitFrom time.Time
	cut      bool // the first reply was given SilentTimeout
}

// frameReader reads NBSS frames (see readFrame) into a buffer taken from
// pool only once a frame header has arrived, so a silent host holds no
// receive buffer. Frames longer than max are refused before being read.
type frameReader struct {
	r    io.Reader
	max  int
	pool *sync.Pool // of *[]byte with len max; nil allocates per frame
	buf  *[]byte
	hdr  [nbssHeaderLen]byte
}

func (f *frameReader) next() ([]byte, error) {
	return readFrameFrom(f.r, f.max, f, &f.hdr)
}

func (f *frameReader) get(n int) []byte {
	if f.buf == nil {
		if f.pool == nil {
			b := make([]byte, n)
			return b
		}
		f.buf = f.pool.Get().(*[]byte)
	}
	return (*f.buf)[:n]
}

func (f *frameReader) release() {
	if f.buf != nil && f.pool != nil {
		f.pool.Put(f.buf)
	}
	f.buf = nil
}

// dial opens a connection with the connect timeout, and watches ctx so
// that cancellation interrupts any blocked read.
func (p *Prober) dial(ctx context.Context, address string, deadline time.Time) (*session, error) {
	dctx, cancel := context.WithDeadline(ctx, minTime(deadline, time.Now().Add(p.cfg.ConnectTimeout)))
	defer cancel()
	c, err := p.cfg.Dial(dctx, "tcp", address)
	if err != nil {
		return nil, err
	}
	tuneConn(c, p.ownDial)
	s := &session{
		conn:     c,
		p:        p,
		deadline: deadline,
		read:     p.cfg.ReadTimeout,
	}
	if ap, err := netip.ParseAddrPort(address); err == nil {
		s.subnet = Subnet(ap.Addr())
	}
	s.fr = frameReader{r: s, max: p.cfg.MaxMessageSize, pool: &p.bufs}
	s.stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return s, nil
}

// close releases the connection and the receive buffer.
func (s *session) close() {
	s.stopWaiting()
	s.stop()
	s.conn.Close()
	s.fr.release()
}

// Read reads from the connection, noting whether anything ever arrived,
// and times out at once a reply that trickles too slowly to make its
// deadline (trickle.go). readFrameFrom reads a frame's header, then its
// body, each to the byte, so a read never spans two frames.
func (s *session) Read(b []byte) (int, error) {
	n, err := s.conn.Read(b)
	if n <= 0 {
		return n, err
	}
	if !s.heard {
		s.heard = true
		s.stopWaiting()
	}
	now := time.Now()
	if s.drip.read(n, now, s.need, s.readDL) {
		s.conn.SetReadDeadline(time.Unix(1, 0))
	} else if s.need(s.drip.got) <= 0 {
		s.drip.start(0, now) // the frame is complete
	}
	return n, err
}

// need is how many bytes the frame being read lacks, got of them having
// arrived; its header is read into the frame reader's.
func (s *session) need(got int) int { return frameNeed(s.fr.hdr[:], got) }

// setDeadline arms the per-read timeout, never beyond the host deadline.
// The first request's reply gets SilentTimeout instead in a subnet judged
// silent, and the session waits for it registered with the Prober's
// silence tracker, which may cut the wait short (cutShort).
func (s *session) setDeadline() {
	now := time.Now()
	s.drip.start(0, now)
	read := s.read
	if !s.asked && s.subnet.IsValid() && s.p.silence != nil {
		s.mu.Lock() // readDL, for cutShort, from now on
		defer s.mu.Unlock()
		s.waitFrom, s.waiting = now, true
		if s.p.silence.wait(s.subnet, s) {
			read, s.cut = s.p.cfg.SilentTimeout, true
		}
	}
	s.asked = true
	s.readDL = minTime(s.deadline, now.Add(read))
	s.conn.SetDeadline(s.readDL)
}

// stopWaiting unregisters the first reply's wait.
func (s *session) stopWaiting() {
	s.mu.Lock()
	w := s.waiting
	s.waiting = false
	s.mu.Unlock()
	if w {
		s.p.silence.done(s.subnet, s)
	}
}

// cutShort gives a first reply still awaited SilentTimeout since its
// request, or until now if that has passed.
func (s *session) cutShort(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waiting {
		return
	}
	t := silentSince(s.waitFrom, now, s.p.cfg.SilentTimeout)
	if t.Before(s.readDL) {
		s.cut = true
		s.readDL = t
		s.conn.SetReadDeadline(t)
	}
}

// wasCut reports whether the first reply's wait was shortened.
func (s *session) wasCut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cut
}

// silentEnd reports, once the connection is done with err, whether it
// stayed silent: its first request went out and nothing ever came back
// before a timeout.
func (s *session) silentEnd(err error) bool {
	return s.asked && !s.heard && err != nil && isTimeout(err)
}

// roundTrip frames msg, writes it in one call and reads one reply frame.
// The reply aliases the session's buffer until the next call.
func (s *session) roundTrip(msg []byte) ([]byte, error) {
	s.wbuf = appendFrame(s.wbuf[:0], len(msg))
	s.wbuf = append(s.wbuf, msg...)
	s.setDeadline()
	if _, err := s.conn.Write(s.wbuf); err != nil {
		return nil, err
	}
	return s.fr.next()
}

// converse drives d over the session until d needs no more replies.
func (s *session) converse(d dialog) error {
	msg, err := d.first()
	for err == nil && msg != nil {
		var resp []byte
		if resp, err = s.roundTrip(msg); err != nil {
			break
		}
		msg, err = d.reply(resp)
	}
	return err
}

// netbiosSession sends the NBSS SESSION REQUEST to "*SMBSERVER" (port 139,
// RFC 1002 §4.3.2) and reads the answer.
func (s *session) netbiosSession() (NetBIOS, error) {
	s.wbuf = appendSessionRequest(s.wbuf[:0], "*SMBSERVER", "SMBSWEEP")
	s.setDeadline()
	if _, err := s.conn.Write(s.wbuf); err != nil {
		return NetBIOS{}, err
	}
	return readSessionResponse(s)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
