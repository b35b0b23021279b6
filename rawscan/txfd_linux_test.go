//go:build linux

package rawscan_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan"
	"golang.org/x/sys/unix"
)

// TestIntegrationOpenTxNetNS opens both senders from the test's own
// (unlocked, root-namespace) goroutine with AFPacketConfig.NetNS naming the
// lab's scanner namespace: the sockets must land in that namespace (the
// frames show on the lab's sink1 counter) and the calling thread's
// namespace must be unchanged.
func TestIntegrationOpenTxNetNS(t *testing.T) {
	l := labtest.New(t, &lab.Config{Sink: true, Open: -1, Closed: -1})
	ns, err := os.Open(filepath.Join("/run/netns", l.Status().ScannerNamespace))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	self := func() uint64 {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	home := self()
	tmpl, err := rawscan.NewTemplate(&rawscan.TemplateConfig{SourceMAC: srcMAC, GatewayMAC: gwMAC, Source: srcAddr})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = tmpl.Frame(make([]byte, rawscan.FrameLen))
		tmpl.Stamp(frames[i], netip.AddrFrom4([4]byte{198, 18, 7, byte(i)}), 445, 61000, uint32(i), uint16(i))
	}
	for _, tc := range []struct {
		name string
		open func(*rawscan.AFPacketConfig) (rawscan.TxConn, error)
	}{{"sendmmsg", rawscan.OpenTx}, {"ring", rawscan.OpenTxRing}} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := tc.open(&rawscan.AFPacketConfig{Interface: "sink1", NetNS: int(ns.Fd())})
			if err != nil {
				t.Fatalf("opening in the lab namespace: %v", err)
			}
			defer tx.Close()
			if got := self(); got != home {
				t.Fatalf("process namespace changed: inode %d, want %d", got, home)
			}
			before, err := l.Counters()
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < n; {
				m, err := tx.WriteBatch(frames[off:])
				if err != nil {
					t.Fatal(err)
				}
				off += m
			}
			if err := tx.Close(); err != nil {
				t.Fatal(err)
			}
			after, err := l.Counters()
			if err != nil {
				t.Fatal(err)
			}
			if got := after["sink1"].TxPackets - before["sink1"].TxPackets; got != n {
				t.Errorf("sink1 counted %d frames, want %d", got, n)
			}
		})
	}
}
