package rawscan

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// counters are the scan's live counts, updated atomically by the senders
// (once per batch) and the receiver (once per batch or per result).
type counters struct {
	targets, sent, skippedOptOut                atomic.Uint64
	received, undecodable, stray, forged, valid atomic.Uint64
	duplicates, optOutReplies                   atomic.Uint64
	synack, rst, icmp, suspect                  atomic.Uint64
	drops                                       atomic.Uint64
	sendStart, sendEnd                          atomic.Int64 // UnixNano, 0 = not yet
	lastFrame                                   atomic.Int64 // UnixNano: the latest sender's end (endSend)
}

// endSend records that a sender stopped sending at t; once all have, the
// latest is the scan's send end.
func (c *counters) endSend(t time.Time) {
	n := t.UnixNano()
	for {
		old := c.lastFrame.Load()
		if old >= n || c.lastFrame.CompareAndSwap(old, n) {
			return
		}
	}
}

// Stats is a snapshot of a scan's counters, for a status line or metrics.
type Stats struct {
	// Targets is the number of targets drawn from the iterators and
	// probed (not skipped).
	Targets uint64
	// Sent is the number of SYN frames handed to the kernel, retries
	// included.
	Sent uint64
	// SkippedOptOut is the number of targets not probed because the
	// opt-out set contained them at send time.
	SkippedOptOut uint64
	// Received is every frame the receiver read.
	Received uint64
	// Undecodable frames were not IPv4 TCP or ICMP unreachable, or were
	// malformed.
	Undecodable uint64
	// Stray replies were not addressed to the scan's source address and
	// port range.
	Stray uint64
	// Forged replies were addressed to the scan but failed the cookie.
	Forged uint64
	// Validated replies passed the cookie (duplicates included).
	Validated uint64
	// Duplicates are validated replies from a target already reported.
	Duplicates uint64
	// OptOutReplies are validated replies dropped because the opt-out set
	// contained the sender on receipt.
	OptOutReplies uint64
	// SynAck, RST and ICMPUnreach count the unique results by kind.
	SynAck, RST, ICMPUnreach uint64
	// SuspectProxy counts SYN-ACK results flagged FlagSuspectProxy.
	SuspectProxy uint64
	// Drops is the number of frames the kernel's receive ring dropped.
	Drops uint64
	// SendStart and SendEnd bound the sending phase; zero until it
	// starts or ends.
	SendStart, SendEnd time.Time
	// SuspectNets are the /24 networks flagged as SYN proxies; it is
	// filled in only once Run has returned.
	SuspectNets []netip.Prefix
}

func (c *counters) snapshot() Stats {
	st := Stats{
		Targets: c.targets.Load(), Sent: c.sent.Load(), SkippedOptOut: c.skippedOptOut.Load(),
		Received: c.received.Load(), Undecodable: c.undecodable.Load(), Stray: c.stray.Load(),
		Forged: c.forged.Load(), Validated: c.valid.Load(), Duplicates: c.duplicates.Load(),
		OptOutReplies: c.optOutReplies.Load(), SynAck: c.synack.Load(), RST: c.rst.Load(),
		ICMPUnreach: c.icmp.Load(), SuspectProxy: c.suspect.Load(), Drops: c.drops.Load(),
	}
	if t := c.sendStart.Load(); t != 0 {
		st.SendStart = time.Unix(0, t)
	}
	if t := c.sendEnd.Load(); t != 0 {
		st.SendEnd = time.Unix(0, t)
	}
	return st
}
