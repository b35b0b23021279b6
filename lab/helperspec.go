package lab

import "net/netip"

// helperSpec is what one helper process serves.
type helperSpec struct {
	// Listen lists ports to accept (and at once close) on 0.0.0.0: the
	// listeners behind the internet namespace's open set.
	Listen []uint16 `json:"listen,omitempty"`
	// Hostile lists misbehaving listeners.
	Hostile []hostileSpec `json:"hostile,omitempty"`
	// Wire, if set, makes the helper the delaying wire (see wireSpec)
	// instead.
	Wire *wireSpec `json:"wire,omitempty"`
}

type hostileSpec struct {
	Kind string         `json:"kind"`
	Addr netip.AddrPort `json:"addr"`
}

// Hostile behaviours (Hostile.Does and hostileSpec.Kind).
const (
	hostileSilent   = "silent"   // accept, then never send
	hostileSlow     = "slow"     // send a negotiate reply at 1 byte per second
	hostileHuge     = "huge"     // declare a 4 GiB NBSS length, then stall
	hostileGarbage  = "garbage"  // send 4 KiB of random bytes and close
	hostileReset    = "reset"    // send half a reply, then RST
	hostileSYNProxy = "synproxy" // every address and port: SYN-ACK, then silence
)
