package smbprobe_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// sambaVersion is what the local smbd reports ("4.17.12-Debian"), which the
// lab's servers run.
func sambaVersion(tb testing.TB) string {
	out, err := exec.Command("smbd", "--version").Output()
	if err != nil {
		tb.Skipf("smbd --version: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "Version ")
}

// TestIntegrationLab probes every server and hostile host of a lab (issue
// #3) through the lab's scanner namespace and compares every fact with the
// lab's ground truth. It needs root; labtest skips it otherwise.
func TestIntegrationLab(t *testing.T) {
	l := labtest.New(t, &lab.Config{
		Range:   netip.MustParsePrefix("198.18.0.0/22"),
		Open:    -1,
		Closed:  -1,
		Samba:   true,
		Hostile: true,
	})
	st := l.Status()
	version := sambaVersion(t)

	t.Run("servers", func(t *testing.T) {
		for _, tc := range labTransports(l) {
			for _, shares := range []bool{false, true} {
				cfg := tc.cfg
				cfg.Shares = shares
				p := smbprobe.New(&cfg)
				for _, srv := range st.Servers {
					name := tc.name + "/" + srv.Name + "/" + netip.AddrPortFrom(srv.Address, srv.Port).String()
					if shares {
						name += "/shares"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						r := p.Probe(context.Background(), netip.AddrPortFrom(srv.Address, srv.Port))
						checkExpect(t, r, srv, version, shares)
					})
				}
			}
		}
	})

	// Each hostile host gets hostileProbes concurrent probes; the heap
	// allocated per probe must stay within maxBytesPerProbe, whatever
	// length the host claims (huge claims 4 GiB): at most two pooled
	// 64 KiB receive buffers plus bookkeeping.
	t.Run("hostile", func(t *testing.T) {
		for _, tc := range labTransports(l) {
			cfg := &tc.cfg
			cfg.ReadTimeout, cfg.HostTimeout = time.Second, 3*time.Second
			t.Run(tc.name, func(t *testing.T) { hostileLab(t, st, cfg) })
		}
	})
}

// hostileLab probes each of the lab's hostile hosts hostileProbes times
// at once with cfg.
func hostileLab(t *testing.T, st lab.Status, cfg *smbprobe.Config) {
	{
		const hostileProbes = 32
		const maxBytesPerProbe = 2*64<<10 + 32<<10
		want := map[string][]smbprobe.Status{
			"silent":   {smbprobe.StatusIOTimeout},
			"slow":     {smbprobe.StatusIOTimeout},
			"huge":     {smbprobe.StatusNotSMB, smbprobe.StatusProtocolError},
			"garbage":  {smbprobe.StatusNotSMB, smbprobe.StatusProtocolError, smbprobe.StatusConnectionClosed},
			"reset":    {smbprobe.StatusConnectionClosed},
			"synproxy": {smbprobe.StatusIOTimeout},
		}
		for _, h := range st.Hostile {
			t.Run(h.Name, func(t *testing.T) { // sequential: the heap measurement is process-wide
				port := h.Port
				if port == 0 {
					port = 445
				}
				ws, ok := want[h.Name]
				if !ok {
					t.Fatalf("no expectation for hostile host %q (%s)", h.Name, h.Does)
				}
				p := smbprobe.New(cfg) // fresh buffer pool per host
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				results := make([]*smbprobe.Result, hostileProbes)
				took := make([]time.Duration, hostileProbes)
				var wg sync.WaitGroup
				for i := range results {
					wg.Go(func() {
						start := time.Now()
						results[i] = p.Probe(context.Background(), netip.AddrPortFrom(h.Address, port))
						took[i] = time.Since(start)
					})
				}
				wg.Wait()
				runtime.ReadMemStats(&after)
				if per := (after.TotalAlloc - before.TotalAlloc) / hostileProbes; per > maxBytesPerProbe {
					t.Errorf("%s: %d bytes allocated per probe, bound %d", h.Name, per, maxBytesPerProbe)
				} else {
					t.Logf("%s: %d bytes allocated per probe", h.Name, per)
				}
				for i, r := range results {
					if took[i] > cfg.HostTimeout+time.Second {
						t.Errorf("%s (%s) took %v, deadline %v", h.Name, h.Does, took[i], cfg.HostTimeout)
					}
					if !slices.Contains(ws, r.Status) {
						t.Errorf("%s (%s): status %q (%s), want one of %v", h.Name, h.Does, r.Status, r.Error, ws)
					}
					if r.SMB != nil && r.SMB.SMB1 != nil && r.SMB.SMB1.Enabled {
						t.Errorf("%s: SMB1 reported on", h.Name)
					}
				}
				t.Logf("%s: %s (%s)", h.Name, results[0].Status, results[0].Error)
			})
		}
	}
}

// labTransport is a prober configuration without timeouts: how its
// sockets reach the lab.
type labTransport struct {
	name string
	cfg  smbprobe.Config
}

// labTransports are the two ways a probe reaches the lab: blocking
// sessions over the lab's dialer, and the reactor over sockets created in
// the scanner namespace (Config.Socket; port 139 then dials through them).
func labTransports(l *lab.Lab) []labTransport {
	return []labTransport{
		{"dial", smbprobe.Config{Dial: l.DialContext}},
		{"reactor", smbprobe.Config{Socket: func(family int) (int, error) {
			fd := -1
			err := l.Do(func() error {
				var err error
				fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
				return os.NewSyscallError("socket", err)
			})
			return fd, err
		}}},
	}
}

// checkExpect compares a result with the lab's expectation for srv.
func checkExpect(t *testing.T, r *smbprobe.Result, srv lab.Server, version string, shares bool) {
	t.Helper()
	ex := srv.Expect
	if r.Status != smbprobe.StatusSuccess || r.SMB == nil {
		t.Fatalf("status %q error %q", r.Status, r.Error)
	}
	s := r.SMB
	if s.SMB1 == nil || s.SMB1.Enabled != ex.SMB1 {
		t.Errorf("smb1 %+v, want enabled=%v", s.SMB1, ex.SMB1)
	}
	wantDialect := ex.Dialect
	if ex.NetBIOS && wantDialect == "3.1.1" {
		wantDialect = "3.0.2" // we never offer 3.1.1 over NetBIOS (MS-SMB2 §3.2.4.2.2.2)
	}
	if s.Dialect != wantDialect {
		t.Errorf("dialect %q, want %q", s.Dialect, wantDialect)
	}
	if ex.Dialect != "" {
		if s.Signing == nil || s.Signing.Required != ex.SigningRequired || !s.Signing.Enabled {
			t.Errorf("signing %+v, want required=%v", s.Signing, ex.SigningRequired)
		}
		if s.NTLM == nil {
			t.Fatalf("no NTLM challenge")
		}
	}
	if ex.Dialect == "3.1.1" && !ex.NetBIOS && (s.Contexts == nil || s.Contexts.Cipher != "aes-128-gcm" || s.Contexts.Preauth != "sha-512") {
		t.Errorf("contexts %+v, want preauth sha-512 and cipher aes-128-gcm", s.Contexts)
	}
	if ex.NetBIOS && (s.NetBIOS == nil || s.NetBIOS.Response != "positive" || s.Dialect == "3.1.1") {
		t.Errorf("netbios %+v dialect %q: want a positive session and no 3.1.1", s.NetBIOS, s.Dialect)
	}
	ntlm := s.NTLM
	if ntlm == nil && s.SMB1 != nil {
		ntlm = s.SMB1.NTLM
	}
	switch ex.Software {
	case "samba":
		want := "LAB-" + strings.ToUpper(srv.Name)
		if ntlm == nil || ntlm.NetBIOSComputer != want || ntlm.TargetName != want || ntlm.OSVersion != "6.1.0" {
			t.Errorf("ntlm %+v, want NetBIOS name %s and 6.1.0", ntlm, want)
		}
		if !slices.Contains(r.Flags, smbprobe.FlagSamba) {
			t.Errorf("flags %v lack samba", r.Flags)
		}
		if ex.SMB1 && (s.SMB1.NativeLanMan != "Samba "+version || s.SMB1.Domain != "SMBSWEEP") {
			t.Errorf("smb1 native lanman %q domain %q, want Samba %s and SMBSWEEP", s.SMB1.NativeLanMan, s.SMB1.Domain, version)
		}
	case "impacket":
		if ntlm == nil || ntlm.OSVersion != "255.255.65535" || !slices.Contains(r.Flags, smbprobe.FlagImpacketLike) {
			t.Errorf("ntlm %+v flags %v, want impacket's 255.255.65535", ntlm, r.Flags)
		}
	}
	if !shares {
		if s.Guest != nil {
			t.Errorf("guest %+v without Config.Shares", s.Guest)
		}
		return
	}
	if ex.Dialect == "" {
		return // no SMB2, no guest follow-up
	}
	if s.Guest == nil {
		t.Fatal("no guest result with Config.Shares")
	}
	if got := slices.ContainsFunc(s.Guest.Shares, isPublic); got != ex.Guest {
		t.Errorf("guest %+v: public listed %v, want %v", s.Guest, got, ex.Guest)
	}
	if s.Guest.EncryptionRequired != ex.EncryptionRequired {
		t.Errorf("guest %+v: encryption_required, want %v", s.Guest, ex.EncryptionRequired)
	}
}
