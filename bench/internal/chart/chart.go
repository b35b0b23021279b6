package chart

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of every chart.
const (
	width  = 8 * vg.Inch
	height = 4.5 * vg.Inch
)

// palette is Tableau's ten categorical colours and two more, so that up
// to twelve series stay distinct (plotutil's palettes have seven).
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff}, {0x1f, 0x3b, 0x5c, 0xff}, {0x8c, 0x2d, 0x04, 0xff},
}

// colour is series k's colour.
func colour(k int) color.Color { return palette[k%len(palette)] }

// groupWidth is the part of one bar group's unit of X its bars fill.
const groupWidth = 0.8

// errPlot is returned for a Plot that cannot be drawn as described.
var errPlot = errors.New("chart: bad plot")

// Draw draws p into dir/p.File; the extension (.svg or .png) picks the
// format. NaN medians (failed or not applicable measurements) are left
// out.
func Draw(p *benchkit.Plot, dir string) error {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = p.XLabel
	pl.Y.Label.Text = p.YLabel
	pl.Y.Min = 0
	pl.Y.Tick.Marker = siTicks{}
	// The legend sits top left, text after the swatches (so a wider font
	// in the viewer runs into the plot, not under a swatch), above the
	// data thanks to the headroom set below.
	pl.Legend.Top, pl.Legend.Left = true, true
	pl.Legend.XOffs = vg.Points(8)
	pl.Add(plotter.NewGrid())
	var err error
	switch p.Kind {
	case "line":
		err = addLines(pl, p)
	case "bar":
		err = addBars(pl, p)
	default:
		err = fmt.Errorf("%w: %s: kind %q", errPlot, p.File, p.Kind)
	}
	if err != nil {
		return err
	}
	if top := maxY(p); top > 0 {
		pl.Y.Max = top * (1 + headroom(len(p.Series)))
	}
	if err := pl.Save(width, height, filepath.Join(dir, p.File)); err != nil {
		return fmt.Errorf("chart: save %s: %w", p.File, err)
	}
	return nil
}

// point is one drawn value with its spread.
type point struct{ x, y, low, high float64 }

// points returns the non-NaN values of s at the given X.
func points(s *benchkit.Series, x func(i int) float64) ([]point, error) {
	if (s.Low != nil && len(s.Low) != len(s.Y)) || (s.High != nil && len(s.High) != len(s.Y)) {
		return nil, fmt.Errorf("%w: series %q: Low/High not the length of Y", errPlot, s.Name)
	}
	var ps []point
	for i, y := range s.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		p := point{x: x(i), y: y, low: y, high: y}
		if s.Low != nil && !math.IsNaN(s.Low[i]) {
			p.low = s.Low[i]
		}
		if s.High != nil && !math.IsNaN(s.High[i]) {
			p.high = s.High[i]
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// errorBars returns the error bars of ps, nil when none has a spread.
func errorBars(ps []point) *plotter.YErrorBars {
	spread := false
	xys := make(plotter.XYs, len(ps))
	errs := make(plotter.YErrors, len(ps))
	for i, p := range ps {
		xys[i] = plotter.XY{X: p.x, Y: p.y}
		errs[i].Low, errs[i].High = p.y-p.low, p.high-p.y
		spread = spread || p.low != p.y || p.high != p.y
	}
	if !spread {
		return nil
	}
	return &plotter.YErrorBars{XYs: xys, YErrors: errs, LineStyle: plotter.DefaultLineStyle, CapWidth: plotter.DefaultCapWidth}
}

func addLines(pl *plot.Plot, p *benchkit.Plot) error {
	for k := range p.Series {
		s := &p.Series[k]
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("%w: %s: series %q has %d X and %d Y", errPlot, p.File, s.Name, len(s.X), len(s.Y))
		}
		ps, err := points(s, func(i int) float64 { return s.X[i] })
		if err != nil || len(ps) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(ps))
		for i, q := range ps {
			xys[i] = plotter.XY{X: q.x, Y: q.y}
		}
		line, dots, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("chart: %s: %w", p.File, err)
		}
		line.Color, dots.Color = colour(k), colour(k)
		dots.Shape = plotutil.Shape(k)
		pl.Add(line, dots)
		pl.Legend.Add(s.Name, line, dots)
		if eb := errorBars(ps); eb != nil {
			eb.Color = colour(k)
			pl.Add(eb)
		}
	}
	return nil
}

func addBars(pl *plot.Plot, p *benchkit.Plot) error {
	if len(p.Labels) == 0 {
		return fmt.Errorf("%w: %s: bar chart without labels", errPlot, p.File)
	}
	n := float64(len(p.Series))
	w := groupWidth / n
	for k := range p.Series {
		s := &p.Series[k]
		if len(s.Y) != len(p.Labels) {
			return fmt.Errorf("%w: %s: series %q has %d values for %d labels", errPlot, p.File, s.Name, len(s.Y), len(p.Labels))
		}
		off := (float64(k) - (n-1)/2) * w
		ps, err := points(s, func(i int) float64 { return float64(i) + off })
		if err != nil {
			return fmt.Errorf("chart: %s: %w", p.File, err)
		}
		if len(ps) == 0 {
			continue
		}
		rings := make([]plotter.XYer, len(ps))
		for i, q := range ps {
			x0, x1 := q.x-w/2, q.x+w/2
			rings[i] = plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: q.y}, {X: x0, Y: q.y}}
		}
		bars, err := plotter.NewPolygon(rings...)
		if err != nil {
			return fmt.Errorf("chart: %s: %w", p.File, err)
		}
		bars.Color = colour(k)
		bars.LineStyle.Width = 0
		pl.Add(bars)
		pl.Legend.Add(s.Name, bars)
		if eb := errorBars(ps); eb != nil {
			pl.Add(eb)
		}
	}
	pl.NominalX(p.Labels...)
	pl.X.Min, pl.X.Max = -0.5, float64(len(p.Labels))-0.5
	if crowded(p.Labels) {
		// Slant the group labels so long tool names do not run into
		// each other; they end under their group.
		pl.X.Tick.Label.Rotation = math.Pi / 8
		pl.X.Tick.Label.XAlign = draw.XRight
		pl.X.Tick.Label.YAlign = draw.YTop
	}
	return nil
}

// crowded reports whether bar-group labels set side by side would overlap:
// the widest label is wider than one group's share of the plot, at about
// 80 characters of the default tick font across the width.
func crowded(labels []string) bool {
	widest := 0
	for _, l := range labels {
		widest = max(widest, len([]rune(l)))
	}
	return widest*len(labels) > 80
}

// maxY is the highest value or spread end of any series, 0 if none.
func maxY(p *benchkit.Plot) float64 {
	top := 0.0
	for _, s := range p.Series {
		for _, vs := range [][]float64{s.Y, s.High} {
			for _, v := range vs {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					top = max(top, v)
				}
			}
		}
	}
	return top
}

// headroom is the fraction of the data's height added above it for a
// legend of n entries.
func headroom(n int) float64 {
	return 0.1 + 0.07*float64(n)
}

// siTicks are gonum's default ticks labelled with k and M suffixes
// ("1.2M" rather than "1200000").
type siTicks struct{}

// Ticks implements plot.Ticker.
func (siTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = siLabel(ts[i].Value)
		}
	}
	return ts
}

// siLabel formats a tick value with the shortest exact digits and a k or
// M suffix.
func siLabel(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}
