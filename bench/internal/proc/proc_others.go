//go:build !linux

package proc

import (
	"fmt"
	"runtime"
	"time"
)

var errOS = fmt.Errorf("proc: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)

// CPU is implemented on Linux only.
func CPU(pid int) (time.Duration, error) { return 0, errOS }

// PeakRSS is implemented on Linux only.
func PeakRSS(pid int) (int64, error) { return 0, errOS }
