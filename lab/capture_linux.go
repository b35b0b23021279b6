package lab

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// Capture records every frame that leaves the scanner namespace, on every
// interface of it, to a pcap file. Stop ends it. A Capture is safe for
// concurrent use.
type Capture struct {
	fd       int
	f        *os.File
	done     chan struct{} // closed when loop returns
	quit     chan struct{} // closed by Stop
	stopOnce sync.Once

	mu     sync.Mutex
	frames int
	err    error
}

// htons converts to network byte order for the AF_PACKET protocol field
// (packet(7)).
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Capture starts recording the frames the scanner namespace sends (packet
// type PACKET_OUTGOING, packet(7)) to the pcap file at path. The socket is
// opened inside the namespace, on all its interfaces.
func (l *Lab) Capture(path string) (*Capture, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var fd int
	err = l.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		return os.NewSyscallError("socket", err)
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	// A receive timeout lets the loop notice Stop.
	tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		f.Close()
		return nil, os.NewSyscallError("setsockopt", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	c := &Capture{fd: fd, f: f, done: make(chan struct{}), quit: make(chan struct{})}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		unix.Close(fd)
		f.Close()
		return nil, err
	}
	ready := make(chan struct{})
	go c.loop(w, ready)
	<-ready
	return c, nil
}

func (c *Capture) loop(w *pcapgo.Writer, ready chan struct{}) {
	defer close(c.done)
	buf := make([]byte, 65535)
	close(ready)
	for {
		select {
		case <-c.quit:
			return
		default:
		}
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if !errors.Is(err, unix.EBADF) {
				c.setErr(os.NewSyscallError("recvfrom", err))
			}
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
			continue
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: n, Length: n}
		if err := w.WritePacket(ci, buf[:n]); err != nil {
			c.setErr(err)
			return
		}
		c.mu.Lock()
		c.frames++
		c.mu.Unlock()
	}
}

func (c *Capture) setErr(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// Frames is the number of frames recorded so far.
func (c *Capture) Frames() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// Stop ends the capture, flushes the file and returns the number of frames
// recorded.
func (c *Capture) Stop() (int, error) {
	c.stopOnce.Do(func() { close(c.quit) })
	<-c.done
	unix.Close(c.fd)
	err := c.f.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.frames, fmt.Errorf("lab: capture: %w", c.err)
	}
	return c.frames, err
}
