//go:build linux

package rawscan

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mdlayher/socket"
	"golang.org/x/sys/unix"
)

// TPACKET_V3 receive ring geometry (Documentation/networking/packet_mmap.rst).
// The kernel fills 1 MiB blocks with variable-length frames and hands a
// block over when it is full or rxRingRetire milliseconds old.
const (
	rxRingBlockSize = 1 << 20
	rxRingBlocks    = 16
	rxRingFrameSize = 2048 // only sizes the ring's frame count for V3
	rxRingRetire    = 10   // ms

	// Offsets in struct tpacket_block_desc and its tpacket_hdr_v1
	// (include/uapi/linux/if_packet.h).
	bdStatus   = 8
	bdNumPkts  = 12
	bdFirstPkt = 16
	// Offsets in struct tpacket3_hdr.
	p3Next    = 0
	p3Snaplen = 12
	p3Mac     = 24
)

// rxRing is the TPACKET_V3 receiver: the kernel writes frames into a ring
// of blocks shared with us; ReadBatch walks a block's frames in place and
// hands the block back when done. Frames are copied into the caller's
// buffers (the RxConn contract), with no system call while a block lasts.
type rxRing struct {
	c *socket.Conn
	// mu guards ring against Close unmapping it while the reader walks
	// it; it is uncontended except at Close.
	mu    sync.Mutex
	ring  []byte
	block int    // block being read
	pkt   int    // next frame index in it
	off   uint32 // offset of that frame in the block
	fn    func(fd int) error
	drops atomic.Uint64
}

var _ RxConn = (*rxRing)(nil)

// OpenRxRing is OpenRx with a TPACKET_V3 memory-mapped ring instead of
// recvmmsg: the same filter (attached before the socket is bound) and
// PACKET_IGNORE_OUTGOING. It needs CAP_NET_RAW.
func OpenRxRing(cfg *AFPacketConfig, filter Filterer) (RxConn, error) {
	c, ifindex, err := openPacket(cfg, "rawscan-rxring")
	if err != nil {
		return nil, err
	}
	r := &rxRing{c: c}
	if err := r.setup(filter, ifindex); err != nil {
		r.Close()
		return nil, err
	}
	r.fn = r.ready
	return r, nil
}

func (r *rxRing) setup(filter Filterer, ifindex int) error {
	prog, err := filter()
	if err != nil {
		return err
	}
	if err := r.c.SetBPF(prog); err != nil {
		return err
	}
	if err := r.c.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return err
	}
	if err := r.c.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return err
	}
	req := unix.TpacketReq3{
		Block_size: rxRingBlockSize, Block_nr: rxRingBlocks,
		Frame_size: rxRingFrameSize, Frame_nr: rxRingBlockSize / rxRingFrameSize * rxRingBlocks,
		Retire_blk_tov: rxRingRetire,
	}
	rc, err := r.c.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		if e := unix.SetsockoptTpacketReq3(int(fd), unix.SOL_PACKET, unix.PACKET_RX_RING, &req); e != nil {
			opErr = os.NewSyscallError("setsockopt PACKET_RX_RING", e)
			return
		}
		r.ring, opErr = unix.Mmap(int(fd), 0, rxRingBlockSize*rxRingBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if opErr != nil {
			opErr = os.NewSyscallError("mmap", opErr)
		}
	})
	if err = errors.Join(err, opErr); err != nil {
		return err
	}
	return bindPacket(r.c, ifindex, unix.ETH_P_IP)
}

func (r *rxRing) blockBytes() []byte {
	return r.ring[r.block*rxRingBlockSize : (r.block+1)*rxRingBlockSize]
}

func (r *rxRing) status() *uint32 {
	return (*uint32)(unsafe.Pointer(&r.ring[r.block*rxRingBlockSize+bdStatus]))
}

// ready is the ReadFunc callback: nil once the current block belongs to
// us, EAGAIN (park until the socket polls readable) otherwise.
func (r *rxRing) ready(int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.ring == nil:
		return unix.EBADF
	case atomic.LoadUint32(r.status())&unix.TP_STATUS_USER != 0:
		return nil
	}
	return unix.EAGAIN
}

// ReadBatch copies up to len(bufs) frames out of the ring, blocking on the
// runtime poller until the kernel hands over a block.
func (r *rxRing) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	if err := r.c.ReadFunc(context.Background(), "poll rx ring", r.fn); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ring == nil {
		return 0, os.NewSyscallError("poll rx ring", unix.EBADF)
	}
	n := 0
	for n < len(bufs) {
		b := r.blockBytes()
		if atomic.LoadUint32(r.status())&unix.TP_STATUS_USER == 0 {
			break
		}
		num := int(binary.NativeEndian.Uint32(b[bdNumPkts:]))
		if r.pkt == 0 {
			r.off = binary.NativeEndian.Uint32(b[bdFirstPkt:])
		}
		for r.pkt < num && n < len(bufs) {
			h := b[r.off:]
			snap := binary.NativeEndian.Uint32(h[p3Snaplen:])
			mac := uint32(binary.NativeEndian.Uint16(h[p3Mac:]))
			if end := uint64(r.off) + uint64(mac) + uint64(snap); end <= uint64(len(b)) {
				sizes[n] = copy(bufs[n], h[mac:mac+snap])
				n++
			}
			r.off += binary.NativeEndian.Uint32(h[p3Next:])
			r.pkt++
		}
		if r.pkt < num {
			break // bufs full; resume in this block next time
		}
		// Block done: give it back and move on.
		atomic.StoreUint32(r.status(), unix.TP_STATUS_KERNEL)
		r.block = (r.block + 1) % rxRingBlocks
		r.pkt, r.off = 0, 0
	}
	return n, nil
}

// Drops reads PACKET_STATISTICS (tpacket_stats_v3), which resets on every
// read, and returns the running total of dropped frames.
func (r *rxRing) Drops() (uint64, error) {
	st, err := r.c.GetsockoptTpacketStatsV3(unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return r.drops.Load(), err
	}
	return r.drops.Add(uint64(st.Drops)), nil
}

// Close closes the socket, which wakes a parked ReadBatch, then unmaps the
// ring once no reader is inside it.
func (r *rxRing) Close() error {
	err := r.c.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ring != nil {
		err = errors.Join(err, os.NewSyscallError("munmap", unix.Munmap(r.ring)))
		r.ring = nil
	}
	return err
}
