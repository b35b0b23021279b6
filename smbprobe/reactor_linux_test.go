package smbprobe_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

// loopbackServer serves srv on a kernel TCP listener on 127.0.0.1 and
// returns its address: the reactor needs real sockets.
func loopbackServer(tb testing.TB, srv *smbprobetest.Server) netip.AddrPort {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() { l.Close() })
	return netip.MustParseAddrPort(l.Addr().String())
}

// loopbackSocket is a Config.Socket that counts its sockets; the test
// targets only its own loopback listener.
func loopbackSocket(n *int) func(int) (int, error) {
	return func(family int) (int, error) {
		*n++
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return fd, os.NewSyscallError("socket", err)
	}
}

// TestReactorReplay probes the captured servers over loopback TCP through
// the reactor and requires the result of the blocking sessions over the
// in-memory replay, field for field (times aside).
func TestReactorReplay(t *testing.T) {
	for _, config := range []string{"nt1", "smb2only", "smb3only", "signreq", "maxsmb2", "smb1only", "impacket", "impacket-smb2"} {
		t.Run(config, func(t *testing.T) {
			srv := replay(t, config, smbprobetest.Replay)
			target := loopbackServer(t, srv)
			want := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(context.Background(), target)
			var sockets int
			got := smbprobe.New(&smbprobe.Config{Socket: loopbackSocket(&sockets)}).Probe(context.Background(), target)
			if diff := cmp.Diff(want, got, ignoreVolatile); diff != "" {
				t.Errorf("reactor vs blocking (-want +got):\n%s", diff)
			}
			if sockets != 2 {
				t.Errorf("%d sockets from Config.Socket, want 2", sockets)
			}
		})
	}
}

// TestReactorHostile: over the reactor, every hostile host ends by its
// deadline with the status the blocking sessions give (TestProbeHostile).
func TestReactorHostile(t *testing.T) {
	cfg := smbprobe.Config{ReadTimeout: 150 * time.Millisecond, HostTimeout: 400 * time.Millisecond}
	for _, tt := range hostileCases(cfg) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := loopbackServer(t, replay(t, "nt1", tt.behavior))
			var sockets int
			c := cfg
			c.Socket = loopbackSocket(&sockets)
			checkHostile(t, tt, func() *smbprobe.Result {
				return smbprobe.New(&c).Probe(context.Background(), target)
			})
		})
	}
}

// TestReactorErrors: refusals and timeouts read as net.Conn's do.
func TestReactorErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(l.Addr().String())
	l.Close() // nothing listens there now: RST
	var sockets int
	got := smbprobe.New(&smbprobe.Config{Socket: loopbackSocket(&sockets)}).Probe(context.Background(), closed)
	want := &smbprobe.Result{IP: closed.Addr(), Port: closed.Port(), Status: smbprobe.StatusConnectionRefused,
		Error: "connect: dial tcp " + closed.String() + ": connect: connection refused"}
	if diff := cmp.Diff(want, got, ignoreVolatile); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}

	target := loopbackServer(t, replay(t, "nt1", smbprobetest.Silent))
	got = smbprobe.New(&smbprobe.Config{Socket: loopbackSocket(&sockets), ReadTimeout: 50 * time.Millisecond}).Probe(context.Background(), target)
	if got.Status != smbprobe.StatusIOTimeout || got.SMB.SMB1.Outcome != "io-timeout" {
		t.Errorf("silent: status %q, smb1 %+v", got.Status, got.SMB.SMB1)
	}
	if prefix := "smb2 negotiate: read tcp 127.0.0.1:"; len(got.Error) < len(prefix) || got.Error[:len(prefix)] != prefix {
		t.Errorf("silent: error %q, want %q…", got.Error, prefix)
	}
}

// TestReactorCanceled: canceling the context ends a probe on the reactor
// at once, as canceled.
func TestReactorCanceled(t *testing.T) {
	target := loopbackServer(t, replay(t, "nt1", smbprobetest.Silent))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var sockets int
	start := time.Now()
	got := smbprobe.New(&smbprobe.Config{Socket: loopbackSocket(&sockets)}).Probe(ctx, target)
	if d := time.Since(start); d > time.Second || got.Status != "canceled" {
		t.Errorf("status %q after %v", got.Status, d)
	}
}

// TestReactorConcurrent runs many probes at once through one Prober's
// reactor (go test -race covers the loop and its callers).
func TestReactorConcurrent(t *testing.T) {
	srv := replay(t, "nt1", smbprobetest.Replay)
	target := loopbackServer(t, srv)
	p := smbprobe.New(&smbprobe.Config{Workers: 32, SubnetProbes: -1, Socket: func(family int) (int, error) {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return fd, os.NewSyscallError("socket", err)
	}})
	const n = 500
	targets := make(chan netip.AddrPort, n)
	for range n {
		targets <- target
	}
	close(targets)
	var ok, done int
	err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
		done++
		if r.Status == smbprobe.StatusSuccess && r.SMB.SMB1.Enabled && r.SMB.NTLM != nil {
			ok++
		}
		return nil
	})
	if err != nil || done != n || ok != n {
		t.Errorf("Run: err %v, %d results, %d complete successes, want %d", err, done, ok, n)
	}
}

// TestReactorIPv6 probes a replay server on [::1] through the reactor.
func TestReactorIPv6(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := replay(t, "nt1", smbprobetest.Replay)
	go srv.Serve(l)
	t.Cleanup(func() { l.Close() })
	target := netip.MustParseAddrPort(l.Addr().String())
	var sockets int
	got := smbprobe.New(&smbprobe.Config{Socket: loopbackSocket(&sockets)}).Probe(context.Background(), target)
	want := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(context.Background(), target)
	if diff := cmp.Diff(want, got, ignoreVolatile); diff != "" || sockets != 2 {
		t.Errorf("%d sockets; reactor vs blocking (-want +got):\n%s", sockets, diff)
	}
}
