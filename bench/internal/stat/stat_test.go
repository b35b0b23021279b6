package stat

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{Median: nan, Min: nan, Max: nan}},
		{"one", []float64{5}, Summary{N: 1, Median: 5, Min: 5, Max: 5}},
		{"odd unsorted", []float64{3, 1, 2}, Summary{N: 3, Median: 2, Min: 1, Max: 3}},
		{"even", []float64{4, 1, 3, 2}, Summary{N: 4, Median: 2.5, Min: 1, Max: 4}},
		{"NaN left out", []float64{nan, 10, nan, 30, 20}, Summary{N: 3, Failed: 2, Median: 20, Min: 10, Max: 30}},
		{"all NaN", []float64{nan, nan}, Summary{Failed: 2, Median: nan, Min: nan, Max: nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := Summarize(in)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("Summarize(%v) (-want +got):\n%s", tt.in, diff)
			}
			if !slices.EqualFunc(in, tt.in, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
				t.Fatalf("Summarize modified its input: %v", in)
			}
		})
	}
}

// medianRef is the obviously correct median: sort a copy, pick the middle.
func medianRef(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func TestSummarizeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		xs := make([]float64, 1+rng.IntN(9))
		for i := range xs {
			xs[i] = float64(rng.IntN(50))
		}
		s := Summarize(xs)
		if s.Median != medianRef(xs) || s.Min != slices.Min(xs) || s.Max != slices.Max(xs) {
			t.Fatalf("Summarize(%v) = %+v, want median %v min %v max %v", xs, s, medianRef(xs), slices.Min(xs), slices.Max(xs))
		}
	}
}

func TestSpreadAndRatio(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"spread", Summarize([]float64{90, 100, 110}).Spread(), 0.2},
		{"spread of one", Summarize([]float64{7}).Spread(), 0},
		{"spread of none", Summarize(nil).Spread(), math.NaN()},
		{"ratio", Ratio(3, 2), 1.5},
		{"ratio by zero", Ratio(3, 0), math.NaN()},
		{"ratio of NaN", Ratio(math.NaN(), 2), math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got, cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSI(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{math.NaN(), "—"}, {0, "0.00"}, {2.345, "2.35"}, {12.34, "12.3"}, {999, "999"},
		{1000, "1.00k"}, {481234, "481k"}, {1011304, "1.01M"}, {25e6, "25.0M"},
	}
	for _, tt := range tests {
		if got := SI(tt.in); got != tt.want {
			t.Errorf("SI(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
