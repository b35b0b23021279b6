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
// SIGINT before its last two replies (it still wrote "# end").
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
		{name: "masscan cut short", text: "#masscan\nopen tcp 445 198.18.0.148 1795854518\nopen tcp 445 198.18.", parse: parseMasscan, err: true},
		{name: "masscan without end", text: "#masscan\nopen tcp 445 198.18.0.148 1795854518\n", parse: parseMasscan, err: true},
		{name: "masscan short line", text: "#masscan\nopen tc\n# end\n", parse: parseMasscan, err: true},
		{name: "smbsweep bad JSON", text: `{"ip":`, parse: parseSmbsweep, err: true},
		{name: "smbsweep bad address", text: `{"ip":"198.18.0.300","status":"success"}`, parse: parseSmbsweep, err: true},
		{name: "zmap bad address", text: "198.18.0.1\nnope\n", parse: parseZmap, err: true},
		{name: "masscan bad address", text: "open tcp 445 x 1\n# end\n", parse: parseMasscan, err: true},
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

func TestScanners(t *testing.T) {
	l := link{ifname: "eth0", srcIP: "192.0.2.2", srcMAC: "02:53:4d:42:00:02", gwMAC: "02:53:4d:42:00:01", target: "198.18.0.0/16"}
	name := func(ss []scanner) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.tool+" "+rateName(s.rate))
		}
		return out
	}
	full := params{rates: []float64{1e5, 0}, probeRates: []float64{1e5, 0}, repeats: 2}
	quick := params{rates: []float64{0}, probeRates: []float64{0}, repeats: 1, quick: true}
	tests := []struct {
		name string
		p    params
		cond string
		want []string
	}{
		{"clean: one probe each", full, clean, []string{"smbsweep 100k", "zmap 100k", "masscan 100k", "smbsweep unlimited", "zmap unlimited", "masscan unlimited"}},
		{"loss: two probes at the probe rates, masscan's only when limited", full, lossy, []string{"smbsweep 100k", "zmap 100k", "masscan 100k",
			"smbsweep -P 2 100k", "zmap -P 2 100k", "masscan --retries 1 100k",
			"smbsweep unlimited", "zmap unlimited", "masscan unlimited", "smbsweep -P 2 unlimited", "zmap -P 2 unlimited"}},
		{"quick loss", quick, lossy, []string{"smbsweep unlimited", "zmap unlimited", "masscan unlimited", "smbsweep -P 2 unlimited", "zmap -P 2 unlimited"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, name(scanners(tt.p, tt.cond, l, "smbsweep", "EMPTY", true, true))); diff != "" {
				t.Fatalf("scanners (-want +got):\n%s", diff)
			}
		})
	}
	ss := scanners(quick, lossy, l, "smbsweep", "EMPTY", true, true)
	if got, want := strings.Join(ss[3].argv("OUT"), " "), "smbsweep scan --yes -q --allow-reserved -i eth0 -S 192.0.2.2 -G 02:53:4d:42:00:01 -r 0 -P 2 -p 445 -c 1 -o OUT 198.18.0.0/16"; got != want {
		t.Errorf("smbsweep -P 2 command:\n got %s\nwant %s", got, want)
	}
	if ss[2].done != masscanDone {
		t.Errorf("masscan's done marker %q, want %q", ss[2].done, masscanDone)
	}
}

func TestGoals(t *testing.T) {
	mk := func(tool, cond string, rate float64, runs ...outcome) row {
		return row{scanner: scanner{tool: tool, cond: cond, rate: rate}, runs: runs}
	}
	ok := func(found, fp int) outcome {
		return outcome{score: score{found: found, missed: 100 - found, falsePos: fp}}
	}
	tests := []struct {
		name string
		rows []row
		want []bool
	}{
		{"all found, ≥ 99 % under loss", []row{
			mk("smbsweep", clean, 0, ok(100, 0), ok(100, 0)),
			mk("zmap", clean, 0, ok(90, 0)),
			mk("smbsweep -P 2", lossy, 0, ok(99, 0), ok(100, 0)),
		}, []bool{true, true}},
		{"one run missed one, one false positive under loss", []row{
			mk("smbsweep", clean, 0, ok(100, 0), ok(99, 0)),
			mk("smbsweep -P 2", lossy, 0, ok(100, 1)),
		}, []bool{false, false}},
		{"a failed run fails the goal", []row{
			mk("smbsweep", clean, 0, ok(100, 0), outcome{err: io.ErrUnexpectedEOF}),
		}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			for _, g := range goals(params{}, tt.rows, 100) {
				got = append(got, g.Met)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("goals met (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParse checks that the three output parsers never panic, and that
// whatever they accept scores consistently against the testdata's truth.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"smbsweep.jsonl", "zmap.txt", "masscan.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	gt, err := lab.ReadGroundTruth(filepath.Join("testdata", "ground-truth.json"))
	if err != nil {
		f.Fatal(err)
	}
	open := gt.Open[445]
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func(io.Reader) (hosts, error){parseSmbsweep, parseZmap, parseMasscan} {
			h, err := parse(strings.NewReader(string(b)))
			if err != nil {
				continue
			}
			s := scoreOf(h, open)
			if s.found+s.missed != len(open) || s.found+s.falsePos != len(h) {
				t.Fatalf("score %+v inconsistent with %d open and %d reported", s, len(open), len(h))
			}
		}
	})
}
