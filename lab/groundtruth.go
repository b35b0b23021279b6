package lab

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
)

// PortState is what a lab address answers to a SYN on one port.
type PortState string

// The port states of the ground truth.
const (
	StateOpen     PortState = "open"     // SYN-ACK
	StateClosed   PortState = "closed"   // RST
	StateFiltered PortState = "filtered" // nothing
	StateOutside  PortState = "outside"  // not in the lab's range
)

// GroundTruth is what a lab is built to answer. Up writes it as JSON to
// Status.GroundTruth; GroundTruth and ReadGroundTruth read it back.
// A GroundTruth is read-only after it is built and safe for concurrent use.
type GroundTruth struct {
	Range netip.Prefix `json:"range"`
	Seed  uint64       `json:"seed"`
	Ports []uint16     `json:"ports"`

	// Open and Closed list, per port, the drawn addresses in ascending
	// order. Every other address of Range is filtered, except in Reserved.
	Open   map[uint16][]netip.Addr `json:"open"`
	Closed map[uint16][]netip.Addr `json:"closed"`

	// Reserved is the part of Range that holds Servers and Hostile hosts.
	// There, only their own addresses and ports answer (and the whole
	// SYN-proxy prefix); everything else is filtered.
	Reserved []netip.Prefix `json:"reserved,omitempty"`

	Servers []Server  `json:"servers"`
	Hostile []Hostile `json:"hostile,omitempty"`
}

// draw builds the seeded part of the ground truth: for each address of the
// range in ascending order and each port, one uniform draw decides open
// (u < open), closed (u < open+closed) or filtered. Draws are made for
// reserved addresses too and then discarded, so turning servers on or off
// does not move the rest.
func draw(c *Config, reserved []netip.Prefix) *GroundTruth {
	g := &GroundTruth{
		Range:    c.Range,
		Seed:     c.Seed,
		Ports:    slices.Clone(c.Ports),
		Open:     make(map[uint16][]netip.Addr, len(c.Ports)),
		Closed:   make(map[uint16][]netip.Addr, len(c.Ports)),
		Reserved: reserved,
		Servers:  []Server{},
	}
	for _, p := range c.Ports {
		g.Open[p] = []netip.Addr{}
		g.Closed[p] = []netip.Addr{}
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x736d6273776565)) // "smbswee"
	last := lastAddr(c.Range)
	for a := c.Range.Addr(); ; a = a.Next() {
		skip := inAny(reserved, a)
		for _, p := range c.Ports {
			u := rng.Float64()
			switch {
			case skip:
			case u < c.Open:
				g.Open[p] = append(g.Open[p], a)
			case u < c.Open+c.Closed:
				g.Closed[p] = append(g.Closed[p], a)
			}
		}
		if a == last {
			break
		}
	}
	return g
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// State reports what the lab answers to a SYN to ap.
func (g *GroundTruth) State(ap netip.AddrPort) PortState {
	a, port := ap.Addr(), ap.Port()
	if !g.Range.Contains(a) {
		return StateOutside
	}
	for _, s := range g.Servers {
		if s.Port == port && (s.Address == a || s.Prefix.IsValid() && s.Prefix.Contains(a)) {
			return StateOpen
		}
	}
	for _, h := range g.Hostile {
		if (h.Port == 0 || h.Port == port) && (h.Address == a || h.Prefix.IsValid() && h.Prefix.Contains(a)) {
			return StateOpen
		}
	}
	if inAny(g.Reserved, a) {
		return StateFiltered
	}
	if _, ok := slices.BinarySearchFunc(g.Open[port], a, netip.Addr.Compare); ok {
		return StateOpen
	}
	if _, ok := slices.BinarySearchFunc(g.Closed[port], a, netip.Addr.Compare); ok {
		return StateClosed
	}
	return StateFiltered
}

// ReadGroundTruth reads a ground-truth file written by Up.
func ReadGroundTruth(path string) (*GroundTruth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g := new(GroundTruth)
	if err := json.Unmarshal(b, g); err != nil {
		return nil, fmt.Errorf("lab: ground truth %s: %w", path, err)
	}
	return g, nil
}
