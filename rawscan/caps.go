package rawscan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Capability is a Linux capability number (include/uapi/linux/capability.h).
type Capability uint

// Capabilities the scanner may need.
const (
	// CapNetAdmin (12) is needed to change interfaces or force socket
	// buffers beyond the sysctl limits.
	CapNetAdmin Capability = 12
	// CapNetRaw (13) is needed for AF_PACKET sockets: every scan.
	CapNetRaw Capability = 13
)

// String returns the capability's name as setcap(8) spells it in upper case.
func (c Capability) String() string {
	switch c {
	case CapNetAdmin:
		return "CAP_NET_ADMIN"
	case CapNetRaw:
		return "CAP_NET_RAW"
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// ParseCapEff returns the effective capability set from the text of
// /proc/PID/status (proc(5): "CapEff:" followed by 16 hex digits).
func ParseCapEff(status []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("rawscan: CapEff %q: %w", strings.TrimSpace(v), err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("rawscan: no CapEff line in the process status")
}

// MissingCapabilities returns the capabilities of need that are not in the
// effective set eff.
func MissingCapabilities(eff uint64, need ...Capability) []Capability {
	var miss []Capability
	for _, c := range need {
		if eff&(1<<c) == 0 {
			miss = append(miss, c)
		}
	}
	return miss
}

// CheckCapabilities reads this process's effective capability set (not its
// uid: root without CAP_NET_RAW cannot scan, and an unprivileged binary
// with file capabilities can) and returns an error naming every missing
// capability and the setcap command that grants them.
func CheckCapabilities(need ...Capability) error {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("rawscan: reading capabilities: %w", err)
	}
	eff, err := ParseCapEff(b)
	if err != nil {
		return err
	}
	miss := MissingCapabilities(eff, need...)
	if len(miss) == 0 {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return capabilityError(miss, exe)
}

// capabilityError says which capabilities are missing and how to grant
// them to the binary at exe.
func capabilityError(miss []Capability, exe string) error {
	names := make([]string, len(miss))
	for i, c := range miss {
		names[i] = c.String()
	}
	return fmt.Errorf("rawscan: missing %s in the effective capability set (needed for raw AF_PACKET sockets); run as root or grant it once with: sudo setcap cap_net_raw,cap_net_admin+ep %s",
		strings.Join(names, " and "), exe)
}
