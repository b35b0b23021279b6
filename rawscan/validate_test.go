package rawscan_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
)

var (
	srcAddr = netip.MustParseAddr("198.18.0.1")
	srcMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	gwMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

// probeFrame stamps the SYN the scanner would send to dst:dport.
func probeFrame(t testing.TB, c *rawscan.Cookie, dst netip.Addr, dport uint16) []byte {
	t.Helper()
	tmpl, err := rawscan.NewTemplate(&rawscan.TemplateConfig{SourceMAC: srcMAC, GatewayMAC: gwMAC, Source: srcAddr})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Sum(srcAddr, dst, dport)
	f := tmpl.Frame(make([]byte, rawscan.FrameLen))
	sport := rawscan.DefaultSourcePorts.First + uint16(v.PortOffset%rawscan.DefaultSourcePorts.Size())
	tmpl.Stamp(f, dst, dport, sport, v.Seq, v.IPID)
	return f
}

// answer runs one probe through a fake network whose only host behaves as b
// and returns the answer frame.
func answer(t testing.TB, probe []byte, b rawscantest.Behavior) []byte {
	t.Helper()
	n := rawscantest.New(&rawscantest.Config{Hosts: func(netip.Addr, uint16) rawscantest.Behavior { return b }})
	defer n.Close()
	if _, err := n.WriteBatch([][]byte{probe}); err != nil {
		t.Fatal(err)
	}
	bufs, sizes := [][]byte{make([]byte, 2048)}, []int{0}
	if _, err := n.ReadBatch(bufs, sizes); err != nil {
		t.Fatal(err)
	}
	return bufs[0][:sizes[0]]
}

func TestValidatorRoundTrip(t *testing.T) {
	key := [rawscan.KeySize]byte{7, 7, 7}
	dst := netip.MustParseAddr("198.19.4.5")
	tests := []struct {
		name string
		b    rawscantest.Behavior
		want rawscan.Result
	}{
		{"open", rawscantest.Open, rawscan.Result{Addr: dst, Port: 445, Kind: rawscan.KindSynAck, TTL: 64, Window: 29200, MSS: 1460}},
		{"closed", rawscantest.Closed, rawscan.Result{Addr: dst, Port: 445, Kind: rawscan.KindRST, TTL: 64}},
		{"unreachable", rawscantest.Unreachable, rawscan.Result{Addr: dst, Port: 445, Kind: rawscan.KindICMPUnreach, TTL: 64, ICMPType: 3, ICMPCode: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawscan.NewCookie(key)
			f := answer(t, probeFrame(t, c, dst, 445), tt.b)
			var r rawscan.Reply
			if err := r.Decode(f); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			v := rawscan.NewValidator(rawscan.NewCookie(key), srcAddr, rawscan.DefaultSourcePorts, 1)
			var got rawscan.Result
			if verdict := v.Check(&r, &got); verdict != rawscan.Valid {
				t.Fatalf("verdict %d, want Valid", verdict)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatorRejectsForgeries(t *testing.T) {
	key := [rawscan.KeySize]byte{9}
	c := rawscan.NewCookie(key)
	dst := netip.MustParseAddr("198.19.4.5")
	v0 := c.Sum(srcAddr, dst, 445)
	sport := rawscan.DefaultSourcePorts.First + uint16(v0.PortOffset%rawscan.DefaultSourcePorts.Size())
	base := rawscantest.Segment{
		Src: dst, Dst: srcAddr, TTL: 64, SrcPort: 445, DstPort: sport,
		Seq: 1, Ack: v0.Seq + 1, Flags: rawscantest.FlagSYN | rawscantest.FlagACK, Window: 1024,
	}
	tests := []struct {
		name string
		mod  func(s *rawscantest.Segment)
		want rawscan.Verdict
	}{
		{"genuine", func(*rawscantest.Segment) {}, rawscan.Valid},
		{"ack off by one", func(s *rawscantest.Segment) { s.Ack++ }, rawscan.Forged},
		{"ack equals seq", func(s *rawscantest.Segment) { s.Ack-- }, rawscan.Forged},
		{"wrong source port in range", func(s *rawscantest.Segment) {
			s.DstPort = rawscan.DefaultSourcePorts.First + uint16((v0.PortOffset+7)%rawscan.DefaultSourcePorts.Size())
		}, rawscan.Forged},
		{"other host", func(s *rawscantest.Segment) { s.Src = netip.MustParseAddr("198.19.4.6") }, rawscan.Forged},
		{"other service port", func(s *rawscantest.Segment) { s.SrcPort = 139 }, rawscan.Forged},
		{"random ack", func(s *rawscantest.Segment) { s.Ack = 0xdeadbeef }, rawscan.Forged},
		{"bare ACK", func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagACK }, rawscan.Forged},
		{"SYN without ACK", func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagSYN }, rawscan.Forged},
		{"RST ack seq+2", func(s *rawscantest.Segment) { s.Flags, s.Ack = rawscantest.FlagRST, v0.Seq+2 }, rawscan.Forged},
		{"RST ack seq", func(s *rawscantest.Segment) { s.Flags, s.Ack = rawscantest.FlagRST, v0.Seq }, rawscan.Valid},
		{"not to us", func(s *rawscantest.Segment) { s.Dst = netip.MustParseAddr("198.18.0.2") }, rawscan.Stray},
		{"port below range", func(s *rawscantest.Segment) { s.DstPort = 40000 }, rawscan.Stray},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mod(&s)
			var r rawscan.Reply
			if err := r.Decode(rawscantest.Build(&s)); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var res rawscan.Result
			got := rawscan.NewValidator(rawscan.NewCookie(key), srcAddr, rawscan.DefaultSourcePorts, 1).Check(&r, &res)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatorRejectsWrongKey(t *testing.T) {
	dst := netip.MustParseAddr("198.19.4.5")
	f := answer(t, probeFrame(t, rawscan.NewCookie([rawscan.KeySize]byte{1}), dst, 445), rawscantest.Open)
	var r rawscan.Reply
	if err := r.Decode(f); err != nil {
		t.Fatal(err)
	}
	var res rawscan.Result
	if got := rawscan.NewValidator(rawscan.NewCookie([rawscan.KeySize]byte{2}), srcAddr, rawscan.DefaultSourcePorts, 1).Check(&r, &res); got != rawscan.Forged {
		t.Fatalf("reply to another scan's key: verdict %d, want Forged", got)
	}
}

func TestDecodeAndCheckDoNotAllocate(t *testing.T) {
	key := [rawscan.KeySize]byte{5}
	dst := netip.MustParseAddr("198.19.4.5")
	f := answer(t, probeFrame(t, rawscan.NewCookie(key), dst, 445), rawscantest.Open)
	v := rawscan.NewValidator(rawscan.NewCookie(key), srcAddr, rawscan.DefaultSourcePorts, 1)
	var r rawscan.Reply
	var res rawscan.Result
	allocs := testing.AllocsPerRun(1000, func() {
		if r.Decode(f) != nil || v.Check(&r, &res) != rawscan.Valid {
			panic("reply did not validate")
		}
	})
	if allocs != 0 {
		t.Fatalf("Decode+Check allocates %v times per reply, want 0", allocs)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := rawscantest.Build(&rawscantest.Segment{Src: srcAddr, Dst: srcAddr, SrcPort: 1, DstPort: 2, Flags: rawscantest.FlagRST})
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, rawscan.ErrShortFrame},
		{"truncated IP", good[:30], rawscan.ErrShortFrame},
		{"ARP", mod(func(b []byte) []byte { b[12], b[13] = 0x08, 0x06; return b }), rawscan.ErrNotIPv4},
		{"IPv6 version", mod(func(b []byte) []byte { b[14] = 0x65; return b }), rawscan.ErrNotIPv4},
		{"IHL too small", mod(func(b []byte) []byte { b[14] = 0x44; return b }), rawscan.ErrBadIPHeader},
		{"total length beyond frame", mod(func(b []byte) []byte { b[16] = 0xff; return b }), rawscan.ErrBadIPHeader},
		{"fragment", mod(func(b []byte) []byte { b[20] = 0x20; return b }), rawscan.ErrFragment},
		{"UDP", mod(func(b []byte) []byte { b[23] = 17; return b }), rawscan.ErrNotReply},
		{"TCP data offset beyond segment", mod(func(b []byte) []byte { b[46] = 0xf0; return b }), rawscan.ErrShortFrame},
		{"truncated TCP", mod(func(b []byte) []byte { b[17] = 30; return b[:44] }), rawscan.ErrShortFrame},
		{"ok", good, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r rawscan.Reply
			if diff := cmp.Diff(tt.want, r.Decode(tt.frame), cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Decode error (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	key := [rawscan.KeySize]byte{5}
	c := rawscan.NewCookie(key)
	dst := netip.MustParseAddr("198.19.4.5")
	for _, b := range []rawscantest.Behavior{rawscantest.Open, rawscantest.Closed, rawscantest.Unreachable} {
		f.Add(answer(f, probeFrame(f, c, dst, 445), b))
	}
	f.Add(probeFrame(f, c, dst, 445))
	v := rawscan.NewValidator(rawscan.NewCookie(key), srcAddr, rawscan.DefaultSourcePorts, 2)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var r rawscan.Reply
		if err := r.Decode(frame); err != nil {
			return
		}
		var res rawscan.Result
		if v.Check(&r, &res) == rawscan.Valid {
			// A valid verdict must name the target the cookie was
			// computed for.
			if res.Addr != r.Src && res.Addr != r.InnerDst {
				t.Fatalf("valid result for %v from reply %+v", res.Addr, r)
			}
		}
		// Decoding is a pure function of the frame.
		var r2 rawscan.Reply
		if err := r2.Decode(frame); err != nil || r2 != r {
			t.Fatalf("second decode differs: %v\n%+v\n%+v", err, r, r2)
		}
	})
}
