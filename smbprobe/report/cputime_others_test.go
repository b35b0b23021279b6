//go:build !unix

package report

import "time"

// cpuTime is not measured on this OS; the cpu-ns/record metric reads 0.
func cpuTime() time.Duration { return 0 }
