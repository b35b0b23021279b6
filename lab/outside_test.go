package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func ipv4Frame(dst string) []byte {
	b := make([]byte, 14+20)
	b[12], b[13] = 0x08, 0x00
	b[14] = 0x45
	a := netip.MustParseAddr(dst).As4()
	copy(b[30:], a[:])
	return b
}

func TestOutside(t *testing.T) {
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	frames := [][]byte{ipv4Frame("198.18.0.1"), ipv4Frame("8.8.8.8"), arp, ipv4Frame("198.19.255.255"), ipv4Frame("8.8.8.8"), ipv4Frame("1.1.1.1"), {1, 2, 3}}
	p := filepath.Join(t.TempDir(), "x.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(fr), Length: len(fr)}, fr); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	got, n, other, err := Outside(p, []netip.Prefix{Benchmarking})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("8.8.8.8")}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Outside (-want +got):\n%s", diff)
	}
	if n != len(frames) || other != 2 {
		t.Errorf("frames %d other %d, want %d and 2", n, other, len(frames))
	}
}

// FuzzFrameDst checks that frameDst never panics and agrees with gopacket's
// decoder on the IPv4 destination.
func FuzzFrameDst(f *testing.F) {
	f.Add(ipv4Frame("198.18.0.1"))
	f.Add([]byte{})
	f.Add(append(make([]byte, 12), 0x81, 0x00, 0, 1, 0x08, 0x00))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := frameDst(b)
		if !ok || !a.Is4() || len(b) < 34 || b[12] != 0x08 || b[13] != 0x00 {
			return
		}
		pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.NoCopy)
		if ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ip != nil && len(ip.DstIP) == 4 {
			if want := netip.AddrFrom4([4]byte(ip.DstIP)); want != a {
				t.Errorf("frameDst = %v, gopacket says %v", a, want)
			}
		}
	})
}
