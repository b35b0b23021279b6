package rawscan_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
)

// rangeTargets yields addresses first+thread, first+thread+stride, … below
// first+count, all on one port: a stand-in for the permutation iterator.
type rangeTargets struct {
	base         uint32
	next, stride uint32
	end          uint32
	port         uint16
}

func (r *rangeTargets) Next() (netip.Addr, uint16, bool) {
	if r.next >= r.end {
		return netip.Addr{}, 0, false
	}
	x := r.base + r.next
	r.next += r.stride
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}), r.port, true
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// scenario is a scan over the fake network: a /16 where every 97th address
// is open and every 89th closed.
type scenario struct {
	senders int
	rate    float64
	probes  int
	loss    float64
	count   uint32
	optOut  rawscan.OptOut
	hosts   func(netip.Addr, uint16) rawscantest.Behavior
	inject  func(n *rawscantest.Network)
	max     uint64
}

var labBase = u32(netip.MustParseAddr("198.19.0.0"))

func defaultHosts(a netip.Addr, port uint16) rawscantest.Behavior {
	i := u32(a) - labBase
	switch {
	case port != 445:
		return rawscantest.Silent
	case i%97 == 0:
		return rawscantest.Open
	case i%89 == 0:
		return rawscantest.Closed
	case i%1009 == 0:
		return rawscantest.Unreachable
	}
	return rawscantest.Silent
}

type outcome struct {
	results []rawscan.Result
	stats   rawscan.Stats
	net     *rawscantest.Network
}

func (sc scenario) run(t *testing.T) outcome {
	t.Helper()
	if sc.hosts == nil {
		sc.hosts = defaultHosts
	}
	if sc.count == 0 {
		sc.count = 1 << 16
	}
	net := rawscantest.New(&rawscantest.Config{Hosts: sc.hosts, Loss: sc.loss, Seed: 42, Record: true, Queue: 1 << 18})
	var (
		mu  sync.Mutex
		out []rawscan.Result
	)
	s, err := rawscan.New(&rawscan.Config{
		Targets: func(i int) rawscan.Targets {
			return &rangeTargets{base: labBase, next: uint32(i), stride: uint32(max(sc.senders, 1)), end: sc.count, port: 445}
		},
		Senders:      sc.senders,
		Rate:         sc.rate,
		Probes:       sc.probes,
		ProbeSpacing: 10 * time.Millisecond,
		MaxTargets:   sc.max,
		Cooldown:     200 * time.Millisecond,
		Source:       srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
		SinglePort: true,
		OptOut:     sc.optOut,
		Tx:         func(int) (rawscan.TxConn, error) { return net.Tx(), nil },
		Rx:         net,
		Results: func(r *rawscan.Result) {
			mu.Lock()
			out = append(out, *r)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if sc.inject != nil {
		sc.inject(net)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return outcome{results: out, stats: s.Stats(), net: net}
}

// truth returns the open, closed and unreachable sets of defaultHosts over
// the first count addresses.
func truth(count uint32, skip func(netip.Addr) bool) map[rawscan.Kind]map[netip.Addr]bool {
	m := map[rawscan.Kind]map[netip.Addr]bool{rawscan.KindSynAck: {}, rawscan.KindRST: {}, rawscan.KindICMPUnreach: {}}
	kinds := map[rawscantest.Behavior]rawscan.Kind{rawscantest.Open: rawscan.KindSynAck, rawscantest.Closed: rawscan.KindRST, rawscantest.Unreachable: rawscan.KindICMPUnreach}
	for i := range count {
		a := netip.AddrFrom4([4]byte{byte((labBase + i) >> 24), byte((labBase + i) >> 16), byte((labBase + i) >> 8), byte(labBase + i)})
		if skip != nil && skip(a) {
			continue
		}
		if k, ok := kinds[defaultHosts(a, 445)]; ok {
			m[k][a] = true
		}
	}
	return m
}

func found(rs []rawscan.Result) map[rawscan.Kind]map[netip.Addr]bool {
	m := map[rawscan.Kind]map[netip.Addr]bool{rawscan.KindSynAck: {}, rawscan.KindRST: {}, rawscan.KindICMPUnreach: {}}
	for _, r := range rs {
		m[r.Kind][r.Addr] = true
	}
	return m
}

func TestScanFindsExactlyTheOpenHosts(t *testing.T) {
	tests := []struct {
		name string
		sc   scenario
	}{
		{"one sender unlimited", scenario{senders: 1}},
		{"two senders unlimited", scenario{senders: 2}},
		{"two senders 200k pps", scenario{senders: 2, rate: 200_000}},
		{"two probes each", scenario{senders: 2, probes: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.sc.run(t)
			if diff := cmp.Diff(truth(1<<16, nil), found(o.results)); diff != "" {
				t.Fatalf("results by kind (-want +got):\n%s", diff)
			}
			if len(o.results) != len(found(o.results)[rawscan.KindSynAck])+len(found(o.results)[rawscan.KindRST])+len(found(o.results)[rawscan.KindICMPUnreach]) {
				t.Fatalf("%d results include duplicates", len(o.results))
			}
			probes := uint64(max(tt.sc.probes, 1))
			if o.stats.Sent != probes<<16 || o.stats.Targets != 1<<16 {
				t.Fatalf("sent %d probes to %d targets, want %d to %d", o.stats.Sent, o.stats.Targets, probes<<16, 1<<16)
			}
			if o.stats.Forged != 0 {
				t.Fatalf("%d genuine replies counted as forged", o.stats.Forged)
			}
			for _, r := range o.results {
				if r.Time.IsZero() || r.Port != 445 {
					t.Fatalf("incomplete result %+v", r)
				}
			}
		})
	}
}

func TestScanRetriesRecoverLoss(t *testing.T) {
	o := scenario{senders: 2, probes: 2, loss: 0.05}.run(t)
	want := truth(1<<16, nil)[rawscan.KindSynAck]
	got := found(o.results)[rawscan.KindSynAck]
	for a := range got {
		if !want[a] {
			t.Fatalf("false positive %v", a)
		}
	}
	// Each probe is lost with probability about 0.0975 (5% each way), so
	// both of a target's probes are lost with probability about 0.0095.
	if ratio := float64(len(got)) / float64(len(want)); ratio < 0.98 {
		t.Fatalf("found %d of %d open hosts (%.3f) with 5%% loss and 2 probes, want ≥ 0.98", len(got), len(want), ratio)
	}
}

func TestScanSpacesProbes(t *testing.T) {
	o := scenario{senders: 1, probes: 3, rate: 100_000, count: 4000}.run(t)
	// At 100 kpps with 10 ms spacing, probes to a target are 1000 apart.
	last := map[netip.Addr]int{}
	for i, p := range o.net.Probes() {
		if j, ok := last[p.Dst]; ok && i-j < 900 {
			t.Fatalf("probes to %v sent %d frames apart, want about 1000", p.Dst, i-j)
		}
		last[p.Dst] = i
	}
	if got := len(o.net.Probes()); got != 3*4000 {
		t.Fatalf("%d probes, want 12000", got)
	}
}

func TestScanRejectsForgedReplies(t *testing.T) {
	victim := netip.MustParseAddr("198.19.0.5") // silent in defaultHosts
	o := scenario{senders: 1, inject: func(n *rawscantest.Network) {
		for i := range 2000 {
			n.Inject(rawscantest.Build(&rawscantest.Segment{
				Src: victim, Dst: srcAddr, TTL: 64, SrcPort: 445,
				DstPort: rawscan.DefaultSourcePorts.First + uint16(i%int(rawscan.DefaultSourcePorts.Size())),
				Seq:     uint32(i), Ack: uint32(i * 7919), Flags: rawscantest.FlagSYN | rawscantest.FlagACK,
			}))
		}
	}}.run(t)
	for _, r := range o.results {
		if r.Addr == victim {
			t.Fatalf("forged reply accepted: %+v", r)
		}
	}
	if o.stats.Forged < 1999 {
		t.Fatalf("%d forged replies counted, want ≥ 1999 of 2000 (a guess may match by chance once in 2^32)", o.stats.Forged)
	}
}

// prefixSet is an OptOut over a few prefixes.
type prefixSet []netip.Prefix

func (s prefixSet) Contains(a netip.Addr) bool {
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func TestScanHonoursOptOut(t *testing.T) {
	opt := prefixSet{netip.MustParsePrefix("198.19.16.0/20"), netip.MustParsePrefix("198.19.200.0/24")}
	o := scenario{senders: 2, probes: 2, optOut: opt}.run(t)
	for _, p := range o.net.Probes() {
		if opt.Contains(p.Dst) {
			t.Fatalf("probe sent to opted-out %v", p.Dst)
		}
	}
	if want := uint64(4096 + 256); o.stats.SkippedOptOut != want {
		t.Fatalf("skipped %d, want %d", o.stats.SkippedOptOut, want)
	}
	if diff := cmp.Diff(truth(1<<16, opt.Contains), found(o.results)); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
}

func TestScanMaxTargets(t *testing.T) {
	o := scenario{senders: 2, max: 1001}.run(t)
	if o.stats.Targets != 1001 || o.stats.Sent != 1001 {
		t.Fatalf("%d targets, %d sent, want 1001", o.stats.Targets, o.stats.Sent)
	}
}

func TestScanFlagsSynProxy(t *testing.T) {
	proxy := netip.MustParsePrefix("198.19.7.0/24")
	o := scenario{senders: 1, count: 4096, hosts: func(a netip.Addr, p uint16) rawscantest.Behavior {
		if proxy.Contains(a) {
			return rawscantest.Open
		}
		return defaultHosts(a, p)
	}}.run(t)
	flagged := 0
	for _, r := range o.results {
		isFlagged := r.Flags&rawscan.FlagSuspectProxy != 0
		if isFlagged && !proxy.Contains(r.Addr) {
			t.Fatalf("real host %v flagged as proxy", r.Addr)
		}
		if isFlagged {
			flagged++
		}
	}
	if flagged < 256-64 {
		t.Fatalf("%d answers of the proxy /24 flagged, want ≥ %d", flagged, 256-64)
	}
	if diff := cmp.Diff([]netip.Prefix{proxy}, o.stats.SuspectNets, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("suspect networks (-want +got):\n%s", diff)
	}
}

func TestScanPacesWithinFivePercent(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("takes seconds of wall time; the race detector slows the fake network below the rate")
	}
	// Real time on a shared machine: a descheduled sender loses time the
	// pacer deliberately does not make up (debt is capped at one batch),
	// so up to three attempts are made. A pacer that is systematically
	// off fails all three; TestPacerRate checks it exactly on a fake clock.
	const rate = 50_000
	var msgs []string
	for range 3 {
		o := scenario{senders: 2, rate: rate, count: rate}.run(t)
		d := o.stats.SendEnd.Sub(o.stats.SendStart).Seconds()
		got := float64(o.stats.Sent) / d
		if math.Abs(got-rate)/rate <= 0.05 {
			return
		}
		msgs = append(msgs, fmt.Sprintf("sent %d in %.3fs = %.0f pps", o.stats.Sent, d, got))
	}
	t.Fatalf("want %d pps ±5%%, got: %v", rate, msgs)
}
