package smbprobe_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// TestIntegrationRunAnyIP probes the stock lab's 256 AnyIP hosts (one smbd
// answering a whole /24 with its listen backlog of 50, issue #5) with
// Run's defaults, three passes: every host must answer in every pass. With
// 256 probes of the /24 at once (Config.SubnetProbes -1), the accept queue
// overflowed and 14–124 hosts per pass ended in a connect timeout
// (bench/results/probe-politeness.md). It needs root; labtest skips it
// otherwise.
func TestIntegrationRunAnyIP(t *testing.T) {
	l, hosts := anyIPLab(t)
	p := smbprobe.New(&smbprobe.Config{Dial: l.DialContext})
	for pass := range 3 {
		if pass > 0 {
			time.Sleep(time.Second) // let smbd reap its children between passes
		}
		targets := make(chan netip.AddrPort, len(hosts))
		for _, h := range hosts {
			targets <- h
		}
		close(targets)
		got := map[netip.Addr]smbprobe.Status{}
		t0 := time.Now()
		err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
			got[r.IP] = r.Status
			return nil
		})
		if err != nil {
			t.Fatalf("pass %d: Run: %v", pass, err)
		}
		answered := 0
		for _, h := range hosts {
			switch st := got[h.Addr()]; st {
			case smbprobe.StatusSuccess:
				answered++
			default:
				t.Errorf("pass %d: %v: status %q", pass, h.Addr(), st)
			}
		}
		t.Logf("pass %d: %d of %d answered in %v", pass, answered, len(hosts), time.Since(t0).Round(time.Millisecond))
	}
}

// anyIPLab brings up a /22 lab with the Samba servers and no other hosts,
// and returns it with the first 256 addresses of its AnyIP server (one
// smbd answering a whole /24). It fails tb if there are not 256.
func anyIPLab(tb testing.TB) (*lab.Lab, []netip.AddrPort) {
	tb.Helper()
	l := labtest.New(tb, &lab.Config{Range: netip.MustParsePrefix("198.18.0.0/22"), Open: -1, Closed: -1, Samba: true})
	var hosts []netip.AddrPort
	for _, s := range l.Status().Servers {
		if s.Name == "anyip" {
			for a := s.Prefix.Masked().Addr(); s.Prefix.Contains(a) && len(hosts) < 256; a = a.Next() {
				hosts = append(hosts, netip.AddrPortFrom(a, s.Port))
			}
		}
	}
	if len(hosts) != 256 {
		tb.Fatalf("lab has %d AnyIP hosts, want 256", len(hosts))
	}
	return l, hosts
}
