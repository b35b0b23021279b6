package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Default values used when the corresponding Config field is zero.
const (
	DefaultPrefix   = "smbsweep-"
	DefaultStateDir = "/run/smbsweep-lab"
	DefaultOpen     = 0.01
	DefaultClosed   = 0.01
)

var (
	// DefaultRange is the range a lab answers when Config.Range is zero.
	DefaultRange = netip.MustParsePrefix("198.18.0.0/16")
	// Benchmarking is 198.18.0.0/15 (RFC 2544, RFC 5735 §4): every address
	// the lab answers lies inside it.
	Benchmarking = netip.MustParsePrefix("198.18.0.0/15")
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("lab: invalid config")

// Config describes a lab. A nil *Config means all defaults. The lab needs
// root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to come up.
type Config struct {
	// Prefix names everything the lab creates: namespaces are PREFIX+"scan",
	// PREFIX+"net", …, and the state directory is StateDir/PREFIX. Letters,
	// digits, '-', '_' and '.', at most 32 bytes. Default "smbsweep-".
	Prefix string

	// Range is the simulated internet. It must lie inside 198.18.0.0/15.
	// Default 198.18.0.0/16. With Samba or Hostile it must be a /22 or
	// larger: its last three /24s hold the servers and hostile hosts.
	Range netip.Prefix

	// Open and Closed are the fractions of (address, port) pairs that answer
	// a SYN with a SYN-ACK or an RST; the rest are filtered (silent). Zero
	// means the default (1% each); a negative value means none.
	Open, Closed float64

	// Ports are the TCP ports the Open and Closed fractions apply to.
	// Default 445.
	Ports []uint16

	// Seed chooses which pairs are open and closed. Equal seeds and configs
	// give equal ground truth.
	Seed uint64

	// Samba starts the Samba matrix (see Servers in Status), impacket's
	// smbserver.py and one smbd answering a whole /24.
	Samba bool

	// Hostile starts the hostile hosts and the SYN-proxy /24.
	Hostile bool

	// ListenBacklog, when positive, raises the listen(2) backlog of every
	// Samba and impacket server to at least this many connections (capped
	// by the namespace's net.core.somaxconn, 4096), through an LD_PRELOAD
	// shim built with gcc at lab-up time (backlog_linux.go). smbd
	// hard-codes 50 (SMBD_LISTEN_BACKLOG), which one AnyIP smbd serving a
	// whole /24 overflows; a real host is one server per address. Zero
	// keeps the servers' own backlogs.
	ListenBacklog int

	// Loss (fraction 0..1), Delay, Jitter, Reorder (fraction 0..1) and Rate
	// (bits per second) impair the scanner's link in both directions, with
	// tc-netem(8)'s meanings. Zero means none. None needs sch_netem, which
	// this project's CI kernel lacks:
	//   - Loss is an nftables numgen drop of IPv4 frames (ARP passes);
	//   - Rate is a tbf qdisc;
	//   - Delay, Jitter and Reorder put a forwarding helper (the wire, in
	//     namespace PREFIX+"wire") into the link. It needs ethtool and
	//     forwards about 47k frames/s (bench/results/lab.md).
	Loss    float64
	Delay   time.Duration
	Jitter  time.Duration
	Reorder float64
	Rate    uint64

	// Sink adds the transmit-rate sinks to the scanner namespace: sink0, an
	// ifb device that counts and frees every frame, and sink1, a veth whose
	// far side drops every frame at ingress.
	Sink bool

	// StateDir holds one directory per lab (pid files, logs, Samba state,
	// ground truth). Default /run/smbsweep-lab.
	StateDir string

	// Logf, if not nil, receives progress messages.
	Logf func(format string, args ...any)
}

// withDefaults returns a copy of cfg with defaults filled in, or an error
// wrapping ErrConfig.
func (cfg *Config) withDefaults() (Config, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if err := checkPrefix(c.Prefix); err != nil {
		return c, err
	}
	if !c.Range.IsValid() {
		c.Range = DefaultRange
	}
	c.Range = c.Range.Masked()
	if !c.Range.Addr().Is4() || c.Range.Bits() < Benchmarking.Bits() || !Benchmarking.Contains(c.Range.Addr()) {
		return c, fmt.Errorf("%w: range %v is not inside %v", ErrConfig, c.Range, Benchmarking)
	}
	if (c.Samba || c.Hostile) && c.Range.Bits() > 22 {
		return c, fmt.Errorf("%w: range %v is too small for servers (need /22 or larger)", ErrConfig, c.Range)
	}
	switch {
	case c.Open == 0:
		c.Open = DefaultOpen
	case c.Open < 0:
		c.Open = 0
	}
	switch {
	case c.Closed == 0:
		c.Closed = DefaultClosed
	case c.Closed < 0:
		c.Closed = 0
	}
	if c.Open > 1 || c.Closed > 1 || c.Open+c.Closed > 1 {
		return c, fmt.Errorf("%w: open %v + closed %v exceeds 1", ErrConfig, c.Open, c.Closed)
	}
	if len(c.Ports) == 0 {
		c.Ports = []uint16{445}
	}
	for _, p := range c.Ports {
		if p == 0 {
			return c, fmt.Errorf("%w: port 0", ErrConfig)
		}
	}
	if c.Loss < 0 || c.Loss > 1 || c.Reorder < 0 || c.Reorder > 1 || c.Delay < 0 || c.Jitter < 0 {
		return c, fmt.Errorf("%w: impairment out of range", ErrConfig)
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c, nil
}

// checkPrefix reports whether p can name namespaces and directories.
func checkPrefix(p string) error {
	if p == "" || len(p) > 32 || p == "." || p == ".." {
		return fmt.Errorf("%w: prefix %q must be 1 to 32 bytes", ErrConfig, p)
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("%w: prefix %q: only letters, digits, '-', '_' and '.'", ErrConfig, p)
		}
	}
	return nil
}
