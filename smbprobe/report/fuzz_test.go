package report

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	sample, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range bytes.Split(sample, []byte("\n")) {
		f.Add(l)
	}
	f.Add(sample)
	f.Add([]byte("\n\n{\"ip\":\"198.18.0.1\"}\r\n{"))
}

// FuzzReadFrom feeds arbitrary bytes as a results file: it never panics,
// every line is either blank, a record or malformed, a line is a record
// exactly when encoding/json accepts it with a valid ip, and both
// renderings work with no markup from the input.
func FuzzReadFrom(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a := New(&Config{Top: 3, MaxValues: 4})
		n, err := a.ReadFrom(bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, len(data))
		}
		s := a.Summary()

		var lines, records, blank uint64
		rest := data
		for len(rest) > 0 {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			lines++
			if len(bytes.TrimSpace(line)) == 0 {
				blank++
				continue
			}
			var r record
			if json.Unmarshal(line, &r) == nil && validIP(r.IP) {
				records++
			}
		}
		if s.Lines != lines || s.Records != records || s.Malformed != lines-records-blank {
			t.Fatalf("lines %d records %d malformed %d; want %d, %d, %d", s.Lines, s.Records, s.Malformed, lines, records, lines-records-blank)
		}
		for _, tb := range []Table{s.Status, s.Dialects, s.Computers, s.Flags} {
			var sum uint64
			for _, r := range tb.Rows {
				sum += r.N
			}
			if sum+tb.Other != tb.Total {
				t.Fatalf("table rows %d + other %d != total %d", sum, tb.Other, tb.Total)
			}
		}
		var page bytes.Buffer
		if err := s.WriteHTML(&page); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(page.String()), "<script") {
			t.Fatal("page contains <script")
		}
		if err := s.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzAdd checks one line: Add reports an error exactly when the line is
// not blank and not a record.
func FuzzAdd(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		a := New(&Config{MaxValues: 2})
		err := a.Add(line)
		var r record
		isRecord := json.Unmarshal(bytes.TrimSpace(line), &r) == nil && validIP(r.IP)
		blank := len(bytes.TrimSpace(line)) == 0
		if (err == nil) != (isRecord || blank) {
			t.Fatalf("Add error %v, but record %v blank %v", err, isRecord, blank)
		}
		s := a.Summary()
		if s.Lines != 1 || s.Records+s.Malformed != map[bool]uint64{true: 0, false: 1}[blank] {
			t.Fatalf("lines %d records %d malformed %d", s.Lines, s.Records, s.Malformed)
		}
	})
}

// validIP is what makes a JSON object a record.
func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
