package smbprobe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// silentHosts listens on n loopback addresses of subnet (a /24 of
// 127/8, all local on Linux) and never accepts: the kernel completes each
// handshake into the backlog, and the host stays silent, as behind a SYN
// proxy. close, if set, makes the first host accept and close at once.
func silentHosts(t *testing.T, subnet string, n int, closeFirst bool) []netip.AddrPort {
	t.Helper()
	base := netip.MustParsePrefix(subnet).Addr()
	var hosts []netip.AddrPort
	for i := range n {
		a := base
		for range i + 1 {
			a = a.Next()
		}
		l, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		if i == 0 && closeFirst {
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		}
		hosts = append(hosts, l.Addr().(*net.TCPAddr).AddrPort())
	}
	return hosts
}

// TestSilentSubnet runs the silent-subnet judgement (silence.go) over both
// transports against loopback hosts that accept and never answer.
func TestSilentSubnet(t *testing.T) {
	const (
		read   = 3 * time.Second
		silent = 300 * time.Millisecond
		later  = 500 * time.Millisecond // when the second wave starts
	)
	transports := []struct {
		name string
		dial func(ctx context.Context, network, address string) (net.Conn, error)
	}{
		{"reactor", nil},
		{"blocking", (&net.Dialer{}).DialContext},
	}
	for i, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			p := New(&Config{
				Dial: tr.dial, ConnectTimeout: time.Second, ReadTimeout: read, HostTimeout: 3 * read,
				SilentProbes: 3, SilentTimeout: silent,
			})
			if (p.react != nil) != (tr.dial == nil) {
				t.Skip("no reactor here")
			}
			// Subnet 1: all silent. Subnet 2: one host closes (an
			// answer), the others are silent.
			quiet := silentHosts(t, fmt.Sprintf("127.0.%d.0/24", 10+2*i), 7, false)
			mixed := silentHosts(t, fmt.Sprintf("127.0.%d.0/24", 11+2*i), 5, true)

			type probe struct {
				target  netip.AddrPort
				at      time.Duration // start, from t0
				r       *Result
				elapsed time.Duration
			}
			probes := []*probe{
				// Wave 1: three silent hosts judge subnet 1 at about read.
				{target: quiet[0]}, {target: quiet[1]}, {target: quiet[2]},
				// Wave 2: waiting when it is judged.
				{target: quiet[3], at: later}, {target: quiet[4], at: later},
				// After the judgement.
				{target: quiet[5], at: read + later},
				// Subnet 2 answered first: never judged.
				{target: mixed[1], at: later}, {target: mixed[2], at: later}, {target: mixed[3], at: later},
				{target: mixed[4], at: read + later},
			}
			if r := p.Probe(context.Background(), mixed[0]); r.Status != StatusConnectionClosed {
				t.Fatalf("closing host: status %q (%s), want %q", r.Status, r.Error, StatusConnectionClosed)
			}
			t0 := time.Now()
			var wg sync.WaitGroup
			for _, pr := range probes {
				wg.Go(func() {
					time.Sleep(pr.at)
					start := time.Now()
					pr.r = p.Probe(context.Background(), pr.target)
					pr.elapsed = time.Since(start)
				})
			}
			wg.Wait()
			t.Logf("all probes done after %v", time.Since(t0).Round(time.Millisecond))

			for _, pr := range probes {
				cut := slices.Contains(pr.r.Flags, FlagSilentSubnet)
				wantCut := pr.at > 0 && slices.Contains(quiet, pr.target)
				if pr.r.Status != StatusIOTimeout {
					t.Errorf("%v: status %q (%s), want %q", pr.target, pr.r.Status, pr.r.Error, StatusIOTimeout)
				}
				if cut != wantCut {
					t.Errorf("%v (started at +%v): flagged %s = %v, want %v (flags %q)", pr.target, pr.at, FlagSilentSubnet, cut, wantCut, pr.r.Flags)
				}
				switch {
				case !wantCut && pr.elapsed < read:
					t.Errorf("%v: ended after %v, before its read timeout %v", pr.target, pr.elapsed, read)
				case wantCut && pr.elapsed >= read:
					t.Errorf("%v: cut short, but ended after %v, not before its read timeout %v", pr.target, pr.elapsed, read)
				}
			}
		})
	}
}
