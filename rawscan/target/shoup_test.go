package target

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestShoupMulAgainstMulMod(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	primes := []uint64{2, 3, 5, 257, 65537, 1<<32 + 15, 1<<48 + 21, nextPrime(1<<62 + 1<<61)}
	for range 300 {
		primes = append(primes, nextPrime(r.Uint64N(1<<49)))
	}
	for _, p := range primes {
		gs := []uint64{1, 2, p - 1, r.Uint64N(p)}
		for _, g := range gs {
			s := newShoupMul(g, p)
			xs := []uint64{0, 1, p - 1, p, 2*p - 1, math.MaxUint64}
			for range 300 {
				xs = append(xs, r.Uint64N(2*p), r.Uint64())
			}
			for _, x := range xs {
				got := s.mulLazy(x)
				if got >= 2*p {
					t.Fatalf("mulLazy(%d) by %d mod %d = %d, not below 2p", x, g, p, got)
				}
				if want := mulMod(x%p, g%p, p); got%p != want {
					t.Fatalf("mulLazy(%d) by %d mod %d = %d ≡ %d, want %d", x, g, p, got, got%p, want)
				}
			}
		}
	}
}

func TestCanon(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(15, 16))
	for range 100000 {
		p := r.Uint64N(1<<63-1) + 1
		x := r.Uint64N(2 * p)
		for _, x := range []uint64{0, p - 1, p, 2*p - 1, x} {
			if got, want := canon(x, p), x%p; got != want {
				t.Fatalf("canon(%d, %d) = %d, want %d", x, p, got, want)
			}
		}
	}
}
