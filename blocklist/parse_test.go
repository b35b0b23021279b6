package blocklist

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// parseTests are shared with FuzzParse as its seed corpus.
var parseTests = []struct {
	name    string
	in      string
	want    string // String() of the result, when err is ""
	wantErr string
}{
	{name: "empty", in: "", want: ""},
	{name: "blank and comments", in: "\n  \n# a comment\n\t# indented comment\n", want: ""},
	{name: "cidr", in: "1.2.3.0/24\n", want: "1.2.3.0/24\n"},
	{name: "single address", in: "1.2.3.4", want: "1.2.3.4/32\n"},
	{name: "range", in: "1.2.3.4-1.2.3.7", want: "1.2.3.4/30\n"},
	{name: "one-address range", in: "1.2.3.4-1.2.3.4", want: "1.2.3.4/32\n"},
	{name: "host bits masked", in: "1.2.3.4/24", want: "1.2.3.0/24\n"},
	{name: "trailing comment", in: "1.2.3.0/24 # opt-out 2026-01-02\n", want: "1.2.3.0/24\n"},
	{name: "comment without space", in: "1.2.3.4#x", want: "1.2.3.4/32\n"},
	{name: "surrounding whitespace", in: " \t1.2.3.4 \t\n", want: "1.2.3.4/32\n"},
	{name: "crlf", in: "1.2.3.4\r\n1.2.3.5\r\n", want: "1.2.3.4/31\n"},
	{name: "bom", in: "\ufeff1.2.3.4\n", want: "1.2.3.4/32\n"},
	{name: "merged", in: "1.2.3.0/25\n1.2.3.128/25\n1.2.3.7\n", want: "1.2.3.0/24\n"},
	{name: "whole internet", in: "0.0.0.0/0", want: "0.0.0.0/0\n"},
	{name: "edges", in: "0.0.0.0\n255.255.255.255/32", want: "0.0.0.0/32\n255.255.255.255/32\n"},

	{name: "bad prefix length", in: "# x\n1.2.3.4/33\n", wantErr: `test:2: invalid prefix "1.2.3.4/33"`},
	{name: "bad prefix address", in: "1.2.3/24", wantErr: `test:1: invalid prefix "1.2.3/24"`},
	{name: "empty prefix length", in: "1.2.3.4/", wantErr: `test:1: invalid prefix "1.2.3.4/"`},
	{name: "ipv6 prefix", in: "2001:db8::/32", wantErr: `test:1: invalid prefix "2001:db8::/32"`},
	{name: "4in6 prefix", in: "::ffff:1.2.3.0/120", wantErr: `test:1: invalid prefix "::ffff:1.2.3.0/120"`},
	{name: "bad address", in: "1.2.3.256", wantErr: `test:1: invalid address "1.2.3.256"`},
	{name: "leading zero", in: "01.2.3.4", wantErr: `test:1: invalid address "01.2.3.4"`},
	{name: "ipv6 address", in: "::1", wantErr: `test:1: invalid address "::1"`},
	{name: "zoned address", in: "fe80::1%eth0", wantErr: `test:1: invalid address "fe80::1%eth0"`},
	{name: "hostname", in: "example.com", wantErr: `test:1: invalid address "example.com"`},
	{name: "two entries", in: "1.2.3.4 1.2.3.5", wantErr: `test:1: more than one entry on a line "1.2.3.4 1.2.3.5"`},
	{name: "reversed range", in: "1.2.3.9-1.2.3.4", wantErr: `test:1: invalid range "1.2.3.9-1.2.3.4": first address after last`},
	{name: "half range", in: "1.2.3.4-", wantErr: `test:1: invalid range "1.2.3.4-"`},
	{name: "spaced range", in: "1.2.3.4 - 1.2.3.9", wantErr: `test:1: more than one entry on a line "1.2.3.4 - 1.2.3.9"`},
	{name: "three-part range", in: "1.2.3.4-1.2.3.5-1.2.3.6", wantErr: `test:1: invalid range "1.2.3.4-1.2.3.5-1.2.3.6"`},
	{name: "cidr range", in: "1.2.3.0/24-1.2.4.0/24", wantErr: `test:1: invalid prefix "1.2.3.0/24-1.2.4.0/24"`},
	{name: "error after good lines", in: "1.2.3.4\n\n# c\n5.6.7.8\nbogus\n9.9.9.9", wantErr: `test:5: invalid address "bogus"`},
	{name: "long line", in: "1.2.3.4\n" + strings.Repeat(" ", MaxLineLen+1) + "\n", wantErr: `test:2: line longer than 4096 bytes`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tt.in), "test")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse succeeded with %q, want error %q", s, tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Fatalf("unexpected error (-want +got):\n%s", diff)
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not a *ParseError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, s.String()); diff != "" {
				t.Fatalf("unexpected set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(io.MultiReader(strings.NewReader("1.2.3.4\n"), iotest.ErrReader(boom)), "x.conf")
	if !errors.Is(err, boom) {
		t.Fatalf("Parse error = %v, want it to wrap %v", err, boom)
	}
	if got, want := err.Error(), "blocklist: reading x.conf: boom"; got != want {
		t.Fatalf("Parse error = %q, want %q", got, want)
	}
}

func TestParseFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.conf")
	b := filepath.Join(dir, "optout.conf")
	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, a, "1.2.3.0/24\n")
	writeFile(t, b, "1.2.4.0/24\n10.0.0.1\n")
	writeFile(t, bad, "1.2.3.4\n1.2.3.4/33\n")

	s, err := ParseFiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("1.2.3.0/24\n1.2.4.0/24\n10.0.0.1/32\n", s.String()); diff != "" {
		t.Fatalf("unexpected union (-want +got):\n%s", diff)
	}
	if s, err := ParseFiles(); err != nil || s.Count() != 0 {
		t.Fatalf("ParseFiles() = %v, %v; want empty set", s, err)
	}

	_, err = ParseFiles(a, bad)
	if diff := cmp.Diff(bad+`:2: invalid prefix "1.2.3.4/33"`, errString(err)); diff != "" {
		t.Fatalf("unexpected error (-want +got):\n%s", diff)
	}
	_, err = ParseFile(filepath.Join(dir, "missing.conf"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "blocklist: open ") {
		t.Fatalf("ParseFile(missing) error = %v, want a wrapped os.ErrNotExist naming the operation", err)
	}
}

func TestParseMatchesFromPrefixes(t *testing.T) {
	// Host bits: ZMap masks them, and so do Parse and FromPrefixes.
	p := netip.MustParsePrefix("192.0.2.77/26")
	if got, want := mustParse(t, p.String()), FromPrefixes(p); !got.Equal(want) {
		t.Fatalf("Parse(%v) = %v, want %v", p, got, want)
	}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
