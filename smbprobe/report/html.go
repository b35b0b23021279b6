package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var pageTemplate string

// page is parsed once per WriteHTML call; a template is cheap next to the
// aggregation, and a package-level template would be mutable state.
func parsePage() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"num":  num,
		"pct":  pct,
		"time": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"table": func(title, column string, t Table, denom uint64) tableView {
			return tableView{Title: title, Column: column, Table: t, Denom: denom}
		},
		"bar":   bar,
		"safe":  safe,
		"sub":   func(a, b uint64) uint64 { return a - b },
		"add":   func(a, b int) int { return a + b },
		"mul":   func(a, b int) int { return a * b },
		"u64":   func(n int) uint64 { return uint64(n) },
		"ticks": func() []int { return []int{0, 64, 128, 192, 255} },
	}).Parse(pageTemplate)
}

// tableView is one table of the page: its rows, and the denominator of its
// percentages.
type tableView struct {
	Title, Column string
	Table         Table
	Denom         uint64
}

// MaxN is the largest row count, for scaling bars.
func (v tableView) MaxN() uint64 {
	m := v.Table.Other
	for _, r := range v.Table.Rows {
		m = max(m, r.N)
	}
	return m
}

// WriteHTML renders s as one self-contained HTML page: inline CSS, inline
// SVG bar charts and an inline PNG heat grid, no scripts and no external
// references. Every string from the input is escaped by html/template,
// after its control and other invisible characters are made visible as Go
// escapes (as in WriteText).
func (s *Summary) WriteHTML(w io.Writer) error {
	t, err := parsePage()
	if err != nil {
		return fmt.Errorf("report: parsing page template: %w", err)
	}
	heat, legend, err := heatPNG(s.Heat)
	if err != nil {
		return fmt.Errorf("report: drawing heat grid: %w", err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, struct {
		*Summary
		HeatPNG   template.URL
		HeatMax   uint32
		LegendPNG template.URL
	}{s, heat, heatMax(s.Heat), legend})
	if err != nil {
		return fmt.Errorf("report: rendering page: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// bar is the width in pixels of a bar for n out of max, at most width.
func bar(n, max uint64, width int) string {
	if max == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(width)*float64(n)/float64(max), 'f', 1, 64)
}

// pct formats n/d as a percentage with one decimal, or "–" when d is 0.
func pct(n, d uint64) string {
	if d == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}

// num formats n with thousands separators.
func num(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func heatMax(h *[1 << 16]uint32) uint32 {
	var m uint32
	if h == nil {
		return 0
	}
	for _, v := range h {
		m = max(m, v)
	}
	return m
}

// heatPalette is grey for zero, then 255 steps from pale yellow (1 host)
// to dark red (the largest count).
func heatPalette() color.Palette {
	p := color.Palette{color.RGBA{0xee, 0xee, 0xee, 0xff}}
	for i := range 255 {
		f := float64(i) / 254
		lerp := func(a, b uint8) uint8 { return uint8(float64(a) + f*(float64(b)-float64(a)) + 0.5) }
		p = append(p, color.RGBA{lerp(0xfe, 0x99), lerp(0xe0, 0x00), lerp(0x8b, 0x0d), 0xff})
	}
	return p
}

// heatIndex maps a count to its palette index on a log scale: 0 for
// none, 1 for one host, 255 for maxV.
func heatIndex(v, maxV uint32) uint8 {
	switch {
	case v == 0:
		return 0
	case maxV <= 1:
		return 255
	}
	return 1 + uint8(math.Round(254*math.Log(float64(v))/math.Log(float64(maxV))))
}

// heatPNG draws the per-/16 counts as a 256×256 paletted PNG (row = first
// octet, column = second octet) and a 255×1 legend, as data: URLs.
func heatPNG(h *[1 << 16]uint32) (grid, legend template.URL, err error) {
	if h == nil {
		h = new([1 << 16]uint32)
	}
	m := heatMax(h)
	pal := heatPalette()
	img := image.NewPaletted(image.Rect(0, 0, 256, 256), pal)
	for i, v := range h {
		img.Pix[i] = heatIndex(v, m) // Pix is row-major, stride 256
	}
	leg := image.NewPaletted(image.Rect(0, 0, 255, 1), pal)
	for x := range 255 {
		leg.Pix[x] = uint8(x + 1)
	}
	if grid, err = dataPNG(img); err != nil {
		return "", "", err
	}
	legend, err = dataPNG(leg)
	return grid, legend, err
}

// dataPNG encodes img as a data: URL. The bytes are ours, not the input's,
// so marking the URL safe for html/template is sound.
func dataPNG(img image.Image) (template.URL, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())), nil
}
