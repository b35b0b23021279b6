package stat

import (
	"fmt"
	"math"
	"slices"
)

// Summary is the median and range of repeated measurements of one figure.
// NaN inputs (failed runs) are left out and counted in Failed.
type Summary struct {
	N      int     // measurements summarized (not NaN)
	Failed int     // NaN measurements left out
	Median float64 // NaN when N is 0
	Min    float64
	Max    float64
}

// Summarize returns the Summary of xs, which it does not modify. The median
// of an even count is the mean of the two middle values.
func Summarize(xs []float64) Summary {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	s := Summary{N: len(v), Failed: len(xs) - len(v), Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	if len(v) == 0 {
		return s
	}
	slices.Sort(v)
	s.Min, s.Max = v[0], v[len(v)-1]
	if n := len(v); n%2 == 1 {
		s.Median = v[n/2]
	} else {
		s.Median = (v[n/2-1] + v[n/2]) / 2
	}
	return s
}

// Spread is (Max-Min)/Median as a fraction, 0 for one measurement and NaN
// when there is none or the median is 0.
func (s Summary) Spread() float64 {
	if s.N == 0 || s.Median == 0 {
		return math.NaN()
	}
	return (s.Max - s.Min) / s.Median
}

// Ratio is a / b, NaN when either is NaN or b is 0.
func Ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// SI formats x with a k or M suffix and three significant digits ("481k",
// "1.01M"); "—" for NaN.
func SI(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x):
		return "—"
	case a >= 1e6:
		return trim3(x/1e6) + "M"
	case a >= 1e3:
		return trim3(x/1e3) + "k"
	default:
		return trim3(x)
	}
}

// trim3 prints x with three significant digits, no exponent.
func trim3(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
