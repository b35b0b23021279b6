package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/chart"
)

// Plot data is kept next to each section's Markdown, as
// bench/results/harness/<section>.plots.json, so that every plot's numbers
// are on record and `bench -redraw` can draw the plots again (after a
// change to package chart) without measuring again. JSON has no NaN, so a
// missing median or spread end is written as null.

// plotDataSuffix ends the file name of a section's plot data.
const plotDataSuffix = ".plots.json"

// jsonSeries is benchkit.Series with nullable values.
type jsonSeries struct {
	Name string     `json:"name"`
	X    []*float64 `json:"x,omitempty"`
	Y    []*float64 `json:"y"`
	Low  []*float64 `json:"low,omitempty"`
	High []*float64 `json:"high,omitempty"`
}

// jsonPlot is benchkit.Plot with nullable values.
type jsonPlot struct {
	File   string       `json:"file"`
	Title  string       `json:"title"`
	XLabel string       `json:"x_label"`
	YLabel string       `json:"y_label"`
	Kind   string       `json:"kind"`
	Labels []string     `json:"labels,omitempty"`
	Series []jsonSeries `json:"series"`
}

func toNullable(vs []float64) []*float64 {
	if vs == nil {
		return nil
	}
	out := make([]*float64, len(vs))
	for i, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[i] = &v
		}
	}
	return out
}

func fromNullable(vs []*float64) []float64 {
	if vs == nil {
		return nil
	}
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.NaN()
		if v != nil {
			out[i] = *v
		}
	}
	return out
}

// encodePlots renders a section's plots as JSON.
func encodePlots(plots []benchkit.Plot) ([]byte, error) {
	js := make([]jsonPlot, len(plots))
	for i, p := range plots {
		j := jsonPlot{File: p.File, Title: p.Title, XLabel: p.XLabel, YLabel: p.YLabel, Kind: p.Kind, Labels: p.Labels}
		for _, s := range p.Series {
			j.Series = append(j.Series, jsonSeries{Name: s.Name, X: toNullable(s.X), Y: toNullable(s.Y), Low: toNullable(s.Low), High: toNullable(s.High)})
		}
		js[i] = j
	}
	b, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bench: encode plot data: %w", err)
	}
	return append(b, '\n'), nil
}

// decodePlots parses what encodePlots wrote.
func decodePlots(b []byte) ([]benchkit.Plot, error) {
	var js []jsonPlot
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("bench: decode plot data: %w", err)
	}
	plots := make([]benchkit.Plot, len(js))
	for i, j := range js {
		p := benchkit.Plot{File: j.File, Title: j.Title, XLabel: j.XLabel, YLabel: j.YLabel, Kind: j.Kind, Labels: j.Labels}
		for _, s := range j.Series {
			p.Series = append(p.Series, benchkit.Series{Name: s.Name, X: fromNullable(s.X), Y: fromNullable(s.Y), Low: fromNullable(s.Low), High: fromNullable(s.High)})
		}
		plots[i] = p
	}
	return plots, nil
}

// redraw draws every plot recorded in outDir's plot data files into
// plotDir.
func redraw(outDir, plotDir string) error {
	files, err := filepath.Glob(filepath.Join(outDir, "*"+plotDataSuffix))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("bench: no %s files in %s: run the harness first", plotDataSuffix, outDir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		plots, err := decodePlots(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for k := range plots {
			if err := chart.Draw(&plots[k], plotDir); err != nil {
				return err
			}
			logf("redrew %s from %s", plots[k].File, strings.TrimPrefix(f, outDir+"/"))
		}
	}
	return nil
}
