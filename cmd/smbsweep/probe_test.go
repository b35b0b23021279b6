package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// recorder records each Write to it as one string.
type recorder struct {
	mu     sync.Mutex
	writes []string
	err    error // returned by every Write when set
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.writes)
}

func TestLineWriter(t *testing.T) {
	line := strings.Repeat("x", 999) + "\n" // 1000 bytes
	many := slices.Repeat([]string{line}, 100)
	tests := []struct {
		name        string
		lines       []string
		beforeClose []string // what w got before Close (the delay is an hour)
		afterClose  []string
	}{
		{"no lines", nil, nil, nil},
		{"lines wait for the delay or Close", []string{"a\n", "b\nc\n"}, nil, []string{"a\nb\nc\n"}},
		{
			// 65 lines fit in 64 KiB; the 66th writes those out first.
			"a full buffer is written out in whole lines",
			many,
			[]string{strings.Repeat(line, 65)},
			[]string{strings.Repeat(line, 35)},
		},
		{
			"a line as large as the buffer is written at once",
			[]string{"a\n", strings.Repeat("y", lineWriterSize-1) + "\n", "b\n"},
			[]string{"a\n", strings.Repeat("y", lineWriterSize-1) + "\n"},
			[]string{"b\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			w := newLineWriter(&rec, time.Hour)
			for _, l := range tt.lines {
				if n, err := w.Write([]byte(l)); n != len(l) || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", len(l), n, err)
				}
			}
			if diff := cmp.Diff(tt.beforeClose, rec.got()); diff != "" {
				t.Errorf("before Close (-want +got):\n%s", diff)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if diff := cmp.Diff(append(tt.beforeClose, tt.afterClose...), rec.got()); diff != "" {
				t.Errorf("after Close (-want +got):\n%s", diff)
			}
			if _, err := w.Write([]byte("late\n")); err == nil {
				t.Error("Write after Close succeeded")
			}
		})
	}
}

// TestLineWriterDelay checks that buffered lines reach the writer by
// themselves, without Close or more lines: what an interactive user sees.
func TestLineWriterDelay(t *testing.T) {
	var rec recorder
	w := newLineWriter(&rec, time.Millisecond)
	defer w.Close()
	for _, l := range []string{"a\n", "b\n"} {
		w.Write([]byte(l))
		for len(rec.got()) == 0 || !strings.HasSuffix(strings.Join(rec.got(), ""), l) {
			time.Sleep(time.Millisecond) // the test's own timeout ends a hang
		}
	}
	if diff := cmp.Diff("a\nb\n", strings.Join(rec.got(), "")); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestLineWriterError(t *testing.T) {
	broken := errors.New("broken pipe")
	rec := &recorder{err: broken}
	w := newLineWriter(rec, time.Hour)
	if _, err := w.Write([]byte("a\n")); err != nil {
		t.Fatalf("Write: %v (want the error at the flush)", err)
	}
	if err := w.Close(); !errors.Is(err, broken) {
		t.Fatalf("Close = %v, want %v", err, broken)
	}
	if _, err := w.Write([]byte("b\n")); !errors.Is(err, broken) {
		t.Errorf("Write after a failed flush = %v, want %v", err, broken)
	}
}
