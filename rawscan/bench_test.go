package rawscan_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
)

// BenchmarkStamp is the per-probe CPU cost of the send path without I/O:
// one AES cookie and one template stamp.
func BenchmarkStamp(b *testing.B) {
	tmpl, err := rawscan.NewTemplate(&rawscan.TemplateConfig{SourceMAC: srcMAC, GatewayMAC: gwMAC, Source: srcAddr})
	if err != nil {
		b.Fatal(err)
	}
	c := rawscan.NewCookie([rawscan.KeySize]byte{1})
	frame := tmpl.Frame(make([]byte, rawscan.FrameLen))
	b.ReportAllocs()
	x := u32(netip.MustParseAddr("198.18.0.0"))
	for i := 0; b.Loop(); i++ {
		v := x + uint32(i)
		dst := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		val := c.Sum(srcAddr, dst, 445)
		tmpl.Stamp(frame, dst, 445, 61000+uint16(val.PortOffset%4536), val.Seq, val.IPID)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
}

// BenchmarkDecodeCheck is the per-reply CPU cost of the receive path:
// decode, then validate against the cookie.
func BenchmarkDecodeCheck(b *testing.B) {
	key := [rawscan.KeySize]byte{5}
	f := answer(b, probeFrame(b, rawscan.NewCookie(key), netip.MustParseAddr("198.19.4.5"), 445), rawscantest.Open)
	v := rawscan.NewValidator(rawscan.NewCookie(key), srcAddr, rawscan.DefaultSourcePorts, 1)
	var r rawscan.Reply
	var res rawscan.Result
	b.ReportAllocs()
	for b.Loop() {
		if r.Decode(f) != nil || v.Check(&r, &res) != rawscan.Valid {
			b.Fatal("reply did not validate")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}

// BenchmarkDryRun is the whole sender path (iterator, opt-out, schedule,
// cookie, stamp, batching) into a TxConn that discards frames.
func BenchmarkDryRun(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 16
	for b.Loop() {
		st, err := rawscan.DryRun(context.Background(), &rawscan.Config{
			Targets: func(i int) rawscan.Targets {
				return &rangeTargets{base: labBase, next: 0, stride: 1, end: n, port: 445}
			},
			Source: srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
		}, func(int, []byte) {})
		if err != nil || st.Sent != n {
			b.Fatalf("DryRun: %v, sent %d", err, st.Sent)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "probes/s")
}

// BenchmarkScanFake is a whole scan of a /16 over the in-memory network:
// senders, fake hosts and receiver.
func BenchmarkScanFake(b *testing.B) {
	b.ReportAllocs()
	var found uint64
	for b.Loop() {
		net := rawscantest.New(&rawscantest.Config{Hosts: defaultHosts, Queue: 1 << 18})
		s, err := rawscan.New(&rawscan.Config{
			Targets: func(i int) rawscan.Targets {
				return &rangeTargets{base: labBase, next: 0, stride: 1, end: 1 << 16, port: 445}
			},
			Cooldown: 20 * time.Millisecond, Source: srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC, SinglePort: true,
			Tx: func(int) (rawscan.TxConn, error) { return net.Tx(), nil }, Rx: net,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		found += s.Stats().SynAck
	}
	b.ReportMetric(float64(b.N<<16)/b.Elapsed().Seconds(), "probes/s")
	b.ReportMetric(float64(found)/float64(b.N), "open/scan")
}
