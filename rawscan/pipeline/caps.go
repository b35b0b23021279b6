package pipeline

import (
	"errors"
	"fmt"
)

// ErrCapsCgo is returned by DropCapabilities in a binary built with cgo,
// where the Go runtime cannot make a system call on every thread
// (syscall.AllThreadsSyscall).
var ErrCapsCgo = fmt.Errorf("pipeline: cannot drop capabilities on every thread: %w (build with CGO_ENABLED=0)", errors.ErrUnsupported)
