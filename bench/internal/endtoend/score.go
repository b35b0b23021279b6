package endtoend

import (
	"net/netip"

	"github.com/smbsweep/smbsweep/lab"
)

// port is the one port both tools scan and probe.
const port = 445

// Truth is the part of a lab's ground truth a run is scored against.
type Truth struct {
	// Open are the addresses that answer SYN-ACK on port 445; SMB those
	// that run an SMB server there.
	Open, SMB map[netip.Addr]bool
	// AnyIP is the /24 one smbd serves (invalid if the lab has none).
	AnyIP netip.Prefix
}

// NewTruth extracts the port-445 truth of g.
func NewTruth(g *lab.GroundTruth) *Truth {
	t := &Truth{Open: map[netip.Addr]bool{}, SMB: map[netip.Addr]bool{}}
	for a := g.Range.Masked().Addr(); g.Range.Contains(a); a = a.Next() {
		if g.State(netip.AddrPortFrom(a, port)) == lab.StateOpen {
			t.Open[a] = true
		}
	}
	for _, s := range g.Servers {
		if s.Port != port {
			continue
		}
		if !s.Prefix.IsValid() {
			t.SMB[s.Address] = true
			continue
		}
		t.AnyIP = s.Prefix
		for a := s.Prefix.Masked().Addr(); s.Prefix.Contains(a); a = a.Next() {
			t.SMB[a] = true
		}
	}
	return t
}

// Part is one part of a score: found of expected.
type Part struct{ Found, Expected int }

// Score is a run's recall against a Truth, outside and inside the AnyIP
// /24.
type Score struct {
	Hosts, HostsOutside, HostsInside Part
	SMB, SMBOutside, SMBInside       Part
	// Extra counts hosts written that the lab does not answer on.
	Extra int
}

// Score scores f against t.
func (t *Truth) Score(f Found) Score {
	var s Score
	count := func(all, out, in *Part, expected map[netip.Addr]bool, found func(netip.Addr) bool) {
		for a := range expected {
			p := out
			if t.AnyIP.Contains(a) {
				p = in
			}
			p.Expected++
			all.Expected++
			if found(a) {
				p.Found++
				all.Found++
			}
		}
	}
	count(&s.Hosts, &s.HostsOutside, &s.HostsInside, t.Open, func(a netip.Addr) bool { _, ok := f[a]; return ok })
	count(&s.SMB, &s.SMBOutside, &s.SMBInside, t.SMB, func(a netip.Addr) bool { return f[a] })
	for a := range f {
		if !t.Open[a] {
			s.Extra++
		}
	}
	return s
}
