package report

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHeatIndex checks the log-scale bucketing against its definition on
// seeded random counts: monotonic, 0 only for none, 255 at the maximum.
func TestHeatIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 10000 {
		maxV := 1 + rng.Uint32N(1<<20)
		v := rng.Uint32N(maxV + 1)
		got := heatIndex(v, maxV)
		var want uint8
		switch {
		case v == 0:
			want = 0
		case maxV == 1:
			want = 255
		default:
			want = uint8(1 + math.Round(254*math.Log(float64(v))/math.Log(float64(maxV))))
		}
		if got != want {
			t.Fatalf("heatIndex(%d, %d) = %d, want %d", v, maxV, got, want)
		}
		if v > 0 && got == 0 || v == maxV && got != 255 {
			t.Fatalf("heatIndex(%d, %d) = %d", v, maxV, got)
		}
		if w := v + 1; w <= maxV && heatIndex(w, maxV) < got {
			t.Fatalf("not monotonic at %d (max %d)", v, maxV)
		}
	}
}

// TestHeatPNG decodes the grid and checks that the pixel of each /16 has
// the colour of its count.
func TestHeatPNG(t *testing.T) {
	h := new([1 << 16]uint32)
	h[198<<8|18] = 1000 // row 198, column 18: the maximum
	h[10<<8|200] = 1
	grid, _, err := heatPNG(h)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(grid), "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	pal := heatPalette()
	for _, c := range []struct{ x, y, idx int }{{18, 198, 255}, {200, 10, 1}, {0, 0, 0}, {255, 255, 0}} {
		if got, want := img.At(c.x, c.y), pal[c.idx]; got != want {
			r1, g1, b1, _ := got.RGBA()
			r2, g2, b2, _ := want.RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, want)
			}
		}
	}
}
