package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    netip.AddrPort
		wantErr bool
	}{
		{"ip", "198.18.0.1", netip.MustParseAddrPort("198.18.0.1:445"), false},
		{"ip:port", "198.18.0.1:139", netip.MustParseAddrPort("198.18.0.1:139"), false},
		{"ipv6", "2001:db8::1", netip.MustParseAddrPort("[2001:db8::1]:445"), false},
		{"[ipv6]:port", "[2001:db8::1]:139", netip.MustParseAddrPort("[2001:db8::1]:139"), false},
		{"v4-mapped", "::ffff:198.18.0.1", netip.MustParseAddrPort("198.18.0.1:445"), false},
		{"scan json", `{"ip":"198.18.0.7","port":139,"status":"success","classification":"synack"}`, netip.MustParseAddrPort("198.18.0.7:139"), false},
		{"scan json without port", `{"ip":"198.18.0.7"}`, netip.MustParseAddrPort("198.18.0.7:445"), false},
		{"scan json closed", `{"ip":"198.18.0.7","port":445,"status":"connection-refused","classification":"rst"}`, netip.AddrPort{}, true},
		{"scan json unreachable", `{"ip":"198.18.0.10","port":139,"status":"unreachable"}`, netip.AddrPort{}, true},
		{"hostname", "example.com", netip.AddrPort{}, true},
		{"port 0", "198.18.0.1:0", netip.AddrPort{}, true},
		{"bad json", `{"ip":1}`, netip.AddrPort{}, true},
		{"json port too big", `{"ip":"198.18.0.7","port":70000}`, netip.AddrPort{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTarget(tt.in, 445)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProbeCommand runs the subcommand against a replay server listening
// on loopback inside this test (the only address it connects to).
func TestProbeCommand(t *testing.T) {
	r, err := smbprobetest.Load("../../smbprobe/testdata/resp/nt1")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &smbprobetest.Server{Replies: r}
	go srv.Serve(l)
	t.Cleanup(func() { l.Close(); srv.Close() })
	addr := l.Addr().String()

	port := addr[strings.LastIndex(addr, ":")+1:]
	stdin := strings.NewReader("# comment\n" + addr + "\n\nnot-a-host\n" +
		`{"ip":"127.0.0.1","port":` + port + `,"status":"success"}` + "\n" +
		`{"ip":"127.0.0.1","port":` + port + `,"status":"connection-refused"}` + "\n")
	var stdout, stderr bytes.Buffer
	if code := probeMain([]string{"-workers", "2"}, stdin, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "line 4") {
		t.Errorf("bad line not reported: %q", stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d result lines:\n%s", len(lines), stdout.String())
	}
	for _, line := range lines {
		var v struct {
			IP     string `json:"ip"`
			Status string `json:"status"`
			SMB    struct {
				Dialect string `json:"dialect"`
				SMB1    struct {
					Enabled      bool   `json:"enabled"`
					NativeLanMan string `json:"native_lanman"`
				} `json:"smb1"`
				NTLM struct {
					OSVersion string `json:"os_version"`
				} `json:"ntlm"`
			} `json:"smb"`
			Flags []string `json:"flags"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		if v.IP != "127.0.0.1" || v.Status != "success" || v.SMB.Dialect != "3.1.1" || !v.SMB.SMB1.Enabled ||
			v.SMB.SMB1.NativeLanMan != "Samba 4.17.12-Debian" || v.SMB.NTLM.OSVersion != "6.1.0" || len(v.Flags) == 0 || v.Flags[0] != "samba" {
			t.Errorf("unexpected result %s", line)
		}
	}
}

func TestProbeCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"bad host", []string{"example.com"}, exitUsage},
		{"bad port", []string{"-port", "0", "198.18.0.1"}, exitUsage},
		{"bad flag", []string{"-nope"}, exitUsage},
		{"help", []string{"-h"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := probeMain(tt.args, strings.NewReader(""), &out, &errb); code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q", out.String())
			}
		})
	}
}

func TestSubnetProbesFlag(t *testing.T) {
	tests := []struct {
		name string
		flag int
		want int // smbprobe.Config.SubnetProbes
	}{
		{"default", smbprobe.DefaultSubnetProbes, smbprobe.DefaultSubnetProbes},
		{"raised", 64, 64},
		{"zero disables", 0, -1},
		{"minus one disables", -1, -1},
		{"any negative disables", -7, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subnetProbes(tt.flag); got != tt.want {
				t.Errorf("subnetProbes(%d) = %d, want %d", tt.flag, got, tt.want)
			}
		})
	}
}
