package smbprobe

import (
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The reactor's system calls, made with syscall.RawSyscall. None of them
// can block: every socket is nonblocking and epoll_pwait has a zero
// timeout. A raw call skips runtime.entersyscall, which, whenever the
// process was idle, wakes the runtime's sysmon thread (runtime/proc.go,
// entersyscallWakeSysmon); sysmon then polls every 20 µs until the process
// is idle again. A prober is idle between replies most of the time, so
// each reply cost such a burst: about 16 nanosleep calls per host on the
// lab's AnyIP hosts. Errors are bare syscall.Errno values; callers wrap
// them with the call's name.

func errnoErr(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// rawSocket is socket(2) for a nonblocking, close-on-exec TCP socket.
func rawSocket(family int) (int, error) {
	fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return -1, os.NewSyscallError("socket", e)
	}
	return int(fd), nil
}

// rawSetsockoptInt is setsockopt(2) with an int value.
func rawSetsockoptInt(fd, level, opt, v int) error {
	v32 := int32(v)
	_, _, e := syscall.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v32)), 4, 0)
	return errnoErr(e)
}

// rawProbeSockopts is setProbeSockopts (sockopt_linux.go) in raw calls:
// SO_LINGER {1, 0} and TCP_QUICKACK 0.
func rawProbeSockopts(fd int) error {
	l := unix.Linger{Onoff: 1, Linger: 0}
	_, _, e := syscall.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	if e != 0 {
		return os.NewSyscallError("setsockopt SO_LINGER", e)
	}
	if err := rawSetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0); err != nil {
		return os.NewSyscallError("setsockopt TCP_QUICKACK", err)
	}
	return nil
}

// rawConnect is connect(2) to ap; a nonblocking socket returns EINPROGRESS.
func rawConnect(fd int, ap netip.AddrPort) error {
	var e syscall.Errno
	port := ap.Port()
	if ap.Addr().Is4() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ap.Addr().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
		p[0], p[1] = byte(port>>8), byte(port)
		_, _, e = syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	} else {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ap.Addr().As16()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		_, _, e = syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	}
	return errnoErr(e)
}

// rawSend is send(2) with MSG_NOSIGNAL: a peer's RST is EPIPE, not SIGPIPE.
func rawSend(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawRead is read(2).
func rawRead(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawClose is close(2); with SO_LINGER 0 it sends a RST and does not wait.
func rawClose(fd int) error {
	_, _, e := syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	return errnoErr(e)
}

// rawGetsockoptInt is getsockopt(2) of an int value.
func rawGetsockoptInt(fd, level, opt int) (int, error) {
	var v int32
	l := uint32(4)
	_, _, e := syscall.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), errnoErr(e)
}

// rawEpollCtl is epoll_ctl(2).
func rawEpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoErr(e)
}

// rawEpollPoll is epoll_pwait(2) with a zero timeout: it never blocks.
func rawEpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
