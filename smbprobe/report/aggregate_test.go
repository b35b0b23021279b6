package report

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func aggregate(t *testing.T, cfg *Config, in string) *Summary {
	t.Helper()
	a := New(cfg)
	if _, err := a.ReadFrom(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	return a.Summary()
}

func rows(kv ...any) []Count {
	var out []Count
	for i := 0; i < len(kv); i += 2 {
		out = append(out, Count{Value: kv[i].(string), N: uint64(kv[i+1].(int))})
	}
	return out
}

const (
	recSamba    = `{"ip":"198.18.0.1","port":445,"status":"success","timestamp":"2026-11-28T06:00:00Z","smb":{"smb1":{"enabled":true,"outcome":"negotiated","native_os":"Windows 6.1","native_lanman":"Samba 4.17.12-Debian","signing":{"enabled":false,"required":false}},"dialect":"3.1.1","signing":{"enabled":true,"required":false},"contexts":{"preauth":"sha-512","cipher":"aes-128-gcm"},"ntlm":{"netbios_computer":"SRTESTSRV","netbios_domain":"SRTEST","os_version":"6.1.0"}},"flags":["samba"]}`
	recWin      = `{"ip":"198.19.3.4","port":445,"status":"success","timestamp":"2026-11-28T06:00:05Z","smb":{"smb1":{"enabled":false,"outcome":"connection-reset"},"dialect":"3.1.1","signing":{"enabled":true,"required":true},"contexts":{"cipher":"aes-256-gcm"},"ntlm":{"netbios_computer":"DC01","netbios_domain":"CORP","os_version":"10.0.20348"}},"flags":["windows"]}`
	recImpacket = `{"ip":"198.18.0.2","port":445,"status":"success","timestamp":"2026-11-28T05:59:00Z","smb":{"smb1":{"enabled":true,"outcome":"negotiated","signing":{"enabled":false,"required":false},"ntlm":{"netbios_computer":"X","os_version":"255.255.65535"}},"smb2_error":"smb2 negotiate: status 0xc00000bb"},"flags":["impacket-like","smb1-only"]}`
	recHidden   = `{"ip":"198.18.0.3","port":445,"status":"success","smb":{"smb1":{"enabled":false,"outcome":"no-dialect"},"dialect":"2.1","signing":{"enabled":true,"required":false}},"flags":["samba"]}`
	recTimeout  = `{"ip":"198.18.0.4","port":445,"status":"io-timeout","timestamp":"2026-11-28T06:00:01Z","error":"i/o timeout"}`
)

// TestAggregate checks each aggregate on small inputs.
func TestAggregate(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		got  func(*Summary) any
		want any
	}{
		{
			name: "status and ports",
			in:   []string{recSamba, recTimeout, recWin, `{"ip":"198.18.0.9","port":139,"status":"connection-closed"}`},
			got:  func(s *Summary) any { return []Table{s.Status, s.Ports} },
			want: []Table{
				{Rows: rows("success", 2, "connection-closed", 1, "io-timeout", 1), Total: 4},
				{Rows: rows("445", 3, "139", 1), Total: 4},
			},
		},
		{
			name: "SMB hosts count only successes",
			in:   []string{recSamba, recTimeout},
			got:  func(s *Summary) any { return [3]uint64{s.Records, s.SMBHosts, s.Dialects.Total} },
			want: [3]uint64{2, 1, 1},
		},
		{
			name: "SMB1 exposure",
			in:   []string{recSamba, recWin, recImpacket, recHidden, `{"ip":"198.18.0.7","status":"success","smb":{"dialect":"3.0"}}`},
			got:  func(s *Summary) any { return [3]uint64{s.SMB1Checked, s.SMB1Enabled, s.SMB1Only} },
			want: [3]uint64{4, 2, 1},
		},
		{
			name: "dialects, SMB1-only named",
			in:   []string{recSamba, recWin, recImpacket, recHidden},
			got:  func(s *Summary) any { return s.Dialects.Rows },
			want: rows("3.1.1", 2, "2.1", 1, "none (SMB1 only)", 1),
		},
		{
			name: "signing not required, SMB2 and SMB1",
			in:   []string{recSamba, recWin, recImpacket, recHidden},
			got:  func(s *Summary) any { return []any{s.SMB2Signing, s.Signing} },
			want: []any{uint64(3), Signing{SMB2NotRequired: 2, SMB1NotRequired: 2, AnyNotRequired: 3}},
		},
		{
			name: "ciphers, 3.1.1 without a context",
			in:   []string{recSamba, recWin, `{"ip":"198.18.0.8","status":"success","smb":{"dialect":"3.1.1"}}`, recHidden},
			got:  func(s *Summary) any { return s.Ciphers.Rows },
			want: rows("(no encryption context)", 1, "aes-128-gcm", 1, "aes-256-gcm", 1),
		},
		{
			name: "OS builds named (os_name, else the table), SMB1's NTLM as fallback",
			in: []string{recSamba, recWin, recImpacket, `{"ip":"198.18.0.8","status":"success","smb":{"dialect":"3.1.1","ntlm":{"os_version":"10.0.30000"}}}`, `{"ip":"198.18.0.9","status":"success","smb":{"dialect":"3.1.1","ntlm":{"os_version":"7.7.7"}}}`,
				`{"ip":"198.18.0.10","status":"success","smb":{"dialect":"3.1.1","ntlm":{"os_version":"10.0.26200","os_name":"Windows 11 25H2"}}}`},
			got: func(s *Summary) any { return s.OSBuilds.Rows },
			want: []Count{
				{Value: "10.0.20348", Label: "Windows Server 2022", N: 1},
				{Value: "10.0.26200", Label: "Windows 11 25H2", N: 1}, // the record's os_name
				{Value: "10.0.30000", Label: "Windows 10/11 or Server 2016+ (unlisted build)", N: 1},
				{Value: "255.255.65535", Label: "impacket smbserver", N: 1},
				{Value: "6.1.0", Label: "Samba (fixed VERSION 6.1.0)", N: 1},
				{Value: "7.7.7", N: 1},
			},
		},
		{
			name: "Samba versions and hidden Samba",
			in:   []string{recSamba, recSamba, recHidden, recWin},
			got:  func(s *Summary) any { return []any{s.Samba.Rows, s.SambaHidden} },
			want: []any{rows("Samba 4.17.12-Debian", 2), uint64(1)},
		},
		{
			name: "NetBIOS names",
			in:   []string{recSamba, recWin, recSamba},
			got:  func(s *Summary) any { return []any{s.Domains.Rows, s.Computers.Rows} },
			want: []any{rows("SRTEST", 2, "CORP", 1), rows("SRTESTSRV", 2, "DC01", 1)},
		},
		{
			name: "guest access",
			in: []string{
				`{"ip":"198.18.0.1","status":"success","smb":{"dialect":"3.1.1","guest":{"allowed":true,"encryption_required":true,"shares":["public","IPC$"]}}}`,
				`{"ip":"198.18.0.2","status":"success","smb":{"dialect":"3.1.1","guest":{"allowed":true,"shares":["IPC$"]}}}`,
				`{"ip":"198.18.0.3","status":"success","smb":{"dialect":"3.1.1","guest":{"allowed":false,"error":"STATUS_LOGON_FAILURE"}}}`,
				recWin,
			},
			got:  func(s *Summary) any { return []any{s.Guest, s.Shares.Rows} },
			want: []any{Guest{Tried: 3, Allowed: 2, EncryptionRequired: 1}, rows("IPC$", 2, "public", 1)},
		},
		{
			name: "suspects from flags and scan.flags, unknown fields ignored",
			in: []string{
				recImpacket,
				`{"ip":"198.18.0.5","status":"success","smb":{"dialect":"2.1","new_thing":[1,{"a":null}]},"flags":["honeypot-suspect","impacket-like"],"scan":{"ttl":64,"window":1024,"flags":["suspect-proxy"]},"extra":true}`,
				`{"ip":"198.18.0.6","status":"io-timeout","scan":{"flags":["suspect-proxy"]}}`,
			},
			got:  func(s *Summary) any { return []any{s.Records, s.Malformed, s.Suspect} },
			want: []any{uint64(3), uint64(0), Suspect{Honeypot: 1, ImpacketLike: 2, SYNProxy: 2, Any: 3}},
		},
		{
			name: "per-/16, v4-mapped counted as IPv4, IPv6 apart",
			in: []string{
				recSamba, recImpacket, recTimeout, recWin,
				`{"ip":"::ffff:198.19.200.1","status":"success","smb":{"dialect":"2.1"}}`,
				`{"ip":"2001:db8::1","status":"success","smb":{"dialect":"2.1"}}`,
			},
			got: func(s *Summary) any {
				return []any{s.TopPrefixes, s.Prefixes16, s.IPv6Records, s.Heat[198<<8|18], s.Heat[198<<8|19]}
			},
			want: []any{[]Prefix16{
				{Prefix: netip.MustParsePrefix("198.18.0.0/16"), SMB: 2, Records: 3},
				{Prefix: netip.MustParsePrefix("198.19.0.0/16"), SMB: 2, Records: 2},
			}, uint64(2), uint64(1), uint32(2), uint32(2)},
		},
		{
			name: "time range ignores bad timestamps",
			in:   []string{recSamba, recImpacket, recWin, `{"ip":"198.18.0.1","timestamp":"yesterday"}`},
			got:  func(s *Summary) any { return []time.Time{s.First, s.Last} },
			want: []time.Time{time.Date(2026, 11, 28, 5, 59, 0, 0, time.UTC), time.Date(2026, 11, 28, 6, 0, 5, 0, time.UTC)},
		},
		{
			name: "malformed lines counted with line numbers, blank lines skipped",
			in:   []string{recSamba, "", "not json", `{"ip":"198.18.0.1","port":"445"}`, "   ", `{"ip":"nope"}`, `{"ip":1}`, `{"status":"success"}`, `[1,2]`, `{"ip":"198.18.0.1"`, recWin},
			got: func(s *Summary) any {
				var ls []uint64
				for _, m := range s.MalformedLines {
					ls = append(ls, m.Line)
				}
				return []any{s.Lines, s.Records, s.Malformed, ls}
			},
			want: []any{uint64(11), uint64(2), uint64(7), []uint64{3, 4, 6, 7, 8, 9, 10}},
		},
		{
			name: "at most 20 malformed lines listed, all counted",
			in:   strings.Split(strings.Repeat("x\n", 30)+recWin, "\n"),
			got:  func(s *Summary) any { return []any{s.Malformed, len(s.MalformedLines), s.Records} },
			want: []any{uint64(30), 20, uint64(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := aggregate(t, nil, strings.Join(tt.in, "\n"))
			if diff := cmp.Diff(tt.want, tt.got(s), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTopAndOther(t *testing.T) {
	var in []string
	for i := range 5 {
		for range i + 1 {
			in = append(in, fmt.Sprintf(`{"ip":"198.18.0.1","status":"status-%d"}`, i))
		}
	}
	s := aggregate(t, &Config{Top: 2}, strings.Join(in, "\n"))
	want := Table{Rows: rows("status-4", 5, "status-3", 4), Other: 6, Total: 15}
	if diff := cmp.Diff(want, s.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if len(s.TopPrefixes) > 2 {
		t.Errorf("%d top prefixes, want at most 2", len(s.TopPrefixes))
	}
}

func TestMaxValuesOverflow(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		name := fmt.Sprintf("WIN-%d", i)
		if i%2 == 0 {
			name = "FILESRV"
		}
		fmt.Fprintf(&b, `{"ip":"198.18.0.1","status":"success","smb":{"dialect":"3.1.1","ntlm":{"netbios_computer":%q}}}`+"\n", name)
	}
	s := aggregate(t, &Config{MaxValues: 16}, b.String())
	c := s.Computers
	if !c.Overflowed || len(c.Rows) != 1 || c.Rows[0].Value != "FILESRV" {
		t.Fatalf("computers %+v", c)
	}
	if r := c.Rows[0]; r.N > 500 || r.N+r.Error < 500 {
		t.Errorf("FILESRV %d (+%d), true count 500", r.N, r.Error)
	}
	if c.Rows[0].N+c.Other != 1000 {
		t.Errorf("rows + other = %d, want 1000", c.Rows[0].N+c.Other)
	}
}

// TestReadFromLines covers the line reader: long lines, no final newline,
// CRLF, tiny reads.
func TestReadFromLines(t *testing.T) {
	long := `{"ip":"198.18.0.1","status":"success","smb":{"ntlm":{"netbios_computer":"` + strings.Repeat("A", 100<<10) + `"}}}`
	tooLong := `{"ip":"198.18.0.1","pad":"` + strings.Repeat("A", MaxLineLen) + `"}`
	tests := []struct {
		name      string
		in        string
		oneByte   bool
		records   uint64
		malformed []Malformed
	}{
		{"no final newline", recWin + "\n" + recSamba, false, 2, nil},
		{"crlf", recWin + "\r\n" + recSamba + "\r\n", false, 2, nil},
		{"line longer than the read buffer", recWin + "\n" + long + "\n" + recSamba + "\n", false, 3, nil},
		{"line longer than MaxLineLen", recWin + "\n" + tooLong + "\n" + recSamba + "\n", false, 2, []Malformed{{Line: 2, Err: fmt.Sprintf("longer than %d bytes", MaxLineLen)}}},
		{"too long at EOF", recWin + "\n" + tooLong, false, 1, []Malformed{{Line: 2, Err: fmt.Sprintf("longer than %d bytes", MaxLineLen)}}},
		{"one byte reads", recWin + "\nbad\n" + recSamba + "\n", true, 2, []Malformed{{Line: 2, Err: "invalid character 'b' looking for beginning of value"}}},
		{"empty", "", false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			a := New(nil)
			n, err := a.ReadFrom(r)
			if err != nil || n != int64(len(tt.in)) {
				t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, len(tt.in))
			}
			s := a.Summary()
			if s.Records != tt.records {
				t.Errorf("records %d, want %d", s.Records, tt.records)
			}
			if diff := cmp.Diff(tt.malformed, s.MalformedLines); diff != "" {
				t.Errorf("malformed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFromError(t *testing.T) {
	a := New(nil)
	r := io.MultiReader(strings.NewReader(recWin+"\n"), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err := a.ReadFrom(r)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want a read error naming line 2", err)
	}
	if a.Summary().Records != 1 {
		t.Errorf("records before the error not kept")
	}
}

func TestAddReturnsLineError(t *testing.T) {
	var logged bytes.Buffer
	a := New(&Config{Logf: func(f string, args ...any) { fmt.Fprintf(&logged, f, args...) }})
	if err := a.Add([]byte(recWin)); err != nil {
		t.Fatal(err)
	}
	err := a.Add([]byte("{"))
	if err == nil || !strings.HasPrefix(err.Error(), "report: line 2:") {
		t.Errorf("err = %v, want report: line 2: …", err)
	}
	if !strings.Contains(logged.String(), "line 2") {
		t.Errorf("Logf not told: %q", logged.String())
	}
}
