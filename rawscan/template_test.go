package rawscan

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checksumRef is the Internet checksum of RFC 1071 computed the slow,
// obvious way: add every 16-bit word into a wide integer, fold until no
// carry is left, complement.
func checksumRef(b []byte) uint16 {
	var s uint64
	for i := 0; i < len(b); i++ {
		if i%2 == 0 {
			s += uint64(b[i]) << 8
		} else {
			s += uint64(b[i])
		}
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// tcpChecksumRef computes the TCP checksum of an IPv4 frame from scratch,
// with the checksum field zeroed, over the pseudo-header and segment.
func tcpChecksumRef(frame []byte) uint16 {
	seg := append([]byte(nil), frame[offTCP:]...)
	seg[16], seg[17] = 0, 0
	ph := make([]byte, 0, 12+len(seg))
	ph = append(ph, frame[offIPSrc:offIPSrc+8]...)
	ph = append(ph, 0, protoTCP, byte(len(seg)>>8), byte(len(seg)))
	return checksumRef(append(ph, seg...))
}

func ipChecksumRef(frame []byte) uint16 {
	h := append([]byte(nil), frame[offIP:offTCP]...)
	h[10], h[11] = 0, 0
	return checksumRef(h)
}

func testTemplate(t testing.TB, src string) *Template {
	t.Helper()
	tmpl, err := NewTemplate(&TemplateConfig{
		SourceMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		GatewayMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		Source:     netip.MustParseAddr(src),
	})
	if err != nil {
		t.Fatalf("NewTemplate: %v", err)
	}
	return tmpl
}

func TestStampChecksumsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var s [4]byte
		binary.BigEndian.PutUint32(s[:], rng.Uint32())
		tmpl := testTemplate(t, netip.AddrFrom4(s).String())
		frame := tmpl.Frame(make([]byte, FrameLen))
		// Stamp the same buffer several times, as a batch slot is reused.
		for range 4 {
			var d [4]byte
			binary.BigEndian.PutUint32(d[:], rng.Uint32())
			dport, sport := uint16(rng.Uint32()), uint16(rng.Uint32())
			seq, ipid := rng.Uint32(), uint16(rng.Uint32())
			tmpl.Stamp(frame, netip.AddrFrom4(d), dport, sport, seq, ipid)

			got := [2]uint16{binary.BigEndian.Uint16(frame[offIPSum:]), binary.BigEndian.Uint16(frame[offTCPSum:])}
			want := [2]uint16{ipChecksumRef(frame), tcpChecksumRef(frame)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("case %d: checksums [ip tcp] (-want +got):\n%s", i, diff)
			}
			if [4]byte(frame[offIPDst:]) != d || binary.BigEndian.Uint32(frame[offTCPSeq:]) != seq ||
				binary.BigEndian.Uint16(frame[offTCPSport:]) != sport || binary.BigEndian.Uint16(frame[offTCPDport:]) != dport ||
				binary.BigEndian.Uint16(frame[offIPID:]) != ipid {
				t.Fatalf("case %d: stamped fields not where expected: % x", i, frame)
			}
		}
	}
}

func TestStampDoesNotAllocate(t *testing.T) {
	tmpl := testTemplate(t, "198.18.0.1")
	c := NewCookie([KeySize]byte{1})
	src, dst := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.19.1.2")
	frame := tmpl.Frame(make([]byte, FrameLen))
	allocs := testing.AllocsPerRun(1000, func() {
		v := c.Sum(src, dst, 445)
		tmpl.Stamp(frame, dst, 445, sourcePort(DefaultSourcePorts, v, 0), v.Seq, v.IPID)
	})
	if allocs != 0 {
		t.Fatalf("cookie+stamp allocates %v times per probe, want 0", allocs)
	}
}

func TestNewTemplateErrors(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		name string
		cfg  *TemplateConfig
	}{
		{"nil config", nil},
		{"short MAC", &TemplateConfig{SourceMAC: mac[:5], GatewayMAC: mac, Source: netip.MustParseAddr("198.18.0.1")}},
		{"IPv6 source", &TemplateConfig{SourceMAC: mac, GatewayMAC: mac, Source: netip.MustParseAddr("2001:db8::1")}},
		{"zero source", &TemplateConfig{SourceMAC: mac, GatewayMAC: mac}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewTemplate(tt.cfg); err == nil {
				t.Fatal("NewTemplate succeeded, want an error")
			}
		})
	}
}

func TestPortMatchesAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		a := uint16(1 + rng.IntN(65535))
		b := a + uint16(rng.IntN(int(65535-a)+1))
		r := PortRange{First: a, Last: b}
		v := Validation{PortOffset: rng.Uint32()}
		probes := uint32(1 + rng.IntN(4))
		p := r.First + uint16(rng.IntN(int(r.Size())))
		want := false
		for k := range probes {
			if sourcePort(r, v, k) == p {
				want = true
			}
		}
		if got := portMatches(r, v, probes, p); got != want {
			t.Fatalf("portMatches(%v, %d, %d, %d) = %v, want %v", r, v.PortOffset, probes, p, got, want)
		}
	}
}
