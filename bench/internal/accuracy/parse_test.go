package accuracy

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/lab"
)

// The testdata files are the three tools' outputs of one scan of a lab
// /24 with 5 % open and 5 % closed on 445 (ground-truth.json): smbsweep
// with --all (RST records too), ZMap -f saddr, masscan -oL ended by
// SIGINT before its last two replies.
func TestParseAndScore(t *testing.T) {
	gt, err := lab.ReadGroundTruth(filepath.Join("testdata", "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	open := gt.Open[445]
	if len(open) != 15 {
		t.Fatalf("ground truth has %d open, the testdata expects 15", len(open))
	}
	tests := []struct {
		name  string
		file  string
		text  string
		parse func(io.Reader) (hosts, error)
		want  score
		err   bool
	}{
		{name: "smbsweep, RST records ignored", file: "smbsweep.jsonl", parse: parseSmbsweep, want: score{found: 15}},
		{name: "zmap", file: "zmap.txt", parse: parseZmap, want: score{found: 15}},
		{name: "masscan", file: "masscan.txt", parse: parseMasscan, want: score{found: 13, missed: 2}},
		{name: "false positive", text: `{"ip":"198.18.0.3","status":"success"}`, parse: parseSmbsweep, want: score{missed: 15, falsePos: 1}},
		{name: "masscan truncated last line", text: "#masscan\nopen tcp 445 198.18.0.148 1795854518\nopen tc", parse: parseMasscan, want: score{found: 1, missed: 14}},
		{name: "smbsweep bad JSON", text: `{"ip":`, parse: parseSmbsweep, err: true},
		{name: "smbsweep bad address", text: `{"ip":"198.18.0.300","status":"success"}`, parse: parseSmbsweep, err: true},
		{name: "zmap bad address", text: "198.18.0.1\nnope\n", parse: parseZmap, err: true},
		{name: "masscan bad address", text: "open tcp 445 x 1\n", parse: parseMasscan, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.text)
			if tt.file != "" {
				f, err := os.Open(filepath.Join("testdata", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				r = f
			}
			got, err := tt.parse(r)
			if (err != nil) != tt.err {
				t.Fatalf("parse: %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, scoreOf(got, open), cmp.AllowUnexported(score{})); diff != "" {
				t.Fatalf("score (-want +got):\n%s", diff)
			}
		})
	}
}
