package chart

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

func TestDraw(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		plot    benchkit.Plot
		magic   []byte // the file's first bytes
		wantErr bool
	}{
		{
			name: "line svg with spread and a NaN",
			plot: benchkit.Plot{File: "line.svg", Title: "pps", XLabel: "requested", YLabel: "achieved", Kind: "line",
				Series: []benchkit.Series{
					{Name: "a", X: []float64{1, 2, 3}, Y: []float64{1, nan, 3}, Low: []float64{0.5, nan, 2.5}, High: []float64{1.5, nan, 3.5}},
					{Name: "b", X: []float64{1, 2, 3}, Y: []float64{2, 2, 2}},
				}},
			magic: []byte("<?xml"),
		},
		{
			name: "bar png",
			plot: benchkit.Plot{File: "bar.png", Title: "cpu", YLabel: "µs", Kind: "bar", Labels: []string{"T1", "T2"},
				Series: []benchkit.Series{
					{Name: "a", Y: []float64{2, 3}, Low: []float64{1.5, 2.5}, High: []float64{2.5, 3.5}},
					{Name: "b", Y: []float64{nan, 4}},
				}},
			magic: []byte("\x89PNG"),
		},
		{name: "unknown kind", plot: benchkit.Plot{File: "x.svg", Kind: "pie"}, wantErr: true},
		{name: "bar without labels", plot: benchkit.Plot{File: "x.svg", Kind: "bar"}, wantErr: true},
		{name: "bar values not per label", plot: benchkit.Plot{File: "x.svg", Kind: "bar", Labels: []string{"a"},
			Series: []benchkit.Series{{Name: "s", Y: []float64{1, 2}}}}, wantErr: true},
		{name: "line X and Y differ", plot: benchkit.Plot{File: "x.svg", Kind: "line",
			Series: []benchkit.Series{{Name: "s", X: []float64{1}, Y: []float64{1, 2}}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Draw(&tt.plot, dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Draw: %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			b, err := os.ReadFile(filepath.Join(dir, tt.plot.File))
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 1000 || !bytes.HasPrefix(b, tt.magic) {
				t.Fatalf("%s: %d bytes starting %q, want > 1000 starting %q", tt.plot.File, len(b), b[:min(len(b), 8)], tt.magic)
			}
		})
	}
}

func TestSILabel(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {2.5, "2.5"}, {80, "80"}, {400000, "400k"}, {1200000, "1.2M"}, {1e6, "1M"}}
	for _, tt := range tests {
		if got := siLabel(tt.in); got != tt.want {
			t.Errorf("siLabel(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
