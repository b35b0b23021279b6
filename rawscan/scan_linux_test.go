//go:build linux

package rawscan_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
	"golang.org/x/sys/unix"
)

// labScanOpts is one scan of a lab.
type labScanOpts struct {
	senders int
	rate    float64
	probes  int
	ring    bool // PACKET_TX_RING sender
	rxRing  bool // TPACKET_V3 receiver
	bypass  bool
	optOut  prefixSet
	during  func() // run concurrently with the scan
}

type labOutcome struct {
	found map[rawscan.Kind]map[netip.Addr]bool
	stats rawscan.Stats
	dur   time.Duration
}

// prefixTargets walks a prefix, thread i taking every senders-th address.
func prefixTargets(p netip.Prefix, i, senders int) rawscan.Targets {
	return &rangeTargets{base: u32(p.Addr()), next: uint32(i), stride: uint32(senders), end: 1 << (32 - p.Bits()), port: 445}
}

// labScan scans the lab's whole range on port 445. Every socket is opened
// by lab.Do on a thread inside the lab's scanner namespace.
func labScan(t *testing.T, l *lab.Lab, o labScanOpts) labOutcome {
	t.Helper()
	return labScanResults(t, l, o, nil)
}

// labScanResults is labScan that also appends every result to *all when
// all is not nil.
func labScanResults(t *testing.T, l *lab.Lab, o labScanOpts, all *[]rawscan.Result) labOutcome {
	t.Helper()
	st := l.Status()
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	srcMAC, err1 := net.ParseMAC(st.SourceMAC)
	gwMAC, err2 := net.ParseMAC(st.GatewayMAC)
	if err1 != nil || err2 != nil {
		t.Fatalf("lab MACs %q %q: %v %v", st.SourceMAC, st.GatewayMAC, err1, err2)
	}
	o.senders = max(o.senders, 1)
	afc := &rawscan.AFPacketConfig{Interface: st.Interface, QdiscBypass: o.bypass}
	var (
		txs []rawscan.TxConn
		rx  rawscan.RxConn
	)
	err = l.Do(func() error {
		var err error
		openRx := rawscan.OpenRx
		if o.rxRing {
			openRx = rawscan.OpenRxRing
		}
		if rx, err = openRx(afc, rawscan.ReplyFilter(st.SourceIP, rawscan.DefaultSourcePorts)); err != nil {
			return err
		}
		for range o.senders {
			open := rawscan.OpenTx
			if o.ring {
				open = rawscan.OpenTxRing
			}
			tx, err := open(afc)
			if err != nil {
				return err
			}
			txs = append(txs, tx)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("opening sockets in the lab: %v", err)
	}
	var (
		mu  sync.Mutex
		res []rawscan.Result
	)
	s, err := rawscan.New(&rawscan.Config{
		Targets:  func(i int) rawscan.Targets { return prefixTargets(gt.Range, i, o.senders) },
		Senders:  o.senders,
		Rate:     o.rate,
		Probes:   o.probes,
		Cooldown: 3 * time.Second,
		Source:   st.SourceIP, SourceMAC: srcMAC, GatewayMAC: gwMAC,
		SinglePort: true,
		OptOut:     o.optOut,
		Tx:         func(i int) (rawscan.TxConn, error) { return txs[i], nil },
		Rx:         rx,
		Results: func(r *rawscan.Result) {
			mu.Lock()
			res = append(res, *r)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	if o.during != nil {
		wg.Go(o.during)
	}
	start := time.Now()
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	stats := s.Stats()
	if all != nil {
		*all = res
	}
	return labOutcome{found: found(res), stats: stats, dur: stats.SendEnd.Sub(start)}
}

// labTruth returns the lab's open and closed sets on 445, minus opted-out
// addresses.
func labTruth(t *testing.T, l *lab.Lab, skip prefixSet) map[rawscan.Kind]map[netip.Addr]bool {
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	m := map[rawscan.Kind]map[netip.Addr]bool{rawscan.KindSynAck: {}, rawscan.KindRST: {}, rawscan.KindICMPUnreach: {}}
	for k, as := range map[rawscan.Kind][]netip.Addr{rawscan.KindSynAck: gt.Open[445], rawscan.KindRST: gt.Closed[445]} {
		for _, a := range as {
			if !skip.Contains(a) {
				m[k][a] = true
			}
		}
	}
	return m
}

func TestIntegrationScanFindsLabHosts(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 4})
	want := labTruth(t, l, nil)
	if len(want[rawscan.KindSynAck]) < 300 {
		t.Fatalf("lab has only %d open hosts; expected about 1%% of a /16", len(want[rawscan.KindSynAck]))
	}
	tests := []struct {
		name string
		o    labScanOpts
	}{
		{"sendmmsg 100kpps", labScanOpts{rate: 100_000}},
		{"sendmmsg max rate 2 senders", labScanOpts{senders: 2}},
		{"sendmmsg bypass max rate", labScanOpts{bypass: true}},
		{"tx ring bypass max rate", labScanOpts{ring: true, bypass: true}},
		{"tx ring + TPACKET_V3 rx ring, 2 senders, 2 probes", labScanOpts{ring: true, bypass: true, rxRing: true, senders: 2, probes: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labScan(t, l, tt.o)
			t.Logf("sent %d in %v (%.0f pps), %+v", got.stats.Sent, got.dur, float64(got.stats.Sent)/got.dur.Seconds(), got.stats)
			if diff := cmp.Diff(want, got.found); diff != "" {
				t.Fatalf("results by kind (-want +got):\n%s", diff)
			}
		})
	}
}

// dropRandomly makes the lab's internet namespace drop frac of the
// segments to and from port 445 in each direction, with nftables' numgen
// (the kernel here has no sch_netem, so the lab's Loss option cannot be
// used). The rules go away with the lab's namespace.
func dropRandomly(t *testing.T, l *lab.Lab, percent int) {
	t.Helper()
	rules := fmt.Sprintf(`table inet rawscan_loss {
	chain pre { type filter hook prerouting priority -300; tcp dport 445 numgen random mod 100 < %d drop; }
	chain out { type filter hook output priority -300; tcp sport 445 numgen random mod 100 < %d drop; }
}
`, percent, percent)
	cmd := exec.Command("ip", "netns", "exec", l.Status().Namespaces[1], "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
}

func TestIntegrationScanRecoversLoss(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 5})
	dropRandomly(t, l, 5)
	want := labTruth(t, l, nil)[rawscan.KindSynAck]
	// One probe first, to show the loss is in effect.
	one := labScan(t, l, labScanOpts{rate: 100_000}).found[rawscan.KindSynAck]
	if len(one) >= len(want) {
		t.Fatalf("with 5%% loss and one probe, found all %d open hosts: is the loss applied?", len(want))
	}
	got := labScan(t, l, labScanOpts{rate: 100_000, probes: 2}).found[rawscan.KindSynAck]
	t.Logf("5%% loss: -P 1 found %d, -P 2 found %d of %d open hosts", len(one), len(got), len(want))
	for a := range got {
		if !want[a] {
			t.Fatalf("false positive %v", a)
		}
	}
	if r := float64(len(got)) / float64(len(want)); r < 0.99 {
		t.Fatalf("found %d of %d open hosts (%.4f) with 5%% loss and -P 2, want ≥ 0.99", len(got), len(want), r)
	}
}

// inNamespace runs fn on a locked thread moved into the named namespace;
// the thread is discarded afterwards, never reused by other goroutines.
func inNamespace(name string, fn func() error) error {
	f, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return err
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func TestIntegrationForgedRepliesAndEgress(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 6})
	st := l.Status()
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	opt := append(prefixSet{netip.MustParsePrefix("198.18.77.0/24")}, gt.Reserved...)
	want := labTruth(t, l, opt)

	// Forged SYN-ACKs and RSTs from filtered addresses, sent into the
	// scanner namespace from the lab's internet side of the link.
	var forged []netip.Addr
	for a := gt.Range.Addr().Next(); len(forged) < 2000 && gt.Range.Contains(a); a = a.Next() {
		if gt.State(netip.AddrPortFrom(a, 445)) == lab.StateFiltered && !opt.Contains(a) {
			forged = append(forged, a)
		}
	}
	gwMAC, _ := net.ParseMAC(st.GatewayMAC)
	srcMAC, _ := net.ParseMAC(st.SourceMAC)
	injected := 0
	inject := func() {
		time.Sleep(200 * time.Millisecond)
		err := inNamespace(st.Namespaces[1], func() error {
			ifs, err := net.Interfaces()
			if err != nil {
				return err
			}
			var idx int
			for _, i := range ifs {
				if i.HardwareAddr.String() == gwMAC.String() {
					idx = i.Index
				}
			}
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			sa := &unix.SockaddrLinklayer{Ifindex: idx, Halen: 6}
			copy(sa.Addr[:], srcMAC)
			for i, a := range forged {
				flags := uint8(rawscantest.FlagSYN | rawscantest.FlagACK)
				if i%2 == 1 {
					flags = rawscantest.FlagRST | rawscantest.FlagACK
				}
				f := rawscantest.Build(&rawscantest.Segment{
					SrcMAC: [6]byte(gwMAC), DstMAC: [6]byte(srcMAC),
					Src: a, Dst: st.SourceIP, TTL: 60, SrcPort: 445,
					DstPort: rawscan.DefaultSourcePorts.First + uint16(i%int(rawscan.DefaultSourcePorts.Size())),
					Seq:     uint32(i), Ack: uint32(i)*2654435761 + 1, Flags: flags, Window: 1024,
				})
				if err := unix.Sendto(fd, f, 0, sa); err != nil {
					return err
				}
				injected++
			}
			return nil
		})
		if err != nil {
			t.Errorf("injecting forged replies: %v", err)
		}
	}

	capPath := filepath.Join(t.TempDir(), "egress.pcap")
	c, err := l.Capture(capPath)
	if err != nil {
		t.Fatal(err)
	}
	got := labScan(t, l, labScanOpts{rate: 20_000, optOut: opt, during: inject})
	if _, err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.found); diff != "" {
		t.Fatalf("results by kind (-want +got):\n%s", diff)
	}
	if injected != len(forged) || got.stats.Forged < uint64(injected)-1 {
		t.Fatalf("injected %d of %d forged replies; %d counted forged", injected, len(forged), got.stats.Forged)
	}

	// Every frame that left the scanner namespace went to an in-scope,
	// not opted-out address; and the SYNs are all there.
	syns := 0
	err = lab.ReadCapture(capPath, func(data []byte, _ gopacket.CaptureInfo) error {
		p, ok := rawscantest.ParseProbe(data)
		if !ok {
			return nil // ARP, or the kernel's ICMP
		}
		if !gt.Range.Contains(p.Dst) || opt.Contains(p.Dst) {
			return fmt.Errorf("frame to out-of-scope or opted-out %v (flags %#x)", p.Dst, p.Flags)
		}
		if p.Flags == rawscantest.FlagSYN {
			syns++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The capture socket may drop a few frames on a loaded machine; it
	// must still have seen nearly all, or the check above proves little.
	t.Logf("capture holds %d SYNs of %d sent", syns, got.stats.Sent)
	if float64(syns) < 0.95*float64(got.stats.Sent) {
		t.Fatalf("capture holds %d SYNs, scanner sent %d: capture incomplete", syns, got.stats.Sent)
	}
	if got.stats.SkippedOptOut == 0 {
		t.Fatal("no target skipped by the opt-out set")
	}
}

// BenchmarkIntegrationSink sends b.N probes at unlimited rate to the lab's
// sink (sink1: a veth whose far end drops everything at ingress) with each
// back end, and reports the rate the interface counter saw. Root only.
func BenchmarkIntegrationSink(b *testing.B) {
	l := labtest.New(b, &lab.Config{Sink: true, Open: -1, Closed: -1})
	for _, bc := range []struct {
		name    string
		ring    bool
		senders int
	}{
		{"sendmmsg-bypass-T1", false, 1}, {"ring-bypass-T1", true, 1},
		{"sendmmsg-bypass-T2", false, 2}, {"ring-bypass-T2", true, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			afc := &rawscan.AFPacketConfig{Interface: "sink1", QdiscBypass: true}
			var (
				txs []rawscan.TxConn
				rx  rawscan.RxConn
			)
			src := netip.MustParseAddr("192.0.2.66")
			if err := l.Do(func() (err error) {
				if rx, err = rawscan.OpenRx(afc, rawscan.ReplyFilter(src, rawscan.DefaultSourcePorts)); err != nil {
					return err
				}
				for range bc.senders {
					open := rawscan.OpenTx
					if bc.ring {
						open = rawscan.OpenTxRing
					}
					tx, err := open(afc)
					if err != nil {
						return err
					}
					txs = append(txs, tx)
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			before, err := l.Counters()
			if err != nil {
				b.Fatal(err)
			}
			per := uint32(b.N/bc.senders + 1)
			s, err := rawscan.New(&rawscan.Config{
				Targets: func(i int) rawscan.Targets {
					return &rangeTargets{base: u32(netip.MustParseAddr("198.18.0.0")), next: uint32(i), stride: uint32(bc.senders), end: per * uint32(bc.senders), port: 445}
				},
				Senders: bc.senders, Cooldown: -1, Source: src,
				SourceMAC: net.HardwareAddr{2, 0, 0, 0xaa, 0, 1}, GatewayMAC: net.HardwareAddr{2, 0, 0, 0xaa, 0, 0xfe},
				Tx: func(i int) (rawscan.TxConn, error) { return txs[i], nil }, Rx: rx,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := s.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			st := s.Stats()
			after, err := l.Counters()
			if err != nil {
				b.Fatal(err)
			}
			wire := after["sink1"].TxPackets - before["sink1"].TxPackets
			d := st.SendEnd.Sub(st.SendStart).Seconds()
			b.ReportMetric(float64(wire)/d, "wire-pps")
			b.ReportMetric(float64(st.Sent-wire), "lost")
		})
	}
}

func TestIntegrationFlagsLabSynProxy(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 8, Hostile: true})
	var proxy netip.Prefix
	for _, h := range l.Status().Hostile {
		if h.Prefix.IsValid() && h.Prefix.Bits() == 24 {
			proxy = h.Prefix
		}
	}
	if !proxy.IsValid() {
		t.Fatalf("lab status lists no SYN-proxy /24: %+v", l.Status().Hostile)
	}
	var res []rawscan.Result
	o := labScanOpts{rate: 100_000}
	got := labScanResults(t, l, o, &res)
	flagged := 0
	for _, r := range res {
		f := r.Flags&rawscan.FlagSuspectProxy != 0
		if f && !proxy.Contains(r.Addr) {
			t.Fatalf("%v outside the SYN-proxy range flagged", r.Addr)
		}
		if f {
			flagged++
		}
	}
	if flagged < 256-64-2 {
		t.Fatalf("%d answers from the SYN-proxy /24 flagged, want ≥ %d", flagged, 256-64-2)
	}
	if diff := cmp.Diff([]netip.Prefix{proxy}, got.stats.SuspectNets, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("suspect networks (-want +got):\n%s", diff)
	}
}
