package smb

import (
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/chart"
	"github.com/smbsweep/smbsweep/lab"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testStatus(t *testing.T) lab.Status {
	t.Helper()
	var st lab.Status
	if err := json.Unmarshal(readTestdata(t, "status.json"), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestGrade scores outputs recorded on the lab's Samba matrix (lab up
// --samba, 2026-11-28) against its ground truth; the wanted cells are
// those of smbprobe/internal/labcompare/analyze.py on the same files.
// status.json is as recorded except impacket's expect.guest, set to the
// lab's corrected ground truth (its share PUBLIC is guest-readable).
func TestGrade(t *testing.T) {
	servers := matrixServers(testStatus(t))
	tests := []struct {
		name     string
		file     string
		parse    func([]byte) (map[netip.Addr]facts, error)
		answered int
		right    int
		cells    map[string]string // address → cell
	}{
		{"smbsweep", "smbsweep-matrix.jsonl", smbsweepFacts, 9, 27, map[string]string{
			"198.18.3.1": "YYY--", "198.18.3.2": "YYY--", "198.18.3.3": "YYY--", "198.18.3.4": "YYY--", "198.18.3.5": "YYY--",
			"198.18.3.6": "YYY--", "198.18.3.7": "YYY--", "198.18.3.8": "YYY--", "198.18.3.20": "YYY--"}},
		{"smbsweep --smb-shares", "smbsweep-shares-matrix.jsonl", smbsweepFacts, 9, 45, map[string]string{
			"198.18.3.1": "YYYYY", "198.18.3.2": "YYYYY", "198.18.3.3": "YYYYY", "198.18.3.4": "YYYYY", "198.18.3.5": "YYYYY",
			"198.18.3.6": "YYYYY", "198.18.3.7": "YYYYY", "198.18.3.8": "YYYYY", "198.18.3.20": "YYYYY"}},
		{"zgrab2", "zgrab2-matrix.jsonl", zgrab2Facts, 9, 16, map[string]string{
			"198.18.3.1": "xYx--", "198.18.3.2": "YYx--", "198.18.3.3": "x-x--", "198.18.3.4": "YYY--", "198.18.3.5": "YYx--",
			"198.18.3.6": "YYx--", "198.18.3.7": "Y-Y--", "198.18.3.8": "YYx--", "198.18.3.20": "Y-Y--"}},
		{"nmap", "nmap-matrix.xml", nmapFacts, 9, 28, map[string]string{
			"198.18.3.1": "YYYx-", "198.18.3.2": "YYY--", "198.18.3.3": "YYY--", "198.18.3.4": "YYY--", "198.18.3.5": "YYY--",
			"198.18.3.6": "YYY--", "198.18.3.7": "YYYx-", "198.18.3.8": "YYY--", "198.18.3.20": "YYYY-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := tt.parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := answered(fs); got != tt.answered {
				t.Errorf("answered = %d, want %d", got, tt.answered)
			}
			sc := grade(servers, fs)
			got := map[string]string{}
			for a, c := range sc.Cells {
				got[a.String()] = c
			}
			if diff := cmp.Diff(tt.cells, got); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			if sc.Right != tt.right || sc.Total != 45 {
				t.Errorf("score = %d/%d, want %d/45", sc.Right, sc.Total, tt.right)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) (map[netip.Addr]facts, error)
		in    string
	}{
		{"smbsweep not json", smbsweepFacts, "{\"ip\":\"198.18.0.1\"}\nnot json\n"},
		{"smbsweep bad ip", smbsweepFacts, "{\"ip\":\"nope\",\"status\":\"success\"}\n"},
		{"zgrab2 not json", zgrab2Facts, "{"},
		{"nmap truncated", nmapFacts, "<nmaprun><host><address addr=\"198.18.0.1\"/>"},
		{"nmap bad address", nmapFacts, "<nmaprun><host><address addr=\"x\"/></host></nmaprun>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.parse([]byte(tt.in)); err == nil {
				t.Errorf("no error for %q", tt.in)
			}
		})
	}
}

func TestParseBench(t *testing.T) {
	h, c, errs := parseBench(readTestdata(t, "replay-bench.txt"), "BenchmarkRunReplayTCP")
	if errs != "" {
		t.Fatal(errs)
	}
	// Recorded by the section's quick run (bench-smb out/replay-bench.txt).
	if diff := cmp.Diff([]float64{1101}, h); diff != "" {
		t.Errorf("hosts/s (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{460.2}, c); diff != "" {
		t.Errorf("cpu-µs/host (-want +got):\n%s", diff)
	}
	if _, _, errs := parseBench([]byte("PASS\nok x 1s\n"), "BenchmarkRunReplayTCP"); errs == "" {
		t.Error("no error without result lines")
	}
}

func TestParseSilent(t *testing.T) {
	got, errs := parseSilent(readTestdata(t, "silentbench.txt"))
	if errs != "" || got != 696948 {
		t.Errorf("parseSilent = %v, %q; want 696948", got, errs)
	}
	if _, errs := parseSilent([]byte("hosts=1 VmHWM=n/a\n")); errs == "" {
		t.Error("no error for VmHWM=n/a")
	}
}

// TestRenderGoals checks the goal verdicts and the tables on a report
// with known medians.
func TestRenderGoals(t *testing.T) {
	st := testStatus(t)
	servers := matrixServers(st)
	b := bins{smbsweep: "/x/smbsweep", zgrab2: "/x/zgrab2", nmap: true, empty: "/x/empty"}
	p := params{repeats: 3, raised: true, nmapHosts: 32, silent: true}
	r := &report{p: p, samples: map[string][]sample{}, servers: servers,
		silent: silentResult{peakKiB: 600 << 10}, replay: replayResult{hostsPerS: []float64{441}, cpuUs: []float64{585}}}
	// wall s, CPU ms/host per tool name.
	figs := map[string][2]float64{
		nameSmbsweep: {3.0, 0.6}, nameSmbsweepTuned: {2.5, 0.9}, nameZgrab2: {2.0, 1.4}, nameZgrab2Tuned: {1.5, 1.3},
		nameShares: {0.3, 3}, nameNmap: {11, 40},
	}
	for _, l := range []string{labStock, labRaised} {
		for _, c := range configs(l, p, b) {
			r.configs = append(r.configs, c)
			f := figs[c.name]
			hosts := 256
			if c.set == setMatrix {
				hosts = 9
				if c.name == nameSmbsweep {
					f = [2]float64{0.1, 1.5}
				}
			}
			for i := range 3 {
				d := float64(i-1) * 0.1 // spread around the median
				r.samples[c.key()] = append(r.samples[c.key()], sample{wall: f[0] + d, cpuMs: f[1] + d/10, rssMiB: 20, answered: float64(hosts), hosts: hosts})
			}
		}
	}
	fs := map[netip.Addr]facts{}
	for _, s := range servers {
		w := want(s)
		fs[s.Address] = facts{OK: true, SMB1: ptr(w[0]), SignReq: ptr(w[1]), SMB311: ptr(w[2]), Guest: ptr(w[3]), Enc: ptr(w[4])}
	}
	r.matrix = []matrixResult{{name: nameShares, score: grade(servers, fs)}}

	sec := render(r, strings.NewReplacer())
	got := map[string]bool{}
	for _, g := range sec.Goals {
		got[g.Goal] = g.Met
	}
	want := map[string]bool{
		"client CPU per host ≤ 0.5× zgrab2's (256 AnyIP hosts)":                                    true,  // 0.6/1.4
		"wall time ≤ zgrab2's on the same Samba hosts (256 AnyIP, one smbd)":                       false, // 3.0/2.0
		"≥ 8× faster than nmap in wall time":                                                       true,  // 11/0.1
		"≥ 20× less client CPU than nmap":                                                          true,  // 40/1.5
		"every correctness cell right (SMB1, signing required, 3.1.1, guest, encryption required)": true,
		"50,000 concurrent probes against silent hosts in < 1 GiB RSS":                             true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("goals met (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		"| stock | anyip (256) | smbsweep | 3.00 [2.90–3.10] | 85 [83–88] | 0.60 [0.59–0.61] | 20 [20–20] | 256/256/256 of 256 |",
		"| **right** | | 45/45 |",
		"0.43×", // CPU ratio in the goal's measured text
	} {
		if !strings.Contains(sec.Markdown, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, sec.Markdown)
		}
	}
	if len(sec.Plots) != 2 {
		t.Fatalf("%d plots, want 2", len(sec.Plots))
	}
	for _, pl := range sec.Plots {
		for _, s := range pl.Series {
			if len(s.Y) != len(pl.Labels) {
				t.Errorf("%s: series %s has %d values for %d labels", pl.File, s.Name, len(s.Y), len(pl.Labels))
			}
		}
	}
	hps := sec.Plots[0].Series[0].Y[0] // stock AnyIP, smbsweep
	if math.Abs(hps-256/3.0) > 0.01 {
		t.Errorf("hosts/s of smbsweep = %v, want %v", hps, 256/3.0)
	}
	// The harness draws the plots with package chart: they must draw,
	// NaN bars (a tool not run on a set) included.
	dir := t.TempDir()
	for i := range sec.Plots {
		if err := chart.Draw(&sec.Plots[i], dir); err != nil {
			t.Errorf("chart.Draw(%s): %v", sec.Plots[i].File, err)
		}
	}
	var _ benchkit.Runner = Run
}
