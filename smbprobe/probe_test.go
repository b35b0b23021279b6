package smbprobe_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

// ignoreVolatile drops what changes from run to run: clocks and the
// unexported fingerprint inputs.
var ignoreVolatile = cmp.Options{
	cmpopts.IgnoreFields(smbprobe.Result{}, "Timestamp"),
	cmpopts.IgnoreFields(smbprobe.SMB{}, "SystemTime"),
	cmpopts.IgnoreFields(smbprobe.SMB1{}, "SystemTime"),
	cmpopts.IgnoreFields(smbprobe.NTLM{}, "Timestamp"),
	cmpopts.IgnoreUnexported(smbprobe.SMB{}, smbprobe.SMB1{}, smbprobe.NTLM{}),
	cmpopts.EquateEmpty(),
	cmpopts.EquateComparable(netip.Addr{}),
}

func replay(tb testing.TB, config string, b smbprobetest.Behavior) *smbprobetest.Server {
	tb.Helper()
	r, err := smbprobetest.Load(filepath.Join("testdata", "resp", config))
	if err != nil {
		tb.Fatal(err)
	}
	s := &smbprobetest.Server{Replies: r, Behavior: b, TrickleInterval: 20 * time.Millisecond}
	tb.Cleanup(s.Close)
	return s
}

func ptr[T any](v T) *T { return &v }

// Expected facts of the Samba 4.17 captures (notes §4 matrix and §A).
var (
	sambaNTLM = &smbprobe.NTLM{TargetName: "SRTESTSRV", NetBIOSComputer: "SRTESTSRV", NetBIOSDomain: "SRTESTSRV",
		DNSComputer: "vm", OSVersion: "6.1.0", Revision: 15, Flags: 0xe28a8205}
	sambaGUID     = "65747273-7473-7273-7600-000000000000" // "srtestsrv" in ASCII
	ntlmssp       = []string{"1.3.6.1.4.1.311.2.2.10"}
	sambaContexts = &smbprobe.Contexts{Preauth: "sha-512", Cipher: "aes-128-gcm", SigningAlgorithm: "aes-gmac"}
	smb1Off       = &smbprobe.SMB1{Outcome: "no-dialect"}
	smb1On        = &smbprobe.SMB1{Enabled: true, Outcome: "negotiated", NativeOS: "Windows 6.1",
		NativeLanMan: "Samba 4.17.12-Debian", Domain: "SRTEST", SecurityMode: ptr[uint8](3),
		Signing: &smbprobe.Signing{}, Capabilities: 0x8080f3fd, MaxBufferSize: 16644, MaxMpxCount: 50,
		TimeZone: ptr[int16](0), ServerGUID: sambaGUID, NTLM: sambaNTLM}
)

func samba311(smb1 *smbprobe.SMB1, required bool) *smbprobe.SMB {
	return &smbprobe.SMB{SMB1: smb1, Dialect: "3.1.1", Signing: &smbprobe.Signing{Enabled: true, Required: required},
		Capabilities: []string{"dfs", "leasing", "large_mtu", "multi_channel"}, ServerGUID: sambaGUID,
		MaxReadSize: 8 << 20, MaxWriteSize: 8 << 20, MaxTransactSize: 8 << 20,
		Contexts: sambaContexts, SPNEGOMechs: ntlmssp, NTLM: sambaNTLM}
}

func TestProbeReplay(t *testing.T) {
	maxsmb2 := samba311(smb1Off, false)
	maxsmb2.Dialect, maxsmb2.Capabilities, maxsmb2.Contexts = "2.1", []string{"dfs", "leasing", "large_mtu"}, nil
	nbt := samba311(smb1On, false)
	nbt.NetBIOS = &smbprobe.NetBIOS{Response: "positive"}
	nbt.Dialect, nbt.Capabilities, nbt.Contexts = "3.0.2", []string{"dfs", "leasing", "multi_channel", "encryption"}, nil
	nbt.MaxReadSize, nbt.MaxWriteSize, nbt.MaxTransactSize = 64<<10, 64<<10, 64<<10
	tests := []struct {
		config string
		port   uint16
		want   *smbprobe.Result
	}{
		{"nt1", 445, &smbprobe.Result{Status: "success", SMB: samba311(smb1On, false), Flags: []string{"samba"}}},
		{"smb2only", 445, &smbprobe.Result{Status: "success", SMB: samba311(smb1Off, false), Flags: []string{"samba"}}},
		{"smb3only", 445, &smbprobe.Result{Status: "success", SMB: samba311(smb1Off, false), Flags: []string{"samba"}}},
		{"signreq", 445, &smbprobe.Result{Status: "success", SMB: samba311(smb1Off, true), Flags: []string{"samba"}}},
		{"maxsmb2", 445, &smbprobe.Result{Status: "success", SMB: maxsmb2, Flags: []string{"samba"}}},
		{"smb1only", 445, &smbprobe.Result{Status: "success", SMB: &smbprobe.SMB{SMB1: smb1On,
			SMB2Error: "smb2 negotiate: EOF"}, Flags: []string{"samba", "smb1-only"}}},
		{"nbt-139", 139, &smbprobe.Result{Status: "success", SMB: nbt, Flags: []string{"samba"}}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			srv := replay(t, tt.config, smbprobetest.Replay)
			p := smbprobe.New(&smbprobe.Config{Dial: srv.Dial})
			target := netip.MustParseAddrPort("198.18.0.1:445")
			target = netip.AddrPortFrom(target.Addr(), tt.port)
			got := p.Probe(context.Background(), target)
			tt.want.IP, tt.want.Port = target.Addr(), tt.port
			if diff := cmp.Diff(tt.want, got, ignoreVolatile); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if got.SMB.Dialect != "" && got.SMB.SystemTime == nil {
				t.Error("no system time")
			}
		})
	}
}

func TestProbeImpacket(t *testing.T) {
	tests := []struct {
		config  string
		dialect string
		smb2Err string
	}{
		{"impacket", "", "smb2 negotiate: status 0xc00000bb (STATUS_NOT_SUPPORTED)"},
		{"impacket-smb2", "2.0.2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			srv := replay(t, tt.config, smbprobetest.Replay)
			got := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(context.Background(), netip.MustParseAddrPort("198.18.0.2:445"))
			if got.Status != "success" || got.SMB.Dialect != tt.dialect || got.SMB.SMB2Error != tt.smb2Err {
				t.Errorf("status %q dialect %q smb2_error %q", got.Status, got.SMB.Dialect, got.SMB.SMB2Error)
			}
			if !got.SMB.SMB1.Enabled || got.SMB.SMB1.NTLM == nil || got.SMB.SMB1.NTLM.OSVersion != "255.255.65535" {
				t.Errorf("smb1 %+v", got.SMB.SMB1)
			}
			if diff := cmp.Diff("impacket-like", got.Flags[0]); diff != "" {
				t.Errorf("flags %v", got.Flags)
			}
		})
	}
}

// hostileCase is a hostile host and how a probe of it must end.
type hostileCase struct {
	name     string
	behavior smbprobetest.Behavior
	status   smbprobe.Status
	smb1     string
	limit    time.Duration
}

// hostileCases are the hostile hosts for a Prober configured with cfg;
// TestProbeHostile and TestReactorHostile run them over both transports.
func hostileCases(cfg smbprobe.Config) []hostileCase {
	return []hostileCase{
		{"silent", smbprobetest.Silent, "io-timeout", "io-timeout", cfg.ReadTimeout + 150*time.Millisecond},
		{"trickle", smbprobetest.Trickle, "io-timeout", "io-timeout", cfg.HostTimeout + 150*time.Millisecond},
		{"oversize", smbprobetest.Oversize, "protocol-error", "protocol-error", 100 * time.Millisecond},
		{"not smb", smbprobetest.NotSMB, "not-smb", "not-smb", 100 * time.Millisecond},
		{"reset", smbprobetest.Reset, "connection-closed", "connection-closed", 100 * time.Millisecond},
	}
}

// checkHostile runs probe and checks that it ended by tt's limit with tt's
// status, an error, and tt's SMB1 outcome.
func checkHostile(t *testing.T, tt hostileCase, probe func() *smbprobe.Result) {
	t.Helper()
	start := time.Now()
	got := probe()
	if d := time.Since(start); d > tt.limit {
		t.Errorf("probe took %v, limit %v", d, tt.limit)
	}
	if got.Status != tt.status || got.Error == "" {
		t.Errorf("status %q error %q, want %q", got.Status, got.Error, tt.status)
	}
	if got.SMB == nil || got.SMB.SMB1 == nil || got.SMB.SMB1.Outcome != tt.smb1 || got.SMB.SMB1.Enabled {
		t.Errorf("smb1 %+v, want outcome %q", got.SMB, tt.smb1)
	}
}

// TestProbeHostile runs the hostile hosts over the in-memory replayer: each
// probe must end by its deadline with the right status.
func TestProbeHostile(t *testing.T) {
	cfg := smbprobe.Config{ReadTimeout: 150 * time.Millisecond, HostTimeout: 400 * time.Millisecond}
	for _, tt := range hostileCases(cfg) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := replay(t, "nt1", tt.behavior)
			c := cfg
			c.Dial = srv.Dial
			checkHostile(t, tt, func() *smbprobe.Result {
				return smbprobe.New(&c).Probe(context.Background(), netip.MustParseAddrPort("198.18.0.3:445"))
			})
		})
	}
}

// TestProbeWindowsSMB1Off: a server that replays SMB2 but closes on SMB1
// (Windows with SMB1 removed disconnects, MS-SMB2 §3.3.5.3.2) is a success
// with SMB1 off and the raw outcome kept.
func TestProbeWindowsSMB1Off(t *testing.T) {
	srv := replay(t, "smb2only", smbprobetest.ResetSMB1)
	got := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(context.Background(), netip.MustParseAddrPort("198.18.0.4:445"))
	want := &smbprobe.SMB1{Outcome: "connection-closed", Error: "EOF"}
	if diff := cmp.Diff(want, got.SMB.SMB1, ignoreVolatile); got.Status != "success" || diff != "" {
		t.Errorf("status %q, smb1 (-want +got):\n%s", got.Status, diff)
	}
}

func TestProbeCanceled(t *testing.T) {
	srv := replay(t, "nt1", smbprobetest.Silent)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	got := smbprobe.New(&smbprobe.Config{Dial: srv.Dial}).Probe(ctx, netip.MustParseAddrPort("198.18.0.5:445"))
	if d := time.Since(start); d > time.Second || got.Status != "canceled" {
		t.Errorf("status %q after %v", got.Status, d)
	}
}
