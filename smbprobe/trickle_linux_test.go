package smbprobe

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// dripHost listens on loopback and answers every connection's first
// request with chunks, each sent after its pause.
func dripHost(t *testing.T, chunks [][]byte, pauses []time.Duration) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Read(make([]byte, 4096))
				for i, b := range chunks {
					time.Sleep(pauses[i])
					if _, err := c.Write(b); err != nil {
						return
					}
				}
				time.Sleep(10 * time.Second)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).AddrPort()
}

// TestTrickleCut runs a host that drips its reply a byte at a time and one
// that sends it in slow but sufficient chunks over both transports: the
// first ends as a timeout long before the read deadline, the second is
// read to its end.
func TestTrickleCut(t *testing.T) {
	const read = 3 * time.Second
	var drip [][]byte
	var dripPauses []time.Duration
	for _, b := range []byte{0, 0, 0, 90, 0xfe, 'S', 'M', 'B'} {
		drip, dripPauses = append(drip, []byte{b}), append(dripPauses, 200*time.Millisecond)
	}
	body := make([]byte, 90) // not an SMB2 header: the probe ends not-smb
	steady := [][]byte{append([]byte{0, 0, 0, 90}, body[:10]...), body[10:50], body[50:]}
	steadyPauses := []time.Duration{0, 600 * time.Millisecond, 600 * time.Millisecond}
	for _, tr := range []struct {
		name string
		dial func(ctx context.Context, network, address string) (net.Conn, error)
	}{
		{"reactor", nil},
		{"blocking", (&net.Dialer{}).DialContext},
	} {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			p := New(&Config{Dial: tr.dial, ReadTimeout: read, HostTimeout: 2 * read, SkipSMB1: true})
			if (p.react != nil) != (tr.dial == nil) {
				t.Skip("no reactor here")
			}
			start := time.Now()
			r := p.Probe(context.Background(), dripHost(t, drip, dripPauses))
			if d := time.Since(start); r.Status != StatusIOTimeout || d > read/2 {
				t.Errorf("a byte every 200 ms: status %q (%s) after %v; want %q well before the %v read timeout",
					r.Status, r.Error, d, StatusIOTimeout, read)
			}
			start = time.Now()
			r = p.Probe(context.Background(), dripHost(t, steady, steadyPauses))
			if d := time.Since(start); r.Status == StatusIOTimeout || d < 1200*time.Millisecond {
				t.Errorf("three chunks 600 ms apart: status %q (%s) after %v; want the frame read to its end", r.Status, r.Error, d)
			}
		})
	}
}
