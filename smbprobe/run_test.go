package smbprobe_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

func TestRun(t *testing.T) {
	srv := replay(t, "smb2only", smbprobetest.Replay)
	p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial, Workers: 4})
	const n = 50
	targets := make(chan netip.AddrPort, n)
	want := map[netip.Addr]bool{}
	a := netip.MustParseAddr("198.18.1.0")
	for i := 0; i < n; i++ {
		a = a.Next()
		want[a] = true
		targets <- netip.AddrPortFrom(a, 445)
	}
	close(targets)
	got := map[netip.Addr]int{}
	if err := p.Run(context.Background(), targets, func(r *smbprobe.Result) error {
		got[r.IP]++
		if r.Status != smbprobe.StatusSuccess {
			t.Errorf("%v: %s %s", r.IP, r.Status, r.Error)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for a := range want {
		if got[a] != 1 {
			t.Errorf("%v emitted %d times", a, got[a])
		}
	}
	if len(got) != n {
		t.Errorf("%d results, want %d", len(got), n)
	}
}

func TestRunEmitError(t *testing.T) {
	srv := replay(t, "smb2only", smbprobetest.Replay)
	p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial, Workers: 2})
	targets := make(chan netip.AddrPort) // never closed: Run must stop on the error
	go func() {
		for {
			select {
			case targets <- netip.MustParseAddrPort("198.18.1.1:445"):
			case <-t.Context().Done():
				return
			}
		}
	}()
	errStop := errors.New("stop")
	calls := 0
	err := p.Run(context.Background(), targets, func(*smbprobe.Result) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 3 {
		t.Errorf("Run = %v after %d calls, want %v after 3", err, calls, errStop)
	}
}

func TestRunCanceled(t *testing.T) {
	srv := replay(t, "nt1", smbprobetest.Silent)
	p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial, Workers: 2})
	targets := make(chan netip.AddrPort) // never closed
	go func() {
		for {
			select {
			case targets <- netip.MustParseAddrPort("198.18.1.1:445"):
			case <-t.Context().Done():
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	n := 0
	err := p.Run(ctx, targets, func(r *smbprobe.Result) error {
		n++
		if r.Status != smbprobe.StatusCanceled {
			t.Errorf("status %q after cancel", r.Status)
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 2 {
		t.Errorf("Run = %v with %d results, want context.Canceled with the 2 in flight", err, n)
	}
}

func TestProbeNetBIOSRefused(t *testing.T) {
	tests := []struct {
		name string
		resp []byte
		want smbprobe.NetBIOS
	}{
		{"negative", []byte{0x83, 0, 0, 1, 0x82}, smbprobe.NetBIOS{Response: "negative", ErrorCode: 0x82}},
		{"retarget", []byte{0x84, 0, 0, 6, 198, 18, 9, 9, 0, 139}, smbprobe.NetBIOS{Response: "retarget", Retarget: "198.18.9.9:139"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := replay(t, "nbt-139", smbprobetest.Replay)
			srv.Replies.NetBIOS = tt.resp
			r := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(context.Background(), netip.MustParseAddrPort("198.18.1.2:139"))
			if r.Status != smbprobe.StatusNetBIOSRefused || r.SMB == nil || r.SMB.NetBIOS == nil || *r.SMB.NetBIOS != tt.want {
				t.Errorf("status %q error %q netbios %+v, want %+v", r.Status, r.Error, r.SMB, tt.want)
			}
		})
	}
}
