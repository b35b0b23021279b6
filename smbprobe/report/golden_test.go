package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleSummary aggregates testdata/sample.jsonl: the prober's own records
// for the captured servers of smbprobe/testdata/resp (addresses moved into
// 198.18.0.0/15), a hostile record, a 'run' record with scan facts and
// unknown fields, failures, an IPv6 record and malformed lines.
func sampleSummary(t testing.TB) *Summary {
	t.Helper()
	f, err := os.Open("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := New(nil)
	if _, err := a.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	s := a.Summary()
	s.Source = "sample.jsonl"
	return s
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	s := sampleSummary(t)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"sample.txt", func(b *bytes.Buffer) error { return s.WriteText(b) }},
		{"sample.html", func(b *bytes.Buffer) error { return s.WriteHTML(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

// TestHTMLEscapesHostileNames: names from NTLM, NativeLanMan and share
// lists are attacker-controlled; none may reach the page as markup, and
// the page itself has no scripts or external references at all.
func TestHTMLEscapesHostileNames(t *testing.T) {
	var b bytes.Buffer
	if err := sampleSummary(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<img src=x", "\x1b", "http://", "https://", "//cdn", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",           // NetBIOS computer
		"Samba &lt;script&gt;alert(&#39;lanman&#39;)&lt;", // NativeLanMan
		"&lt;img src=x onerror=alert(2)&gt;",              // share name
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped %q", want)
		}
	}
}

// TestTextEscapesControls: the text summary goes to a terminal; an escape
// sequence in a name must be printed, not obeyed.
func TestTextEscapesControls(t *testing.T) {
	var b bytes.Buffer
	if err := sampleSummary(t).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), 0x1b) {
		t.Error("text summary contains a raw ESC")
	}
	if !strings.Contains(b.String(), `EVIL\x1b[31mRED\x1b[0m`) {
		t.Errorf("escaped domain missing from:\n%s", b.String())
	}
}

func TestSafe(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Samba 4.17.12-Debian", "Samba 4.17.12-Debian"},
		{"unicode", "Serveur-Réseau", "Serveur-Réseau"},
		{"esc", "A\x1b[2JB", `A\x1b[2JB`},
		{"newline", "a\nb", `a\nb`},
		{"bidi override", "a\u202eb", `a\u202eb`},
		{"invalid utf8", "a\xffb", `a\xffb`},
		{"nul", "a\x00", `a\x00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, safe(tt.in)); diff != "" {
				t.Errorf("safe (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {123456, "123,456"}, {10000000, "10,000,000"}, {1<<64 - 1, "18,446,744,073,709,551,615"}}
	for _, tt := range tests {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
