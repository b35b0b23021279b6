package rawscan_test

import (
	"net/netip"
	"testing"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
	"golang.org/x/net/bpf"
)

func TestFilter(t *testing.T) {
	raw, err := rawscan.Filter(srcAddr, rawscan.PortRange{First: 61000, Last: 62000})
	if err != nil {
		t.Fatalf("Filter: %v", err)
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("Disassemble: program does not round-trip")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	target := netip.MustParseAddr("198.19.0.9")
	seg := func(mod func(s *rawscantest.Segment)) []byte {
		s := rawscantest.Segment{Src: target, Dst: srcAddr, TTL: 64, SrcPort: 445, DstPort: 61500, Flags: rawscantest.FlagSYN | rawscantest.FlagACK, MSS: 1460}
		mod(&s)
		return rawscantest.Build(&s)
	}
	quoted := rawscantest.Build(&rawscantest.Segment{Src: srcAddr, Dst: target, SrcPort: 61500, DstPort: 445, Flags: rawscantest.FlagSYN})[14:42]
	tests := []struct {
		name   string
		frame  []byte
		accept bool
	}{
		{"SYN-ACK", seg(func(*rawscantest.Segment) {}), true},
		{"RST", seg(func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagRST }), true},
		{"RST-ACK", seg(func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagRST | rawscantest.FlagACK }), true},
		{"lowest port", seg(func(s *rawscantest.Segment) { s.DstPort = 61000 }), true},
		{"highest port", seg(func(s *rawscantest.Segment) { s.DstPort = 62000 }), true},
		{"ICMP unreachable", seg(func(s *rawscantest.Segment) { s.ICMP, s.ICMPType, s.ICMPCode = quoted, 3, 1 }), true},
		{"ACK only", seg(func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagACK }), false},
		{"SYN only", seg(func(s *rawscantest.Segment) { s.Flags = rawscantest.FlagSYN }), false},
		{"port below range", seg(func(s *rawscantest.Segment) { s.DstPort = 60999 }), false},
		{"port above range", seg(func(s *rawscantest.Segment) { s.DstPort = 62001 }), false},
		{"other destination", seg(func(s *rawscantest.Segment) { s.Dst = netip.MustParseAddr("198.18.0.2") }), false},
		{"ICMP echo reply", seg(func(s *rawscantest.Segment) { s.ICMP, s.ICMPType = quoted, 0 }), false},
		{"fragment", func() []byte { f := seg(func(*rawscantest.Segment) {}); f[20] = 0x20; return f }(), false},
		{"UDP", func() []byte { f := seg(func(*rawscantest.Segment) {}); f[23] = 17; return f }(), false},
		{"ARP", func() []byte { f := seg(func(*rawscantest.Segment) {}); f[12], f[13] = 8, 6; return f }(), false},
		{"IP options shift TCP", func() []byte {
			// Same SYN-ACK with a 4-byte IPv4 option (NOPs): the
			// filter must follow IHL.
			f := seg(func(*rawscantest.Segment) {})
			g := append(append(append([]byte(nil), f[:34]...), 1, 1, 1, 1), f[34:]...)
			g[14] = 0x46
			return g
		}(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := vm.Run(tt.frame)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := n > 0; got != tt.accept {
				t.Fatalf("accepted = %v (snap %d), want %v", got, n, tt.accept)
			}
		})
	}
}
