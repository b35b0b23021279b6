package pipeline

import "syscall"

// maxWorkers is the most probes the process's open-file limit allows:
// two sockets each (connections A and B of smbprobe.Prober.Probe), after
// a reserve for the raw sockets, output, spill, checkpoint and metrics.
// The Go runtime raises the soft limit to the hard one at start-up
// (os package, Go 1.19+), so this is usually the hard limit.
func maxWorkers() int {
	const reserve = 256
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return DefaultWorkers
	}
	if rl.Cur > 1<<30 {
		return 1 << 29
	}
	return max(int(rl.Cur)-reserve, 2) / 2
}
