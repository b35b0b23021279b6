package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

func testResults() []result {
	return []result{
		{entry: entry{name: "transmit", title: "Transmit", issue: 4, full: 4 * time.Minute, quick: 45 * time.Second},
			elapsed: 200 * time.Second,
			section: &benchkit.Section{Name: "transmit", Title: "Transmit: pps", Markdown: "table | here\n",
				Goals: []benchkit.Goal{
					{Issue: 4, Goal: "≥ 1.3 × peer", Measured: "1.5× | zmap", Met: true},
					{Issue: 4, Goal: "≥ 90 % of C", Measured: "80 %", Met: false},
				},
				Plots: []benchkit.Plot{{File: "t.svg", Title: "pps", Kind: "bar", Labels: []string{"a"}, Series: []benchkit.Series{{Name: "s", Y: []float64{1}}}}},
			}},
		{entry: entry{name: "smb", title: "SMB probe", issue: 5}, missing: true},
		{entry: entry{name: "micro", title: "Go micro-benchmarks", issue: 2, full: 2 * time.Minute}, err: errors.New("go test: exit 1")},
	}
}

func TestGoalsMarkdown(t *testing.T) {
	want := "| issue | goal | measured | |\n| --- | --- | --- | --- |\n" +
		"| #4 | ≥ 1.3 × peer | 1.5× \\| zmap | met |\n" +
		"| #4 | ≥ 90 % of C | 80 % | **not met** |\n" +
		"| #5 | SMB probe | section missing from the harness | — |\n" +
		"| #2 | Go micro-benchmarks | section failed: go test: exit 1 | — |\n"
	if diff := cmp.Diff(want, goalsMarkdown(testResults())); diff != "" {
		t.Fatalf("goals table (-want +got):\n%s", diff)
	}
}

func TestSectionMarkdown(t *testing.T) {
	m := &machine{Commit: "abc123", Date: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	rs := testResults()
	tests := []struct {
		name  string
		r     *result
		quick bool
		want  []string
	}{
		{"measured", &rs[0], false, []string{
			"## Transmit: pps\n",
			"_Measured by `bench/cmd/bench` (section `transmit`, abc123) on 2026-11-28 09:00 UTC, in 200 s (allocated 240 s)._",
			"table | here\n",
			"![pps](plots/t.svg)",
		}},
		{"quick", &rs[0], true, []string{"`bench/cmd/bench` -quick", "(allocated 45 s)"}},
		{"missing", &rs[1], false, []string{"## SMB probe\n", "**Missing**: package bench/internal/smb"}},
		{"failed", &rs[2], false, []string{"**Failed** after 0 s: go test: exit 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sectionMarkdown(tt.r, m, tt.quick, nil)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestWriteAll(t *testing.T) {
	out, plots := t.TempDir(), t.TempDir()
	m := &machine{Commit: "abc123", CPU: "AMD EPYC", Cores: "2", Tools: []string{"zmap 2.1.1"}}
	if err := writeAll(out, plots, m, testResults(), &config{}, fullBudget); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"transmit.md", "smb.md", "micro.md", "machine.md", "goals.md"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, want a non-empty file", f, err)
		}
	}
	if st, err := os.Stat(filepath.Join(plots, "t.svg")); err != nil || st.Size() < 1000 {
		t.Errorf("plot t.svg: %v, want a drawn file", err)
	}
	machine, _ := os.ReadFile(filepath.Join(out, "machine.md"))
	for _, w := range []string{"| CPU | AMD EPYC (lscpu Model name), 2 cores (nproc) |", "| transmit | 200 s | 240 s | measured |", "| smb | 0 s | 0 s | missing |"} {
		if !strings.Contains(string(machine), w) {
			t.Errorf("machine.md lacks %q:\n%s", w, machine)
		}
	}

	// A partial run (-only) writes its sections only.
	out2 := t.TempDir()
	if err := writeAll(out2, plots, m, testResults()[:1], &config{only: []string{"transmit"}}, fullBudget); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out2, "goals.md")); !os.IsNotExist(err) {
		t.Errorf("partial run wrote goals.md (err %v)", err)
	}
}

func TestMachineParsers(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"lscpu", lscpuModel("Architecture:  x86_64\nModel name:      AMD EPYC\nThread(s) per core: 1\n"), "AMD EPYC"},
		{"lscpu without model", lscpuModel("Architecture: x86_64\n"), "?"},
		{"meminfo", memTotal("MemTotal:       24609856 kB\nMemFree: 1 kB\n"), "23.5 GiB"},
		{"masscan version", version("\nMasscan version 1.3.2 ( https://github.com/robertdavidgraham/masscan )\n"), "1.3.2"},
		{"nmap version", version("Nmap version 7.93 ( https://nmap.org )\n"), "7.93"},
		{"first line", first("\n  zmap 2.1.1\nmore\n"), "zmap 2.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestPlotDataRoundTrip checks that plot data survives the JSON file,
// missing values (NaN) included, and that the file is what redraw draws.
func TestPlotDataRoundTrip(t *testing.T) {
	nan := math.NaN()
	plots := []benchkit.Plot{
		{File: "a.svg", Title: "t", XLabel: "x", YLabel: "y", Kind: "bar", Labels: []string{"p", "q"},
			Series: []benchkit.Series{{Name: "s", Y: []float64{1, nan}, Low: []float64{0.5, nan}, High: []float64{2, nan}}}},
		{File: "b.svg", Kind: "line", Series: []benchkit.Series{{Name: "l", X: []float64{1, 2}, Y: []float64{3, 4}}}},
	}
	b, err := encodePlots(plots)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePlots(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plots, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sec"+plotDataSuffix), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := redraw(dir, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.svg", "b.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not drawn: %v", f, err)
		}
	}
}
