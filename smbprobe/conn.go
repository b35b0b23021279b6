package smbprobe

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// session is one TCP connection of a probe: deadlines, framing and a
// lazily taken receive buffer. It is used by a single goroutine.
type session struct {
	conn     net.Conn
	deadline time.Time     // the host's hard deadline
	read     time.Duration // per-read timeout
	fr       frameReader
	wbuf     []byte
	stop     func() bool // unregisters the context watcher
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
		deadline: deadline,
		read:     p.cfg.ReadTimeout,
		fr:       frameReader{r: c, max: p.cfg.MaxMessageSize, pool: &p.bufs},
	}
	s.stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return s, nil
}

// close releases the connection and the receive buffer.
func (s *session) close() {
	s.stop()
	s.conn.Close()
	s.fr.release()
}

// setDeadline arms the per-read timeout, never beyond the host deadline.
func (s *session) setDeadline() {
	s.conn.SetDeadline(minTime(s.deadline, time.Now().Add(s.read)))
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
	return readSessionResponse(s.conn)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
