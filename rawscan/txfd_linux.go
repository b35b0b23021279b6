//go:build linux

package rawscan

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// txTimeout is SO_SNDTIMEO of the sending sockets: a send blocked this long
// on a full queue returns EAGAIN, so a sender whose interface stopped
// draining still notices a canceled scan.
const txTimeout = 100 * time.Millisecond

// openTxFD opens a blocking AF_PACKET SOCK_RAW socket for sending, bound to
// nothing yet, and returns its file descriptor and the interface's index.
//
// Unlike openPacket, the descriptor is not handed to the runtime poller.
// Senders call send on their own locked threads and block in the kernel as
// the bare C sender does; a socket registered with the poller's epoll
// instead wakes the runtime for every freed frame (sock_def_write_space),
// which cost smbsweep a measured share of its CPU per packet
// (bench/results/rawscan.md).
func openTxFD(cfg *AFPacketConfig) (fd, ifindex int, err error) {
	if cfg == nil || cfg.Interface == "" {
		return -1, 0, fmt.Errorf("%w: no interface", ErrConfig)
	}
	if fd, err = socketInNetNS(cfg.NetNS); err != nil {
		return -1, 0, err
	}
	ok := false
	defer func(s int) {
		if !ok {
			unix.Close(s)
		}
	}(fd)
	if ifindex, err = ifindexOf(fd, cfg.Interface); err != nil {
		return -1, 0, err
	}
	buf := cfg.Buffer
	if buf == 0 {
		buf = defaultSocketBuffer
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, buf); err != nil {
		return -1, 0, os.NewSyscallError("setsockopt SO_SNDBUF", err)
	}
	tv := unix.NsecToTimeval(txTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return -1, 0, os.NewSyscallError("setsockopt SO_SNDTIMEO", err)
	}
	if cfg.QdiscBypass {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
			return -1, 0, os.NewSyscallError("setsockopt PACKET_QDISC_BYPASS", err)
		}
	}
	ok = true
	return fd, ifindex, nil
}

// bindTxFD binds fd to ifindex for IPv4 frames (packet(7)).
func bindTxFD(fd, ifindex int) error {
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifindex}
	return os.NewSyscallError("bind", unix.Bind(fd, sa))
}

// ifindexOf returns the index of the interface name. SIOCGIFINDEX on a
// socket looks the name up in the socket's own namespace, wherever the
// calling thread is.
func ifindexOf(fd int, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("rawscan: interface %q: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("rawscan: interface %q: %w", name, os.NewSyscallError("ioctl SIOCGIFINDEX", err))
	}
	return int(ifr.Uint32()), nil
}

// socketInNetNS creates an AF_PACKET socket that receives nothing yet
// (protocol 0) in the namespace netns, or in the calling thread's namespace
// when netns is 0.
//
// For another namespace it works on a fresh goroutine locked to its thread:
// setns into netns, create the socket, setns back. If the way back fails the
// thread stays locked and dies with the goroutine, so no goroutine ever runs
// on a thread left in the wrong namespace (as mdlayher/socket's withNetNS).
func socketInNetNS(netns int) (int, error) {
	open := func() (int, error) {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		return fd, nil
	}
	if netns == 0 {
		return open()
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, os.NewSyscallError("open /proc/thread-self/ns/net", err)}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(netns, unix.CLONE_NEWNET); err != nil {
			// The thread's namespace is unchanged.
			runtime.UnlockOSThread()
			ch <- result{-1, os.NewSyscallError("setns", err)}
			return
		}
		fd, err := open()
		if rerr := unix.Setns(orig, unix.CLONE_NEWNET); rerr != nil {
			// Leave the thread locked: it exits with this goroutine.
			if err == nil {
				unix.Close(fd)
			}
			ch <- result{-1, os.NewSyscallError("setns (restore)", rerr)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}
