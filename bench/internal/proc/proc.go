package proc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: clock ticks of
// USER_HZ, which the kernel fixes at 100 for its user ABI on every
// architecture Linux supports today (proc(5), "divide by
// sysconf(_SC_CLK_TCK)"; include/asm-generic/param.h).
const userHZ = 100

// maxTicks is the most ticks a time.Duration holds.
const maxTicks = math.MaxInt64 / uint64(time.Second/userHZ)

// errFormat is returned for procfs text that does not parse.
var errFormat = errors.New("proc: unexpected format")

// ParseStatCPU returns utime+stime from the contents of /proc/PID/stat.
// The fields are counted after the last ')', since the command name in
// field 2 may itself contain spaces and parentheses.
func ParseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat has no ')'", errFormat)
	}
	// After ") " come field 3 (state) onward; utime and stime are fields
	// 14 and 15 (proc(5)), so indexes 11 and 12 here.
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after the name", errFormat, len(f))
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%w: utime/stime: %v", errFormat, err)
	}
	// A tick is 10 ms; a sum that would overflow a Duration (292 years)
	// is not a real process's.
	if ut > maxTicks || st > maxTicks-ut {
		return 0, fmt.Errorf("%w: utime+stime %d+%d ticks out of range", errFormat, ut, st)
	}
	return time.Duration(ut+st) * (time.Second / userHZ), nil
}

// ParseStatusKiB returns the value in KiB of a "Key:   N kB" line of
// /proc/PID/status, e.g. key "VmHWM" (peak resident set size).
func ParseStatusKiB(b []byte, key string) (int64, error) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(k) != key {
			continue
		}
		f := bytes.Fields(v)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("%w: status %s: %q", errFormat, key, v)
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: status %s: %v", errFormat, key, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: status has no %s", errFormat, key)
}

// LoadAvg returns the 1-, 5- and 15-minute load averages of
// /proc/loadavg, as "1.02 0.98 0.90", or "?" when it cannot be read; the
// harness records it beside every figure.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
