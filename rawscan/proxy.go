package rawscan

import "net/netip"

// Thresholds of the SYN-proxy detector. A /24 of real hosts rarely has more
// than a few dozen listening on one port; a SYN proxy or tarpit answers for
// all 256 with one TCP stack's fingerprint.
const (
	// proxyMinOpen is the number of open answers from one /24 beyond which
	// its answers are suspected.
	proxyMinOpen = 64
	// proxyUniform is the share of those answers that must carry the most
	// common (TTL, window, MSS) signature.
	proxyUniform = 0.9
)

// proxyNet is what the detector keeps for one /24.
type proxyNet struct {
	open int
	sig  uint64 // the (TTL, window, MSS) signature of the first answer
	same int    // answers carrying sig
}

// A proxyDetector flags SYN-ACKs from /24 networks where nearly every
// address answers with an identical TTL, window and MSS: the signature of a
// SYN proxy, a tarpit or a middlebox answering for a whole range (naabu
// #1738). It flags answers from the moment a /24 crosses the threshold; the
// answers before that are reported unflagged, and Suspects lists every
// flagged /24 at the end. It is owned by the receiver goroutine.
type proxyDetector struct {
	nets    map[[3]byte]*proxyNet
	suspect map[[3]byte]bool
}

func newProxyDetector() *proxyDetector {
	return &proxyDetector{nets: make(map[[3]byte]*proxyNet), suspect: make(map[[3]byte]bool)}
}

// observe records a SYN-ACK and reports whether its /24 now looks like a
// proxy.
func (d *proxyDetector) observe(r *Result) bool {
	v := r.Addr.As4()
	k := [3]byte(v[:3])
	if d.suspect[k] {
		return true
	}
	n := d.nets[k]
	if n == nil {
		n = &proxyNet{}
		d.nets[k] = n
	}
	sig := uint64(r.TTL)<<32 | uint64(r.Window)<<16 | uint64(r.MSS)
	if n.open == 0 {
		n.sig = sig
	}
	n.open++
	if sig == n.sig {
		n.same++
	}
	if n.open >= proxyMinOpen && float64(n.same) >= proxyUniform*float64(n.open) {
		d.suspect[k] = true
		delete(d.nets, k)
		return true
	}
	return false
}

// suspects returns the /24 prefixes flagged so far.
func (d *proxyDetector) suspects() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(d.suspect))
	for k := range d.suspect {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{k[0], k[1], k[2], 0}), 24))
	}
	return out
}
