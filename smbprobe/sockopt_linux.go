package smbprobe

import (
	"context"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket options that cut the packets of a probe connection, and with them
// the client's CPU: in a lab of veth pairs, and on any host, every segment
// we send is processed by the kernel in our context (veth_xmit runs the
// peer's receive path in the sender's softirq). A probe connection with
// the defaults sends 8 segments (SYN, ACK, request, ACK, request, ACK, FIN,
// ACK); with these options it sends 4 (SYN, request+ACK, request+ACK, RST).
//
//   - TCP_QUICKACK 0 before connect puts the socket in delayed-ACK
//     ("pingpong") mode, so the kernel holds the handshake's final ACK for
//     the first request to carry (tcp_rcv_synsent_state_process in
//     net/ipv4/tcp_input.c; tcp(7) TCP_QUICKACK). The kernel leaves that
//     mode at the SYN-ACK, so it is set again after connect: each reply's
//     ACK then rides on our next request, and the last one is never sent.
//   - SO_LINGER {on, 0} makes close send a RST instead of the FIN exchange
//     and skips TIME_WAIT (socket(7) SO_LINGER), as ZMap- and masscan-style
//     scanners end their connections. We close only after the last reply
//     we need (or on error), so the server has already answered.

// dialControl is the default net.Dialer's ControlContext: it runs on the
// new socket before connect(2).
func dialControl(_ context.Context, _, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = setProbeSockopts(int(fd))
	})
	if err != nil {
		return err
	}
	return serr
}

// tuneConn sets the options on an established connection: again
// TCP_QUICKACK 0 (see above), and SO_LINGER 0 when the connection came
// from a caller's Dial. Connections that are not kernel sockets (net.Pipe
// in tests) are left alone.
func tuneConn(c net.Conn, ownDialer bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if ownDialer {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0)
			return
		}
		setProbeSockopts(int(fd))
	})
}

// setProbeSockopts sets SO_LINGER {1, 0} and TCP_QUICKACK 0 on fd.
func setProbeSockopts(fd int) error {
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return os.NewSyscallError("setsockopt SO_LINGER", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0); err != nil {
		return os.NewSyscallError("setsockopt TCP_QUICKACK", err)
	}
	return nil
}
