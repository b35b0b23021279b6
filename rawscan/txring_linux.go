//go:build linux

package rawscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TX ring geometry (Documentation/networking/packet_mmap.rst). With
// TPACKET_V2 the kernel reads a frame's data at TPACKET2_HDRLEN −
// sizeof(struct sockaddr_ll) = 52 − 20 = 32 bytes into its slot.
const (
	ringFrameSize  = 256
	ringBlockSize  = 1 << 16
	ringDataOffset = 32
	ringMaxFrame   = ringFrameSize - ringDataOffset
	tpStatusWrong  = 0x4 // TP_STATUS_WRONG_FORMAT
)

// txRing is the PACKET_TX_RING back end: frames are copied into a ring
// shared with the kernel and one sendto flushes every queued slot. Its
// socket is outside the runtime poller (openTxFD).
type txRing struct {
	fd     int
	ring   []byte
	frames int
	next   int
}

var _ TxConn = (*txRing)(nil)

// errRingFormat is returned when the kernel rejects a frame in the ring.
var errRingFormat = errors.New("rawscan: TX ring frame rejected by the kernel (TP_STATUS_WRONG_FORMAT)")

// OpenTxRing opens a PACKET_TX_RING (TPACKET_V2) sender on cfg.Interface.
// It needs CAP_NET_RAW.
func OpenTxRing(cfg *AFPacketConfig) (TxConn, error) {
	fd, ifindex, err := openTxFD(cfg)
	if err != nil {
		return nil, err
	}
	t := &txRing{fd: fd}
	if err := t.setup(cfg, ifindex); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *txRing) setup(cfg *AFPacketConfig, ifindex int) error {
	if err := unix.SetsockoptInt(t.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return os.NewSyscallError("setsockopt PACKET_VERSION", err)
	}
	n := cfg.RingFrames
	if n == 0 {
		n = 4096
	}
	perBlock := ringBlockSize / ringFrameSize
	blocks := (n + perBlock - 1) / perBlock
	t.frames = blocks * perBlock
	req := unix.TpacketReq{Block_size: ringBlockSize, Block_nr: uint32(blocks), Frame_size: ringFrameSize, Frame_nr: uint32(t.frames)}
	if err := unix.SetsockoptTpacketReq(t.fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return os.NewSyscallError("setsockopt PACKET_TX_RING", err)
	}
	ring, err := unix.Mmap(t.fd, 0, blocks*ringBlockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return os.NewSyscallError("mmap", err)
	}
	t.ring = ring
	return bindTxFD(t.fd, ifindex)
}

func (t *txRing) status(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&t.ring[i*ringFrameSize]))
}

// kick asks the kernel to transmit every slot marked TP_STATUS_SEND_REQUEST.
// With flags MSG_DONTWAIT it returns without waiting for completion; with
// flags 0 it also waits, blocked in the kernel, until the driver has
// released every frame sent (tpacket_snd in net/packet/af_packet.c) or
// txTimeout has passed.
func (t *txRing) kick(flags int) error {
	// A MSG_DONTWAIT kick does not block (it is kernel CPU work on the
	// queued frames), so it is a raw syscall, keeping sysmon from handing
	// the thread's P to another thread during every batch; see
	// txConn.WriteBatch.
	var e unix.Errno
	if flags&unix.MSG_DONTWAIT != 0 {
		_, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(t.fd), 0, 0, uintptr(flags), 0, 0)
	} else {
		_, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(t.fd), 0, 0, uintptr(flags), 0, 0)
	}
	switch e {
	case 0, unix.EAGAIN, unix.ENOBUFS, unix.EINTR:
		return nil
	}
	return os.NewSyscallError("sendto", e)
}

// WriteBatch copies frames into free slots and flushes them with one
// sendto. When the ring is full it flushes and waits in the kernel until
// the frames in flight are released, as a slot frees only when the driver
// releases its frame.
func (t *txRing) WriteBatch(frames [][]byte) (int, error) {
	for i, f := range frames {
		if len(f) > ringMaxFrame {
			return i, fmt.Errorf("rawscan: %d-byte frame exceeds the TX ring's %d-byte slots", len(f), ringMaxFrame)
		}
		st := t.status(t.next)
		for {
			s := atomic.LoadUint32(st)
			if s == unix.TP_STATUS_AVAILABLE {
				break
			}
			if s&tpStatusWrong != 0 {
				return i, errRingFormat
			}
			if err := t.kick(0); err != nil {
				return i, err
			}
		}
		slot := t.ring[t.next*ringFrameSize : (t.next+1)*ringFrameSize]
		copy(slot[ringDataOffset:], f)
		// struct tpacket2_hdr: tp_status, tp_len, tp_snaplen, …
		binary.NativeEndian.PutUint32(slot[4:], uint32(len(f)))
		binary.NativeEndian.PutUint32(slot[8:], uint32(len(f)))
		atomic.StoreUint32(st, unix.TP_STATUS_SEND_REQUEST)
		t.next++
		if t.next == t.frames {
			t.next = 0
		}
	}
	return len(frames), t.kick(unix.MSG_DONTWAIT)
}

// Close unmaps the ring and closes the socket.
func (t *txRing) Close() error {
	// Closing the socket first makes the kernel drop its reference to
	// the ring; then it can be unmapped.
	err := os.NewSyscallError("close", unix.Close(t.fd))
	if t.ring != nil {
		err = errors.Join(err, os.NewSyscallError("munmap", unix.Munmap(t.ring)))
		t.ring = nil
	}
	return err
}
