package report

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeFast checks the fast path against encoding/json: whenever it
// accepts a line, encoding/json accepts it too and decodes the same record.
func FuzzDecodeFast(f *testing.F) {
	addSeeds(f)
	r := newSynthReader(64, 9)
	for range 64 {
		f.Add(r.next(nil))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast record
		if !decodeFast(line, &fast) {
			return
		}
		var ref record
		if err := json.Unmarshal(line, &ref); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, line)
		}
		if diff := cmp.Diff(ref, fast); diff != "" {
			t.Fatalf("fast path disagrees with encoding/json (-json +fast):\n%s\n%q", diff, line)
		}
	})
}

// TestDecodeFastCoverage: the fast path must take the common shapes (every
// synthetic record, the prober's own records), or it is only overhead; and
// it must refuse what it cannot decode exactly.
func TestDecodeFastCoverage(t *testing.T) {
	r := newSynthReader(2000, 5)
	for i := range 2000 {
		line := r.next(nil)
		if i%2 == 1 {
			line = r.nextHostile(nil)
		}
		if !decodeFast(line, new(record)) {
			t.Fatalf("fast path refused synthetic record %q", line)
		}
	}
	sample, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(sample, []byte("\n"))[:13] { // the captured servers' records
		if !decodeFast(line, new(record)) {
			t.Errorf("fast path refused sample line %d", i+1)
		}
	}
	tests := []struct{ name, in string }{
		{"escape in a decoded string", `{"ip":"198.18.0.1","status":"succ\u0065ss"}`},
		{"non-ASCII in a decoded string", `{"ip":"198.18.0.1","smb":{"ntlm":{"netbios_computer":"Ré"}}}`},
		{"upper-case key (json folds case)", `{"IP":"198.18.0.1"}`},
		{"duplicate key", `{"ip":"198.18.0.1","ip":"198.18.0.2"}`},
		{"port out of range", `{"ip":"198.18.0.1","port":65536}`},
		{"port with exponent", `{"ip":"198.18.0.1","port":4e2}`},
		{"wrong type", `{"ip":"198.18.0.1","smb":{"smb1":{"enabled":1}}}`},
		{"bad skipped number", `{"ip":"198.18.0.1","x":01}`},
		{"bad skipped escape", `{"ip":"198.18.0.1","x":"\q"}`},
		{"control character", "{\"ip\":\"198.18.0.1\",\"x\":\"a\tb\"}"},
		{"trailing garbage", `{"ip":"198.18.0.1"} x`},
		{"not an object", `["198.18.0.1"]`},
		{"truncated", `{"ip":"198.18.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if decodeFast([]byte(tt.in), new(record)) {
				t.Errorf("fast path accepted %s", tt.in)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	line := newSynthReader(1, 1).next(nil)
	for len(line) < 1000 { // a full Windows record
		line = newSynthReader(1, uint64(len(line))).next(nil)
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			var r record
			if !decodeFast(line, &r) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for b.Loop() {
			var r record
			if err := json.Unmarshal(line, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
