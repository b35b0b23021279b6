package rawscan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of TCP source ports. The zero value is
// invalid; DefaultSourcePorts is used in its place.
type PortRange struct {
	First, Last uint16
}

// DefaultSourcePorts is the source-port range used when Config.SourcePorts
// is zero. It lies above Linux's default ephemeral range (32768–60999, see
// ip_local_port_range in Documentation/networking/ip-sysctl.rst), so the
// kernel's own connections, such as the SMB prober's, never receive scan
// replies and scan replies are never taken for theirs.
var DefaultSourcePorts = PortRange{First: 61000, Last: 65535}

// errPortRange is returned for an empty or inverted port range.
var errPortRange = errors.New("rawscan: invalid source-port range")

// Size returns the number of ports in r, 0 for an inverted range.
func (r PortRange) Size() uint32 {
	if r.Last < r.First {
		return 0
	}
	return uint32(r.Last) - uint32(r.First) + 1
}

// Contains reports whether p is in r.
func (r PortRange) Contains(p uint16) bool { return p >= r.First && p <= r.Last }

// Overlaps reports whether r and o share a port.
func (r PortRange) Overlaps(o PortRange) bool { return r.First <= o.Last && o.First <= r.Last }

// String formats r as "first-last".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// ParsePortRange parses "first-last" or a single port.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	b, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil || a == 0 || b < a {
		return PortRange{}, fmt.Errorf("%w: %q (want FIRST-LAST, 1-65535)", errPortRange, s)
	}
	return PortRange{First: uint16(a), Last: uint16(b)}, nil
}

// EphemeralPorts reads the kernel's ephemeral port range from
// /proc/sys/net/ipv4/ip_local_port_range (two integers separated by white
// space, see Documentation/networking/ip-sysctl.rst).
func EphemeralPorts() (PortRange, error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return PortRange{}, fmt.Errorf("rawscan: reading the ephemeral port range: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) != 2 {
		return PortRange{}, fmt.Errorf("rawscan: ip_local_port_range: unexpected %q", b)
	}
	return ParsePortRange(string(f[0]) + "-" + string(f[1]))
}
