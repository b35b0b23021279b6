package proc

import (
	"fmt"
	"os"
	"time"
)

// CPU returns the CPU time (user + system, all threads) process pid has
// used so far, at a resolution of 10 ms.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proc: cpu of %d: %w", pid, err)
	}
	return ParseStatCPU(b)
}

// PeakRSS returns process pid's peak resident set size (VmHWM) in KiB.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("proc: peak rss of %d: %w", pid, err)
	}
	return ParseStatusKiB(b, "VmHWM")
}
