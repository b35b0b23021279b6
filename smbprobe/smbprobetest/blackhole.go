package smbprobetest

import (
	"context"
	"net"
	"os"
	"sync"
	"time"
)

// Blackhole is a Dial function (smbprobe.Config.Dial) for a host that
// accepts the connection and then never answers: writes succeed, reads
// block until the deadline or Close. It creates no socket and no goroutine,
// so a benchmark measures only the prober's own memory per silent host.
func Blackhole(ctx context.Context, network, address string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &blackhole{closed: make(chan struct{}), wake: make(chan struct{}, 1)}, nil
}

type blackhole struct {
	mu       sync.Mutex
	deadline time.Time
	closed   chan struct{}
	wake     chan struct{} // a deadline changed
	once     sync.Once
}

func (b *blackhole) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		dl := b.deadline
		b.mu.Unlock()
		var t *time.Timer
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t = time.NewTimer(d)
			timeout = t.C
		}
		var err error
		select {
		case <-b.closed:
			err = net.ErrClosed
		case <-b.wake:
		case <-timeout:
		}
		if t != nil {
			t.Stop()
		}
		if err != nil {
			return 0, err
		}
	}
}

func (b *blackhole) Write(p []byte) (int, error) {
	select {
	case <-b.closed:
		return 0, net.ErrClosed
	default:
		return len(p), nil
	}
}

func (b *blackhole) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func (b *blackhole) SetDeadline(t time.Time) error {
	b.mu.Lock()
	b.deadline = t
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

func (b *blackhole) SetReadDeadline(t time.Time) error  { return b.SetDeadline(t) }
func (b *blackhole) SetWriteDeadline(t time.Time) error { return nil }
func (b *blackhole) LocalAddr() net.Addr                { return blackholeAddr{} }
func (b *blackhole) RemoteAddr() net.Addr               { return blackholeAddr{} }

type blackholeAddr struct{}

func (blackholeAddr) Network() string { return "blackhole" }
func (blackholeAddr) String() string  { return "blackhole" }
