package endtoend

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/lab"
)

// testdata/ground-truth.json is the ground truth of `smbsweep lab up
// --samba --hostile --seed 3` (the section's lab); smbsweep.jsonl and
// zgrab2.jsonl are lines picked from one run of each tool over it.

func truth(t *testing.T) *Truth {
	t.Helper()
	g, err := lab.ReadGroundTruth("testdata/ground-truth.json")
	if err != nil {
		t.Fatal(err)
	}
	return NewTruth(g)
}

func TestTruth(t *testing.T) {
	tr := truth(t)
	got := struct {
		Open, SMB int
		AnyIP     string
	}{len(tr.Open), len(tr.SMB), tr.AnyIP.String()}
	// 652 drawn + 9 single-address servers on 445 + 256 AnyIP + 5 hostile
	// + 256 SYN proxy; SMB: the 9 servers and the AnyIP /24.
	want := struct {
		Open, SMB int
		AnyIP     string
	}{1178, 265, "198.18.254.0/24"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("truth (-want +got):\n%s", diff)
	}
}

func TestParseAndScore(t *testing.T) {
	tr := truth(t)
	tests := []struct {
		name  string
		file  string
		input string // used when file is ""
		want  Score
	}{
		{
			name: "smbsweep recorded", file: "testdata/smbsweep.jsonl",
			// 3 drawn hosts, 3 AnyIP (2 success, 1 io-timeout), 1 SYN
			// proxy, nt1 (success), the silent hostile host.
			want: Score{
				Hosts: Part{9, 1178}, HostsOutside: Part{6, 922}, HostsInside: Part{3, 256},
				SMB: Part{3, 265}, SMBOutside: Part{1, 9}, SMBInside: Part{2, 256},
			},
		},
		{
			name: "zgrab2 recorded", file: "testdata/zgrab2.jsonl",
			// 2 drawn hosts (no SMB), 2 AnyIP with smb_version, 1 SYN
			// proxy (connection-timeout), nt1 and smb1only.
			want: Score{
				Hosts: Part{7, 1178}, HostsOutside: Part{5, 922}, HostsInside: Part{2, 256},
				SMB: Part{4, 265}, SMBOutside: Part{2, 9}, SMBInside: Part{2, 256},
			},
		},
		{
			name: "smbsweep duplicate and extra",
			input: `{"ip":"198.18.254.9","status":"io-timeout"}
{"ip":"198.18.254.9","status":"success"}

{"ip":"198.19.0.1","status":"connection-refused"}
`,
			want: Score{
				Hosts: Part{1, 1178}, HostsOutside: Part{0, 922}, HostsInside: Part{1, 256},
				SMB: Part{1, 265}, SMBOutside: Part{0, 9}, SMBInside: Part{1, 256}, Extra: 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				f   Found
				err error
			)
			switch {
			case tt.file == "":
				f, err = ParseSmbsweep(strings.NewReader(tt.input))
			case strings.Contains(tt.file, "zgrab2"):
				r, _ := os.Open(tt.file)
				defer r.Close()
				f, err = ParseZgrab2(r)
			default:
				r, _ := os.Open(tt.file)
				defer r.Close()
				f, err = ParseSmbsweep(r)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tr.Score(f)); diff != "" {
				t.Errorf("score (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, input string
		zgrab2      bool
		want        string
	}{
		{name: "not json", input: "{\"ip\":\"198.18.0.1\"}\nnope\n", want: "smbsweep output line 2"},
		{name: "no ip", input: `{"status":"success"}`, want: "line 1: no ip"},
		{name: "zgrab2 bad ip", input: `{"ip":"x"}`, zgrab2: true, want: "zgrab2 output line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parse := ParseSmbsweep
			if tt.zgrab2 {
				parse = ParseZgrab2
			}
			_, err := parse(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	sc := func(hosts, inside, smb int) Score {
		return Score{
			Hosts: Part{hosts, 1178}, HostsOutside: Part{hosts - inside, 922}, HostsInside: Part{inside, 256},
			SMB: Part{smb, 265}, SMBInside: Part{smb - 9, 256}, SMBOutside: Part{9, 9},
		}
	}
	samples := []Sample{
		{Tool: toolSmbsweep, Setting: "defaults", Wall: 5.0, Exit: 5.1, Score: sc(1178, 256, 200)},
		{Tool: toolPeer, Setting: "defaults", Wall: 11.0, Exit: 11.0, Score: sc(1178, 256, 265)},
		{Tool: toolSmbsweep, Setting: "defaults", Wall: 6.0, Exit: 6.1, Score: sc(1170, 248, 190)},
		{Tool: toolPeer, Setting: "defaults", Wall: 10.0, Exit: 10.1, Score: sc(1178, 256, 265)},
		{Tool: toolSmbsweep, Setting: "defaults", Wall: 5.5, Exit: 5.6, Score: sc(1178, 256, 210)},
		{Tool: toolPeer, Setting: "defaults", Err: "zgrab2: exit status 1", Wall: math.NaN(), Exit: math.NaN()},
	}
	sets := []setting{{"defaults", "both tools' defaults"}}
	sec := report(sets, nil, samples, true, "preamble\n", nil)
	wantGoals := []benchkit.Goal{
		// medians: 5.5 s vs 10.5 s (the failed peer run left out).
		{Issue: 6, Goal: "smbsweep run ≥ 2× faster end to end than zmap | zgrab2 smb on the /16 lab",
			Measured: "defaults: 5.50 s vs 10.50 s (medians of 3) = 1.91×", Met: false},
		{Issue: 6, Goal: "same or better recall than zmap | zgrab2 smb on the /16 lab",
			Measured: "defaults: hosts 1178 vs 1178 of 1178 (inside AnyIP 256 vs 256); SMB 200 vs 265 of 265", Met: false},
	}
	if diff := cmp.Diff(wantGoals, sec.Goals); diff != "" {
		t.Errorf("goals (-want +got):\n%s", diff)
	}
	row := "| defaults | smbsweep run | **5.50 s (5.00–6.00)** | 5.60 s (5.10–6.10) | 1178 (1170–1178) of 1178 | 922 of 922 |"
	if !strings.Contains(sec.Markdown, row) {
		t.Errorf("markdown lacks the row %q:\n%s", row, sec.Markdown)
	}
	if !strings.Contains(sec.Markdown, "| defaults | zmap \\| zgrab2 smb | **10.50 s (10.00–11.00)** |") {
		t.Errorf("markdown lacks the peer's row, its pipe escaped:\n%s", sec.Markdown)
	}
	wantPlot := []benchkit.Series{
		{Name: toolSmbsweep, Y: []float64{5.5}, Low: []float64{5}, High: []float64{6}},
		{Name: toolPeer, Y: []float64{10.5}, Low: []float64{10}, High: []float64{11}},
	}
	if diff := cmp.Diff(wantPlot, sec.Plots[0].Series); diff != "" {
		t.Errorf("plot (-want +got):\n%s", diff)
	}

	missing := report(sets, nil, samples[:1], false, "", nil)
	if missing.Goals[0].Met || !strings.Contains(missing.Goals[0].Measured, "peer missing") {
		t.Errorf("without the peer: goal %+v", missing.Goals[0])
	}
}
