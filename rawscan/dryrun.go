package rawscan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DryRun runs the senders of cfg exactly as Run would (targets, opt-out,
// probes, cookie, template) at unlimited rate, handing each stamped frame
// to fn instead of a socket, and returns the counters. It opens nothing and
// sends nothing; cfg.Tx, cfg.Rx, cfg.Rate and cfg.Cooldown are ignored. fn
// is called from the sender goroutines and must be safe for concurrent use
// when cfg.Senders > 1; the frame is reused after fn returns.
func DryRun(ctx context.Context, cfg *Config, fn func(thread int, frame []byte)) (Stats, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := *cfg
	c.Rate, c.Cooldown, c.Results = 0, -1, nil
	c.Rx = newNullRx()
	c.Tx = func(thread int) (TxConn, error) { return funcTx{thread, fn}, nil }
	s, err := New(&c)
	if err != nil {
		return Stats{}, err
	}
	err = s.Run(ctx)
	return s.Stats(), err
}

// funcTx is the TxConn of DryRun.
type funcTx struct {
	thread int
	fn     func(int, []byte)
}

// WriteBatch hands each frame to the DryRun callback.
func (t funcTx) WriteBatch(frames [][]byte) (int, error) {
	for _, f := range frames {
		t.fn(t.thread, f)
	}
	return len(frames), nil
}

// Close does nothing.
func (funcTx) Close() error { return nil }

// nullRx is an RxConn that receives nothing until closed.
type nullRx struct {
	once sync.Once
	done chan struct{}
}

func newNullRx() *nullRx { return &nullRx{done: make(chan struct{})} }

var errClosed = errors.New("rawscan: connection closed")

// ReadBatch blocks until Close.
func (r *nullRx) ReadBatch([][]byte, []int) (int, error) { <-r.done; return 0, errClosed }

// Drops is always zero.
func (r *nullRx) Drops() (uint64, error) { return 0, nil }

// Close wakes ReadBatch.
func (r *nullRx) Close() error { r.once.Do(func() { close(r.done) }); return nil }

// DescribeFrame returns a one-line readable summary of a probe frame built
// by a Template, as ZMap's --dryrun prints: addresses, ports, sequence
// number, IP ID, TTL, window and both checksums.
func DescribeFrame(f []byte) string {
	if len(f) < FrameLen {
		return fmt.Sprintf("short frame (%d bytes)", len(f))
	}
	be := binary.BigEndian
	return fmt.Sprintf("%v > %v  %v:%d > %v:%d  SYN seq=%d ipid=%d ttl=%d win=%d ipsum=%#04x tcpsum=%#04x len=%d",
		net.HardwareAddr(f[offEthSrc:offEthSrc+6]), net.HardwareAddr(f[offEthDst:offEthDst+6]),
		netip.AddrFrom4([4]byte(f[offIPSrc:])), be.Uint16(f[offTCPSport:]),
		netip.AddrFrom4([4]byte(f[offIPDst:])), be.Uint16(f[offTCPDport:]),
		be.Uint32(f[offTCPSeq:]), be.Uint16(f[offIPID:]), f[offIPTTL], be.Uint16(f[offTCPWin:]),
		be.Uint16(f[offIPSum:]), be.Uint16(f[offTCPSum:]), len(f))
}

// StatusLine formats one line of progress in ZMap's monitor layout from two
// snapshots taken dt apart: elapsed time, percent done and time left (when
// total, the number of targets, is known), probes sent and rate, unique
// replies and rate, kernel drops, and the hit rate (open results per
// target).
func StatusLine(prev, cur Stats, dt time.Duration, total uint64) string {
	el := time.Duration(0)
	if !cur.SendStart.IsZero() {
		end := cur.SendEnd
		if end.IsZero() {
			end = time.Now()
		}
		el = end.Sub(cur.SendStart)
	}
	secs := dt.Seconds()
	if secs <= 0 {
		secs = 1
	}
	uniq := cur.SynAck + cur.RST + cur.ICMPUnreach
	puniq := prev.SynAck + prev.RST + prev.ICMPUnreach
	done, left := "", ""
	if total > 0 {
		frac := float64(cur.Targets+cur.SkippedOptOut) / float64(total)
		done = fmt.Sprintf(" %.0f%%", 100*frac)
		if frac > 0 && frac < 1 {
			left = fmt.Sprintf(" (%s left)", fmtDur(time.Duration(float64(el)*(1-frac)/frac)))
		}
	}
	hit := 0.0
	if cur.Targets > 0 {
		hit = 100 * float64(cur.SynAck) / float64(cur.Targets)
	}
	avg := func(n uint64) float64 {
		if el <= 0 {
			return 0
		}
		return float64(n) / el.Seconds()
	}
	return fmt.Sprintf("%s%s%s; send: %d %s (%s avg); recv: %d %s (%s avg); drops: %s (%d total); hitrate: %.2f%%",
		fmtDur(el), done, left,
		cur.Sent, fmtRate(float64(cur.Sent-prev.Sent)/secs), fmtRate(avg(cur.Sent)),
		uniq, fmtRate(float64(uniq-puniq)/secs), fmtRate(avg(uniq)),
		fmtRate(float64(cur.Drops-prev.Drops)/secs), cur.Drops, hit)
}

func fmtDur(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func fmtRate(pps float64) string {
	switch {
	case pps >= 1e6:
		return fmt.Sprintf("%.2f Mp/s", pps/1e6)
	case pps >= 1e3:
		return fmt.Sprintf("%.2f Kp/s", pps/1e3)
	}
	return fmt.Sprintf("%.0f p/s", pps)
}
