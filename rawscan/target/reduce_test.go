package target

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

func TestReducerAgainstDivide(t *testing.T) {
	t.Parallel()
	divisors := []uint64{1, 2, 3, 7, 10, 65535, 65536, 1<<32 + 15, 1<<48 + 23, 1<<63 - 25, 1 << 63, math.MaxUint64}
	r := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		divisors = append(divisors, r.Uint64()>>r.UintN(64)|1, r.Uint64N(1<<49)+1)
	}
	for _, d := range divisors {
		red := newReducer(d)
		check := func(x uint64) {
			t.Helper()
			q, rem := red.divMod(x)
			if q != x/d || rem != x%d {
				t.Fatalf("divMod(%d) by %d = %d, %d, want %d, %d", x, d, q, rem, x/d, x%d)
			}
			if m := red.mod(x); m != x%d {
				t.Fatalf("mod(%d) by %d = %d, want %d", x, d, m, x%d)
			}
		}
		for _, x := range []uint64{0, 1, d - 1, d, d + 1, 2*d - 1, 2 * d, math.MaxUint64, math.MaxUint64 - 1, math.MaxUint64 - d} {
			check(x)
		}
		for range 2000 {
			check(r.Uint64() >> r.UintN(64))
		}
	}
}

// TestReducerHotPathProducts checks the reduction the iterator does, cur·g
// mod p with cur < p and g ≤ (2^64−1)/p, at the extremes of that range.
func TestReducerHotPathProducts(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	for range 500 {
		p := nextPrime(r.Uint64N(1 << 49))
		red := newReducer(p)
		gmax := math.MaxUint64 / p
		for range 200 {
			cur := r.Uint64N(p)
			g := r.Uint64N(gmax) + 1
			for _, c := range []uint64{cur, p - 1} {
				for _, gg := range []uint64{g, gmax} {
					hi, lo := bits.Mul64(c, gg)
					if hi != 0 {
						t.Fatalf("%d·%d overflows 64 bits", c, gg)
					}
					if got, want := red.mod(lo), lo%p; got != want {
						t.Fatalf("%d·%d mod %d = %d, want %d", c, gg, p, got, want)
					}
				}
			}
		}
	}
}
