package micro

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// testdata/gotest.txt is captured `go test -bench -benchmem -count 3`
// output of the selected benchmarks (and BenchmarkIntegrationSink).
func TestParse(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "gotest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.name)
	}
	wantNames := []string{"Contains/reserved", "Contains/reserved+10k", "Stamp", "DecodeCheck",
		"IntegrationSink/sendmmsg-bypass-T1", "IntegrationSink/ring-bypass-T1", "IntegrationSink/sendmmsg-bypass-T2", "IntegrationSink/ring-bypass-T2",
		"Fill/port=1", "Fill/ports=3", "ProbeReplay/nt1", "ProbeReplay/smb2only"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("benchmark names (-want +got):\n%s", diff)
	}
	fill := find(rs, "Fill/port=1")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"units in order", fill.units, []string{"ns/op", "targets/cpu-s", "targets/s", "B/op", "allocs/op"}},
		{"ns/op samples", fill.values["ns/op"], []float64{10.99, 11.25, 12.33}},
		{"median targets/cpu-s", fill.median("targets/cpu-s"), 88980584.0},
		{"allocs", fill.values["allocs/op"], []float64{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSkipsNoiseAndRejectsBadValues(t *testing.T) {
	rs, err := parse(strings.NewReader("goos: linux\nBenchmarkX-2 \t 10\t 5.0 ns/op\nPASS\nok  \tpkg\t1s\nBenchmarkY-2 --- FAIL\n"))
	if err != nil || len(rs) != 1 || rs[0].name != "X" {
		t.Fatalf("parse = %v, %v; want one benchmark X", rs, err)
	}
	if _, err := parse(strings.NewReader("BenchmarkX-2 10 five ns/op\n")); err == nil {
		t.Fatal("parse accepted a non-numeric value")
	}
}

func TestGoals(t *testing.T) {
	mk := func(name string, vals map[string][]float64) *result {
		r := &result{name: name, values: vals}
		for u := range vals {
			r.units = append(r.units, u)
		}
		return r
	}
	tests := []struct {
		name string
		rs   []*result
		want []bool // Met of each goal
	}{
		{"fast and allocation-free", []*result{
			mk("FillAddrs/port=1", map[string][]float64{"targets/cpu-s": {101e6, 99e6, 120e6}, "allocs/op": {0, 0, 0}}),
			mk("Fill/port=1", map[string][]float64{"targets/cpu-s": {88e6}, "allocs/op": {0}}),
			mk("Stamp", map[string][]float64{"allocs/op": {0, 0}}),
		}, []bool{true, true}},
		{"slow, one run allocates", []*result{
			mk("FillAddrs/port=1", map[string][]float64{"targets/cpu-s": {88e6}, "allocs/op": {0}}),
			mk("DecodeCheck", map[string][]float64{"allocs/op": {0, 1}}),
		}, []bool{false, false}},
		{"nothing measured", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			for _, g := range goals(tt.rs) {
				got = append(got, g.Met)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("goals met (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRender(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "gotest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	p := paramsFor(&benchkit.Env{})
	s := render(p, rs, strings.Join(goTestArgs(p), " "), "name  old  new\n", "Against the baseline:")
	for _, want := range []string{
		"`go test -run ^$ -bench " + pattern,
		"| Fill/port=1 | 11.25 (10.99–12.33) | 89.0M targets/cpu-s, 88.9M targets/s | 0 | 0 |",
		"```\nname  old  new\n```",
	} {
		if !strings.Contains(s.Markdown, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, s.Markdown)
		}
	}
}

// FuzzParse checks that the go test output parser never panics and keeps
// one value list per unit it reports.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "gotest.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("BenchmarkX-2 1 1 ns/op 2 B/op\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parse(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, r := range rs {
			if len(r.units) != len(r.values) {
				t.Fatalf("%s: %d units, %d value lists", r.name, len(r.units), len(r.values))
			}
		}
	})
}
