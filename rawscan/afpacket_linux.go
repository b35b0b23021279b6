//go:build linux

package rawscan

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/mdlayher/socket"
	"golang.org/x/sys/unix"
)

// htons converts a 16-bit value to network byte order, as socket(2) and
// sockaddr_ll want ETH_P_* constants (packet(7)).
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// openPacket opens an AF_PACKET SOCK_RAW socket that receives nothing yet
// (protocol 0, packet(7)), finds the interface's index through the socket so
// the lookup happens in the socket's own namespace, and returns both.
func openPacket(cfg *AFPacketConfig, name string) (*socket.Conn, int, error) {
	if cfg == nil || cfg.Interface == "" {
		return nil, 0, fmt.Errorf("%w: no interface", ErrConfig)
	}
	c, err := socket.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0, name, &socket.Config{NetNS: cfg.NetNS})
	if err != nil {
		return nil, 0, err
	}
	ifr, err := unix.NewIfreq(cfg.Interface)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("rawscan: interface %q: %w", cfg.Interface, err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, 0, err
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) { ioErr = unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr) }); err != nil {
		ioErr = err
	}
	if ioErr != nil {
		c.Close()
		return nil, 0, fmt.Errorf("rawscan: interface %q: %w", cfg.Interface, os.NewSyscallError("ioctl SIOCGIFINDEX", ioErr))
	}
	return c, int(ifr.Uint32()), nil
}

func bindPacket(c *socket.Conn, ifindex int, proto uint16) error {
	return c.Bind(&unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex})
}

// txConn is the sendmmsg back end: one blocking syscall per batch on a
// socket outside the runtime poller (openTxFD).
type txConn struct {
	fd   int
	msgs [BatchSize]mmsghdr
	iovs [BatchSize]unix.Iovec
}

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

var _ TxConn = (*txConn)(nil)

// OpenTx opens a sendmmsg sender on cfg.Interface. The socket receives
// nothing. It needs CAP_NET_RAW.
func OpenTx(cfg *AFPacketConfig) (TxConn, error) {
	fd, ifindex, err := openTxFD(cfg)
	if err != nil {
		return nil, err
	}
	if err := bindTxFD(fd, ifindex); err != nil {
		unix.Close(fd)
		return nil, err
	}
	t := &txConn{fd: fd}
	for i := range t.msgs {
		t.msgs[i].hdr.Iov = &t.iovs[i]
		t.msgs[i].hdr.Iovlen = 1
	}
	return t, nil
}

// WriteBatch sends frames with one sendmmsg call, blocking in the kernel
// (on the caller's thread) while the socket buffer is full. ENOBUFS (the
// driver's queue is full, seen with PACKET_QDISC_BYPASS), EAGAIN (blocked
// for txTimeout) and EINTR are reported as zero frames sent after
// yielding, and the caller retries.
func (t *txConn) WriteBatch(frames [][]byte) (int, error) {
	n := min(len(frames), BatchSize)
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		t.iovs[i].Base = &frames[i][0]
		t.iovs[i].SetLen(len(frames[i]))
	}
	// The usual call does not block: it is kernel CPU work (every frame
	// goes through the driver before it returns), so it is made as a raw
	// syscall, which the runtime treats as running code. A Syscall6 here
	// would let sysmon take the thread's P away during every batch (the
	// call lasts longer than sysmon's 20 µs) and wake another thread for
	// it: a futex wake-up and context switches per batch. Only when the
	// socket buffer is full does the thread block, through Syscall6.
	p := uintptr(unsafe.Pointer(&t.msgs[0]))
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(t.fd), p, uintptr(n), unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN {
		r, _, e = unix.Syscall6(unix.SYS_SENDMMSG, uintptr(t.fd), p, uintptr(n), 0, 0, 0)
	}
	switch e {
	case 0:
		return int(r), nil
	case unix.ENOBUFS, unix.EAGAIN, unix.EINTR:
		runtime.Gosched()
		return 0, nil
	}
	return 0, os.NewSyscallError("sendmmsg", e)
}

// Close closes the socket.
func (t *txConn) Close() error { return os.NewSyscallError("close", unix.Close(t.fd)) }

// rxConn is the receiver: recvmmsg on an AF_PACKET socket with a BPF
// filter and PACKET_IGNORE_OUTGOING.
type rxConn struct {
	c     *socket.Conn
	msgs  [BatchSize]mmsghdr
	iovs  [BatchSize]unix.Iovec
	n     int
	got   int
	fn    func(fd int) error
	drops atomic.Uint64
}

var _ RxConn = (*rxConn)(nil)

// OpenRx opens the receiver on cfg.Interface for replies to src on ports.
// The filter is attached before the socket is bound, so no unfiltered frame
// is ever queued; PACKET_IGNORE_OUTGOING keeps the kernel from handing the
// receiver a copy of every probe sent (ZMap's receiver pays for those). It
// needs CAP_NET_RAW.
func OpenRx(cfg *AFPacketConfig, filter Filterer) (RxConn, error) {
	c, ifindex, err := openPacket(cfg, "rawscan-rx")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	prog, err := filter()
	if err != nil {
		return nil, err
	}
	if err := c.SetBPF(prog); err != nil {
		return nil, err
	}
	if err := c.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return nil, err
	}
	buf := cfg.Buffer
	if buf == 0 {
		buf = defaultSocketBuffer
	}
	if err := c.SetReadBuffer(buf); err != nil {
		return nil, err
	}
	if err := bindPacket(c, ifindex, unix.ETH_P_IP); err != nil {
		return nil, err
	}
	r := &rxConn{c: c}
	for i := range r.msgs {
		r.msgs[i].hdr.Iov = &r.iovs[i]
		r.msgs[i].hdr.Iovlen = 1
	}
	r.fn = r.recvmmsg
	ok = true
	return r, nil
}

func (r *rxConn) recvmmsg(fd int) error {
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.msgs[0])), uintptr(r.n), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return e
	}
	r.got = int(n)
	return nil
}

// ReadBatch reads up to len(bufs) frames with one recvmmsg call, parking on
// the runtime poller until one arrives.
func (r *rxConn) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	r.n = min(len(bufs), BatchSize)
	for i := range r.n {
		r.iovs[i].Base = &bufs[i][0]
		r.iovs[i].SetLen(len(bufs[i]))
		r.msgs[i].len = 0
	}
	r.got = 0
	if err := r.c.ReadFunc(context.Background(), "recvmmsg", r.fn); err != nil {
		return 0, err
	}
	for i := range r.got {
		sizes[i] = int(r.msgs[i].len)
	}
	return r.got, nil
}

// Drops reads PACKET_STATISTICS (packet(7)), which resets the kernel's
// counters on every read, and returns the running total of tp_drops. It is
// safe to call concurrently with ReadBatch.
func (r *rxConn) Drops() (uint64, error) {
	st, err := r.c.GetsockoptTpacketStats(unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return r.drops.Load(), err
	}
	return r.drops.Add(uint64(st.Drops)), nil
}

// Close closes the socket, waking a blocked ReadBatch.
func (r *rxConn) Close() error { return r.c.Close() }
