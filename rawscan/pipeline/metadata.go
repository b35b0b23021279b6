package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// Metadata is the summary written at the end of a run (--metadata FILE):
// ZMap's summary fields (src/summary.c) and smbsweep's. The caller fills
// in the configuration; Finish adds the counts.
type Metadata struct {
	// Tool is "smbsweep"; Version its version.
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// Contact is the operator's contact string (--contact).
	Contact string `json:"contact"`
	// Config is the command line's flags as given, by name.
	Config map[string]string `json:"config"`
	// Targets are the target prefixes; Ports the destination ports.
	Targets []string `json:"targets"`
	Ports   []uint16 `json:"ports"`
	// Seed, Generator, Prime, Shards, Shard and Threads describe the
	// permutation (ZMap's seed, generator, shard_num, total_shards,
	// sender_threads).
	Seed      uint64 `json:"seed"`
	Generator uint64 `json:"generator"`
	Prime     uint64 `json:"prime"`
	Shards    int    `json:"shards"`
	Shard     int    `json:"shard"`
	Threads   int    `json:"sender_threads"`
	// Interface, SourceIP, SourceMAC and GatewayMAC are the local end.
	Interface  string `json:"interface"`
	SourceIP   string `json:"source_ip"`
	SourceMAC  string `json:"source_mac"`
	GatewayMAC string `json:"gateway_mac"`
	// Rate is the configured rate (pps), Cooldown the cooldown.
	Rate     float64 `json:"rate"`
	Cooldown string  `json:"cooldown"`
	// Blocklists are the blocklist and opt-out files applied.
	Blocklists []FileHash `json:"blocklists"`
	// Resumed is set when the run continued a checkpoint.
	Resumed bool `json:"resumed"`
	// Start and End bound the run; SendStart and SendEnd the sending
	// phase (ZMap's start_time, end_time, send_start_time…).
	Start     time.Time `json:"start_time"`
	End       time.Time `json:"end_time"`
	SendStart time.Time `json:"send_start_time,omitzero"`
	SendEnd   time.Time `json:"send_end_time,omitzero"`
	// Counts as in ZMap's summary, from the final Status.
	PacketsSent      uint64  `json:"packets_sent"`
	TargetsScanned   uint64  `json:"targets_scanned"`
	PacketsReceived  uint64  `json:"packets_received"`
	ValidationPassed uint64  `json:"validation_passed"`
	ValidationFailed uint64  `json:"validation_failed"`
	Duplicates       uint64  `json:"duplicates"`
	SkippedOptOut    uint64  `json:"skipped_optout"`
	Drops            uint64  `json:"receiver_drops"`
	SynAck           uint64  `json:"synack"`
	RST              uint64  `json:"rst"`
	ICMPUnreach      uint64  `json:"icmp_unreach"`
	Hits             uint64  `json:"hits"`
	HitsResumed      uint64  `json:"hits_resumed"`
	SpilledTotal     uint64  `json:"spilled_total"`
	Probed           uint64  `json:"probes"`
	Written          uint64  `json:"records_written"`
	Abandoned        uint64  `json:"hits_abandoned"`
	SilentSubnet     uint64  `json:"probes_silent_subnet"`
	HitRate          float64 `json:"hit_rate"`
	// SuspectProxyNets are the /24s whose SYN-ACKs look like a SYN proxy
	// (their records carry scan.flags "suspect-proxy").
	SuspectProxyNets []netip.Prefix `json:"suspect_proxy_nets,omitempty"`
	// SMB counts the probes by status.
	SMB map[string]uint64 `json:"smb_results"`
	// Completed is true when every target was sent and every hit probed.
	Completed bool `json:"completed"`
	// Error is the run's error, if it failed.
	Error string `json:"error,omitempty"`
}

// FileHash names a file and the SHA-256 of its contents.
type FileHash struct {
	// Path is the file as given; SHA256 the hex digest of its contents.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// HashFile returns the FileHash of the file at path.
func HashFile(path string) (FileHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileHash{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return FileHash{}, fmt.Errorf("pipeline: hashing %s: %w", path, err)
	}
	return FileHash{Path: path, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Finish fills in the counts from the final Status.
func (m *Metadata) Finish(st *Status, runErr error) {
	m.End = st.Time
	m.SendStart, m.SendEnd = st.Scan.SendStart.UTC(), st.Scan.SendEnd.UTC()
	if st.Scan.SendStart.IsZero() {
		m.SendStart = time.Time{}
	}
	if st.Scan.SendEnd.IsZero() {
		m.SendEnd = time.Time{}
	}
	s := &st.Scan
	m.PacketsSent, m.TargetsScanned, m.PacketsReceived = s.Sent, s.Targets, s.Received
	m.ValidationPassed, m.ValidationFailed = s.Validated, s.Forged
	m.Duplicates, m.SkippedOptOut, m.Drops = s.Duplicates, s.SkippedOptOut, s.Drops
	m.SynAck, m.RST, m.ICMPUnreach = s.SynAck, s.RST, s.ICMPUnreach
	m.Hits, m.HitsResumed, m.SpilledTotal = st.Hits, st.Resumed, st.SpilledTotal
	m.Probed, m.Written, m.Abandoned, m.HitRate = st.Probed, st.Written, st.Abandoned, st.HitRate
	m.SilentSubnet = st.SilentSubnet
	m.SMB = st.ByStatus
	m.SuspectProxyNets = s.SuspectNets
	m.Completed = runErr == nil && st.Complete
	if runErr != nil {
		m.Error = runErr.Error()
	}
}

// Write writes m as indented JSON to path.
func (m *Metadata) Write(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("pipeline: metadata: %w", err)
	}
	return nil
}
