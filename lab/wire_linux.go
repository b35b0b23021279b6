package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// runWire forwards frames between the interfaces spec.A and spec.B of the
// current namespace in both directions, through a scheduler each, until
// killed. It calls ready once both sockets are bound.
func runWire(spec wireSpec, ready func()) error {
	a, err := packetSocket(spec.A)
	if err != nil {
		return err
	}
	b, err := packetSocket(spec.B)
	if err != nil {
		return err
	}
	ready()
	errc := make(chan error, 2)
	go func() { errc <- forward(a, b, newScheduler(spec, 1)) }()
	go func() { errc <- forward(b, a, newScheduler(spec, 2)) }()
	return <-errc
}

// packetSocket is an AF_PACKET socket bound to one interface, receiving
// every frame on it (packet(7)).
func packetSocket(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	return fd, nil
}

// forward reads frames arriving on in and sends them out of out when the
// scheduler says so.
func forward(in, out int, s *scheduler) error {
	var mu sync.Mutex
	wake := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := unix.Recvfrom(in, buf, 0)
			if err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				errc <- os.NewSyscallError("recvfrom", err)
				return
			}
			// Frames this socket sent itself come back as outgoing.
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			f := append([]byte(nil), buf[:n]...)
			mu.Lock()
			first := s.push(f, time.Now())
			mu.Unlock()
			if first {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	for {
		mu.Lock()
		now := time.Now()
		var due [][]byte
		for {
			f, ok := s.pop(now)
			if !ok {
				break
			}
			due = append(due, f)
		}
		at, queued := s.next()
		mu.Unlock()
		for _, f := range due {
			// A full queue drops the frame, as a link would.
			if err := unix.Send(out, f, unix.MSG_DONTWAIT); err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EMSGSIZE) {
				return fmt.Errorf("lab: wire send: %w", os.NewSyscallError("send", err))
			}
		}
		wait := time.Hour
		if queued {
			wait = time.Until(at)
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case err := <-errc:
			return err
		}
	}
}

// startWire turns off checksum and segmentation offloads on both ends of
// the scanner's link, so the frames the wire copies are complete (a
// locally sent frame on a veth may carry a partial checksum or be a 64 kB
// GSO frame), then starts the wire helper.
func (l *Lab) startWire(ctx context.Context, r runner, scan, inet, wire string) error {
	for _, e := range []struct{ ns, dev string }{{scan, scannerIf}, {inet, gatewayIf}} {
		if err := r.run(ctx, "", "ip", "netns", "exec", e.ns, "ethtool", "-K", e.dev, "tx", "off", "tso", "off", "gso", "off"); err != nil {
			return err
		}
	}
	c := &l.cfg
	return l.startHelper("wire", wire, helperSpec{Wire: &wireSpec{
		A: "w0", B: "w1", Delay: c.Delay, Jitter: c.Jitter, Reorder: c.Reorder, Seed: c.Seed,
	}})
}
