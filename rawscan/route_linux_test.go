//go:build linux

package rawscan_test

import (
	"context"
	"net"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan"
)

func TestIntegrationFindRoute(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 7, Open: -1, Closed: -1})
	st := l.Status()
	type got struct{ Interface, Source, SourceMAC, GatewayMAC, From string }
	find := func(cfg *rawscan.RouteConfig) got {
		t.Helper()
		var r *rawscan.Route
		if err := l.Do(func() (err error) {
			r, err = rawscan.FindRoute(context.Background(), cfg)
			return err
		}); err != nil {
			t.Fatalf("FindRoute: %v", err)
		}
		return got{r.Interface, r.Source.String(), r.SourceMAC.String(), r.GatewayMAC.String(), r.GatewayFrom}
	}
	base := got{st.Interface, st.SourceIP.String(), st.SourceMAC, st.GatewayMAC, ""}
	pinned := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	tests := []struct {
		name  string
		setup func(t *testing.T)
		cfg   *rawscan.RouteConfig
		want  func(g got) got
	}{
		{"gateway MAC by our own ARP", nil, nil, func(g got) got { g.From = "arp"; return g }},
		{"interface override", nil, &rawscan.RouteConfig{Interface: st.Interface}, func(g got) got { g.From = "arp"; return g }},
		{"gateway MAC flag", nil, &rawscan.RouteConfig{GatewayMAC: pinned}, func(g got) got { g.GatewayMAC, g.From = pinned.String(), "flag"; return g }},
		{"gateway MAC from the neighbour table", func(t *testing.T) {
			out, err := exec.Command("ip", "-n", st.ScannerNamespace, "neigh", "replace", st.GatewayIP.String(),
				"lladdr", pinned.String(), "dev", st.Interface, "nud", "permanent").CombinedOutput()
			if err != nil {
				t.Fatalf("ip neigh: %v: %s", err, out)
			}
		}, nil, func(g got) got { g.GatewayMAC, g.From = pinned.String(), "neighbour"; return g }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			if diff := cmp.Diff(tt.want(base), find(tt.cfg)); diff != "" {
				t.Fatalf("route (-want +got):\n%s", diff)
			}
		})
	}
}
