package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"

	"github.com/mdlayher/socket"
	"golang.org/x/sys/unix"
)

// inNetns runs fn on a fresh goroutine locked to its OS thread after moving
// that thread into the namespace open as nsFD. The goroutine exits without
// unlocking, so the Go runtime terminates the thread: a thread in a lab
// namespace never runs other goroutines (runtime.LockOSThread).
func inNetns(nsFD int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread dies with the goroutine.
		if err := unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			errc <- os.NewSyscallError("setns", err)
			return
		}
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("lab: panic in namespace: %v", r)
			}
		}()
		errc <- fn()
	}()
	return <-errc
}

// Do runs fn on a locked OS thread inside the scanner namespace and returns
// its error. Sockets that fn opens on its own goroutine (AF_PACKET, raw,
// netlink, TCP) belong to the lab and keep working after Do returns.
// Goroutines that fn starts do NOT run in the namespace: create every
// socket in fn itself. The thread is discarded afterwards.
func (l *Lab) Do(fn func() error) error {
	if err := l.alive(); err != nil {
		return err
	}
	return inNetns(int(l.scanNS.Fd()), fn)
}

// DialContext connects with kernel TCP from the scanner namespace. The
// address must be an IPv4 literal and port ("198.18.0.1:445"): the lab
// has no DNS, and resolving a name would leave the namespace. The socket is
// created inside the namespace on a locked thread, then connects through
// the Go netpoller, honouring ctx. It has the signature of
// net.Dialer.DialContext, so it can be a prober's dialer.
func (l *Lab) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if err := l.alive(); err != nil {
		return nil, err
	}
	if network != "tcp" && network != "tcp4" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Is4() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("lab: %q is not an IPv4 address and port", address)}
	}
	c, err := socket.Socket(unix.AF_INET, unix.SOCK_STREAM, 0, "lab-tcp", &socket.Config{NetNS: int(l.scanNS.Fd())})
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	raddr := net.TCPAddrFromAddrPort(ap)
	if _, err := c.Connect(ctx, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		_ = c.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	var laddr *net.TCPAddr
	if sa, err := c.Getsockname(); err == nil {
		if sa4, ok := sa.(*unix.SockaddrInet4); ok {
			laddr = &net.TCPAddr{IP: sa4.Addr[:], Port: sa4.Port}
		}
	}
	return &tcpConn{Conn: c, laddr: laddr, raddr: raddr}, nil
}

// tcpConn adapts a connected *socket.Conn to net.Conn.
type tcpConn struct {
	*socket.Conn
	laddr, raddr *net.TCPAddr
}

var _ net.Conn = (*tcpConn)(nil)

func (c *tcpConn) LocalAddr() net.Addr  { return c.laddr }
func (c *tcpConn) RemoteAddr() net.Addr { return c.raddr }

// SetLinger sets SO_LINGER; sec 0 makes Close send an RST.
func (c *tcpConn) SetLinger(sec int) error {
	rc, err := c.Conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: int32(sec)})
	}); err != nil {
		return err
	}
	return os.NewSyscallError("setsockopt", serr)
}

// errClosed is returned by methods of a closed Lab.
var errClosed = errors.New("lab: lab is closed")
