package pipeline

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DropCapabilities clears every capability of the process (effective,
// permitted, inheritable and ambient sets) on all its threads. The
// pipeline calls for none after its raw sockets are open: the prober uses
// ordinary TCP sockets. It is a no-op for the capability sets if they are
// already empty.
//
// It fails with ErrCapsCgo in a binary built with cgo, where the Go runtime
// cannot make a system call on every thread.
func DropCapabilities() error {
	// capset(2) with _LINUX_CAPABILITY_VERSION_3: two data structs (64
	// capability bits), all zero. Capabilities are per thread, so every
	// thread of the Go runtime must make the call (AllThreadsSyscall,
	// which needs cgo off).
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	_, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0)
	if e == syscall.ENOTSUP {
		return ErrCapsCgo
	}
	if e != 0 && e != unix.EINVAL {
		return os.NewSyscallError("prctl", e)
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return os.NewSyscallError("capset", e)
	}
	return nil
}
