//go:build unix

package rawscan

import (
	"os"
	"syscall"
)

// RateSignals returns the signals that raise and lower a running scan's
// rate by 10%, as in ZMap: SIGUSR1 and SIGUSR2.
func RateSignals() (up, down os.Signal) { return syscall.SIGUSR1, syscall.SIGUSR2 }
