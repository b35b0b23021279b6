package pipeline

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// Phases of a run, in order.
const (
	PhaseSending  = "sending"
	PhaseCooldown = "cooldown"
	PhaseProbing  = "probing" // sending and cooldown done, probes left
	PhaseDone     = "done"
)

// Statuses lists the SMB statuses counted per status, in output order.
var Statuses = []smbprobe.Status{
	smbprobe.StatusSuccess, smbprobe.StatusConnectionRefused, smbprobe.StatusConnectionTimeout,
	smbprobe.StatusConnectionClosed, smbprobe.StatusIOTimeout, smbprobe.StatusNotSMB,
	smbprobe.StatusProtocolError, smbprobe.StatusNetBIOSRefused, smbprobe.StatusUnreachable,
	smbprobe.StatusCanceled, smbprobe.StatusUnknownError,
}

// Status is a snapshot of a run: everything on the status line, in the
// status file (as JSON) and on /metrics. Rates are per second over the last
// status interval; counts are totals since the start of this process.
type Status struct {
	Time    time.Time     `json:"time"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Phase   string        `json:"phase"`

	// Scan is rawscan's counters (sent, received, validated, drops …).
	Scan ScanStats `json:"scan"`
	// RateLimit is the current send-rate budget (0 = unlimited); SendRate
	// the measured one.
	RateLimit float64 `json:"rate_limit"`
	SendRate  float64 `json:"send_rate"`
	// TargetsTotal is this shard's number of targets; Done their fraction
	// drawn so far (including before a resume); ETA the time left at the
	// current rate (0 if unknown).
	TargetsTotal uint64        `json:"targets_total"`
	Done         float64       `json:"done"`
	ETA          time.Duration `json:"eta_ns"`

	// Hits are the unique SYN-ACKs handed to the queue; HitRate the
	// fraction of probed targets that are hits; Resumed the hits skipped
	// because the output already had them.
	Hits    uint64  `json:"hits"`
	HitRate float64 `json:"hit_rate"`
	Resumed uint64  `json:"resumed_skipped"`

	// Queue is the number of hits waiting in memory, Spilled those
	// waiting on disk, SpilledTotal every hit that ever went to disk.
	Queue        int    `json:"queue"`
	Spilled      int64  `json:"spilled"`
	SpilledTotal uint64 `json:"spilled_total"`

	// InFlight is the number of probes running; Probed those finished;
	// ProbeRate the probes finished per second; ByStatus the finished
	// probes by SMB status.
	InFlight  int64             `json:"in_flight"`
	Probed    uint64            `json:"probed"`
	ProbeRate float64           `json:"probe_rate"`
	ByStatus  map[string]uint64 `json:"by_status,omitempty"`
	// Written is the number of records written; Abandoned the hits not
	// probed because a hard stop cut them off (a resume probes them).
	Written   uint64 `json:"written"`
	Abandoned uint64 `json:"abandoned"`
	// Held counts the hits of dense subnets that waited for the scan to
	// stop sending (Config.HoldDense).
	Held uint64 `json:"held"`
	// SilentSubnet counts the probes whose first reply was cut short
	// because their subnet was judged silent, a SYN proxy or tarpit
	// (smbprobe.FlagSilentSubnet).
	SilentSubnet uint64 `json:"silent_subnet"`

	// Complete is set in the final Status of a run that sent every
	// target of its shard and wrote every hit.
	Complete bool `json:"complete,omitempty"`

	// Checkpoint is when the last checkpoint was committed (zero: none).
	Checkpoint time.Time `json:"checkpoint,omitzero"`
}

// ScanStats are the counters of rawscan.Stats (see there) with
// snake_case JSON names, for the status file.
type ScanStats struct {
	Targets       uint64    `json:"targets"`
	Sent          uint64    `json:"sent"`
	SkippedOptOut uint64    `json:"skipped_optout"`
	Received      uint64    `json:"received"`
	Undecodable   uint64    `json:"undecodable"`
	Stray         uint64    `json:"stray"`
	Forged        uint64    `json:"forged"`
	Validated     uint64    `json:"validated"`
	Duplicates    uint64    `json:"duplicates"`
	OptOutReplies uint64    `json:"optout_replies"`
	SynAck        uint64    `json:"synack"`
	RST           uint64    `json:"rst"`
	ICMPUnreach   uint64    `json:"icmp_unreach"`
	SuspectProxy  uint64    `json:"suspect_proxy"`
	Drops         uint64    `json:"drops"`
	SendStart     time.Time `json:"send_start,omitzero"`
	SendEnd       time.Time `json:"send_end,omitzero"`
	// SuspectNets are the /24s flagged as SYN proxies, known at the end.
	SuspectNets []netip.Prefix `json:"suspect_nets,omitempty"`
}

func scanStats(s rawscan.Stats) ScanStats {
	return ScanStats{
		Targets: s.Targets, Sent: s.Sent, SkippedOptOut: s.SkippedOptOut, Received: s.Received,
		Undecodable: s.Undecodable, Stray: s.Stray, Forged: s.Forged, Validated: s.Validated,
		Duplicates: s.Duplicates, OptOutReplies: s.OptOutReplies, SynAck: s.SynAck, RST: s.RST,
		ICMPUnreach: s.ICMPUnreach, SuspectProxy: s.SuspectProxy, Drops: s.Drops,
		SendStart: s.SendStart, SendEnd: s.SendEnd, SuspectNets: s.SuspectNets,
	}
}

// Line formats s as the one-second status line, after ZMap's monitor:
//
//	0:12 41% (ETA 0:17); send 120000 10.0 kp/s; hits 1203 (1.00%); queue 0 spill 0; probes 12 in flight, 98/s; smb 1180; drops 0
func (s *Status) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %3.0f%%", clock(s.Elapsed), s.Done*100)
	if s.ETA > 0 {
		fmt.Fprintf(&b, " (ETA %s)", clock(s.ETA))
	}
	fmt.Fprintf(&b, "; send %d %s", s.Scan.Sent, perSecond(s.SendRate, "p"))
	fmt.Fprintf(&b, "; hits %d (%.2f%%)", s.Hits, s.HitRate*100)
	fmt.Fprintf(&b, "; queue %d spill %d", s.Queue, s.Spilled)
	fmt.Fprintf(&b, "; probes %d in flight, %.0f/s", s.InFlight, s.ProbeRate)
	fmt.Fprintf(&b, "; smb %d", s.ByStatus[string(smbprobe.StatusSuccess)])
	fmt.Fprintf(&b, "; drops %d", s.Scan.Drops)
	if s.Phase != PhaseSending {
		fmt.Fprintf(&b, " [%s]", s.Phase)
	}
	return b.String()
}

// clock formats d as h:mm:ss or m:ss.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// perSecond formats a rate with a k or M prefix.
func perSecond(v float64, unit string) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M%s/s", v/1e6, unit)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k%s/s", v/1e3, unit)
	}
	return fmt.Sprintf("%.0f %s/s", v, unit)
}
