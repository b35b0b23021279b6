package smbprobe_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

// TestProbeSMB1GuestDeadline: on an SMB1-only host (the smb1only replies)
// whose guest connection, the third, answers with silence or a trickle,
// Probe with Config.Shares still returns by HostTimeout, with the probe's
// facts kept and the guest step's error recorded. Without Config.Shares
// no third connection is opened.
func TestProbeSMB1GuestDeadline(t *testing.T) {
	tests := []struct {
		name   string
		third  smbprobetest.Behavior
		shares bool
		dials  int32
	}{
		{"silent guest connection", smbprobetest.Silent, true, 3},
		{"trickling guest connection", smbprobetest.Trickle, true, 3},
		{"no shares, no third connection", smbprobetest.Silent, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := replay(t, "smb1only", smbprobetest.Replay)
			bad := replay(t, "smb1only", tt.third)
			var n atomic.Int32
			dial := func(ctx context.Context, network, address string) (net.Conn, error) {
				if n.Add(1) <= 2 { // connections A and B
					return good.Dial(ctx, network, address)
				}
				return bad.Dial(ctx, network, address)
			}
			const host = 500 * time.Millisecond
			p := smbprobe.New(&smbprobe.Config{Dial: dial, Shares: tt.shares, ReadTimeout: 5 * time.Second, HostTimeout: host})
			start := time.Now()
			r := p.Probe(context.Background(), netip.MustParseAddrPort("198.18.3.7:445"))
			if took := time.Since(start); took > host+time.Second { // slack for a loaded machine, as in TestIntegrationLab
				t.Errorf("probe took %v, host timeout %v", took, host)
			}
			if r.Status != smbprobe.StatusSuccess || r.SMB == nil || r.SMB.SMB1 == nil || !r.SMB.SMB1.Enabled {
				t.Fatalf("status %q error %q smb %+v: want the SMB1 facts kept", r.Status, r.Error, r.SMB)
			}
			if got := n.Load(); got != tt.dials {
				t.Errorf("%d connections, want %d", got, tt.dials)
			}
			g := r.SMB.Guest
			if !tt.shares {
				if g != nil {
					t.Errorf("guest %+v without Config.Shares", g)
				}
				return
			}
			if g == nil || g.Allowed || !strings.Contains(g.Error, "smb1 negotiate") {
				t.Errorf("guest %+v: want a failed smb1 negotiate", g)
			}
		})
	}
}
