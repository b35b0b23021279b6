package rawscantest

import (
	"encoding/binary"
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func syn(dst netip.Addr) []byte {
	return Build(&Segment{
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2},
		Src: netip.MustParseAddr("198.18.0.1"), Dst: dst, TTL: 64,
		SrcPort: 61000, DstPort: 445, Seq: 1000, Flags: FlagSYN,
	})
}

func TestNetworkAnswers(t *testing.T) {
	dst := netip.MustParseAddr("198.19.0.7")
	tests := []struct {
		name  string
		b     Behavior
		proto byte
		flags byte // TCP flags, or ICMP type
		ack   uint32
	}{
		{"open", Open, 6, FlagSYN | FlagACK, 1001},
		{"closed", Closed, 6, FlagRST | FlagACK, 1001},
		{"unreachable", Unreachable, 1, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(&Config{Hosts: func(netip.Addr, uint16) Behavior { return tt.b }})
			defer n.Close()
			if _, err := n.WriteBatch([][]byte{syn(dst)}); err != nil {
				t.Fatal(err)
			}
			bufs, sizes := [][]byte{make([]byte, 256)}, []int{0}
			if _, err := n.ReadBatch(bufs, sizes); err != nil {
				t.Fatal(err)
			}
			f := bufs[0][:sizes[0]]
			ip := f[14:]
			got := []any{ip[9], netip.AddrFrom4([4]byte(ip[12:16]))}
			want := []any{tt.proto, dst}
			if tt.proto == 6 {
				got = append(got, ip[20+13], binary.BigEndian.Uint32(ip[20+8:]))
				want = append(want, tt.flags, tt.ack)
			} else {
				got = append(got, ip[20], netip.AddrFrom4([4]byte(ip[28+16:28+20])))
				want = append(want, tt.flags, dst)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Fatalf("answer [proto src flags ack] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetworkLoss(t *testing.T) {
	n := New(&Config{Hosts: func(netip.Addr, uint16) Behavior { return Open }, Loss: 0.1, Seed: 3, Queue: 1 << 15})
	defer n.Close()
	const probes = 20000
	f := syn(netip.MustParseAddr("198.19.0.7"))
	for range probes {
		n.WriteBatch([][]byte{f})
	}
	got := float64(len(n.replies)) / probes
	if math.Abs(got-0.9) > 0.01 {
		t.Fatalf("%.3f of probes answered with Loss 0.1, want 0.90 ±0.01", got)
	}
}
