package pipeline

import (
	"net/netip"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// A Record is one line of output: a host with its scan facts and, unless
// the scan is scan-only, its SMB facts. Keys are snake_case, as in
// smbprobe.Result, whose fields it repeats.
type Record struct {
	// IP and Port are the host that answered SYN-ACK.
	IP   netip.Addr `json:"ip"`
	Port uint16     `json:"port"`
	// Status is the SMB probe's outcome; empty (omitted) in scan-only
	// output.
	Status smbprobe.Status `json:"status,omitempty"`
	// Timestamp is when the probe started, or the SYN-ACK's time in
	// scan-only output.
	Timestamp time.Time `json:"timestamp"`
	// Scan holds the SYN-ACK's facts.
	Scan Scan `json:"scan"`
	// SMB, Flags and Error are smbprobe.Result's.
	SMB   *smbprobe.SMB `json:"smb,omitempty"`
	Flags []string      `json:"flags,omitempty"`
	Error string        `json:"error,omitempty"`

	epoch uint32 // the hit's checkpoint epoch
}

// Scan is the SYN-ACK part of a Record.
type Scan struct {
	// TTL, Window and MSS are the SYN-ACK's IPv4 TTL, TCP window and MSS
	// option (0, omitted, if absent); Time is when it was received.
	TTL    uint8     `json:"ttl"`
	Window uint16    `json:"window"`
	MSS    uint16    `json:"mss,omitempty"`
	Time   time.Time `json:"time"`
	// Flags lists rawscan's doubts: "suspect-proxy".
	Flags []string `json:"flags,omitempty"`
}

// scanFacts converts a hit's scan facts.
func scanFacts(h *Hit) Scan {
	s := Scan{TTL: h.TTL, Window: h.Window, MSS: h.MSS, Time: h.ReceivedAt()}
	if h.Flags&rawscan.FlagSuspectProxy != 0 {
		s.Flags = []string{rawscan.SuspectProxyName}
	}
	return s
}

// recordFrom joins a hit and its probe result; r nil means scan-only.
func recordFrom(h *Hit, r *smbprobe.Result) *Record {
	rec := &Record{IP: h.Target.Addr(), Port: h.Target.Port(), Scan: scanFacts(h), epoch: h.epoch}
	if r == nil {
		rec.Timestamp = rec.Scan.Time
		return rec
	}
	rec.Status, rec.Timestamp, rec.SMB, rec.Flags, rec.Error = r.Status, r.Timestamp, r.SMB, r.Flags, r.Error
	return rec
}
