package rawscan

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// arpReplyFrame answers req as the host that owns its target address.
func arpReplyFrame(req []byte, mac net.HardwareAddr) []byte {
	f := append([]byte(nil), req...)
	copy(f[0:6], req[6:12])
	copy(f[6:12], mac)
	a := f[ethLen:]
	binary.BigEndian.PutUint16(a[6:], arpReply)
	copy(a[8:14], mac)
	copy(a[14:18], req[ethLen+24:ethLen+28])
	copy(a[18:24], req[ethLen+8:ethLen+14])
	copy(a[24:28], req[ethLen+14:ethLen+18])
	return f
}

func TestARPRoundTrip(t *testing.T) {
	src, gw := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	me, them := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 9}
	req := arpRequestFrame(me, src, gw)
	if _, _, err := parseARPReply(req); err == nil {
		t.Fatal("a request parsed as a reply")
	}
	ip, mac, err := parseARPReply(arpReplyFrame(req, them))
	if err != nil {
		t.Fatalf("parseARPReply: %v", err)
	}
	if diff := cmp.Diff([]string{gw.String(), them.String()}, []string{ip.String(), mac.String()}); diff != "" {
		t.Fatalf("reply sender (-want +got):\n%s", diff)
	}
}

func FuzzParseARPReply(f *testing.F) {
	req := arpRequestFrame(net.HardwareAddr{2, 0, 0, 0, 0, 1}, netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1"))
	f.Add(req)
	f.Add(arpReplyFrame(req, net.HardwareAddr{2, 0, 0, 0, 0, 9}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, mac, err := parseARPReply(b)
		if err == nil && (!ip.Is4() || len(mac) != 6) {
			t.Fatalf("accepted reply with sender %v %v", ip, mac)
		}
	})
}
