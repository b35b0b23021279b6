package target

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// isPrimeSlow is the reference: math/big's test, which is exact below 2^64
// (Baillie–PSW has no known counterexample there and is verified up to 2^64).
func isPrimeSlow(n uint64) bool {
	return new(big.Int).SetUint64(n).ProbablyPrime(0)
}

func TestIsPrime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    uint64
		want bool
	}{
		{"zero", 0, false},
		{"one", 1, false},
		{"two", 2, true},
		{"three", 3, true},
		{"four", 4, false},
		{"base 37", 37, true},
		{"ZMap's group for one port on IPv4, 2^32+15", 1<<32 + 15, true},
		{"2^32+1 = 641·6700417", 1<<32 + 1, false},
		{"smallest prime above 2^48, 2^48+21", 1<<48 + 21, true},
		{"2^48+23", 1<<48 + 23, false},
		{"largest 64-bit prime", 1<<64 - 59, true},
		{"strong pseudoprime to bases 2..37 is beyond uint64; 3215031751 = 151·751·28351", 3215031751, false},
		{"Carmichael 561", 561, false},
		{"square of a prime", 65521 * 65521, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isPrime(tt.n); got != tt.want {
				t.Fatalf("isPrime(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestIsPrimeAgainstReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range uint64(5000) {
		if got, want := isPrime(n), isPrimeSlow(n); got != want {
			t.Fatalf("isPrime(%d) = %v, want %v", n, got, want)
		}
	}
	for range 5000 {
		// Odd numbers of every size, so primes are not too rare.
		n := r.Uint64()>>r.UintN(64) | 1
		if got, want := isPrime(n), isPrimeSlow(n); got != want {
			t.Fatalf("isPrime(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestNextPrime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    uint64
		want uint64
	}{
		{"zero", 0, 2},
		{"one", 1, 2},
		{"two is not above two", 2, 3},
		{"even", 8, 11},
		{"odd prime", 13, 17},
		{"all of IPv4 × one port: ZMap's 2^32+15", 1 << 32, 1<<32 + 15},
		{"IPv4 less reserved", 3702258432, 3702258451},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextPrime(tt.n); got != tt.want {
				t.Fatalf("nextPrime(%d) = %d, want %d", tt.n, got, tt.want)
			}
		})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := r.Uint64N(1 << 49)
		p := nextPrime(n)
		if p <= n || !isPrimeSlow(p) {
			t.Fatalf("nextPrime(%d) = %d: not a prime above n", n, p)
		}
		for c := n + 1; c < p; c++ {
			if isPrimeSlow(c) {
				t.Fatalf("nextPrime(%d) = %d, but %d is a smaller prime above n", n, p, c)
			}
		}
	}
}

func TestPrimeFactors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    uint64
		want []uint64
	}{
		{"one", 1, nil},
		{"two", 2, []uint64{2}},
		{"prime power", 1024, []uint64{2}},
		{"2^32+14 = 2·3²·5·131·364289, p−1 for ZMap's group", 1<<32 + 14, []uint64{2, 3, 5, 131, 364289}},
		{"large prime factor", 2 * 281474976710677, []uint64{2, 281474976710677}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, primeFactors(tt.n)); diff != "" {
				t.Fatalf("primeFactors(%d) (-want +got):\n%s", tt.n, diff)
			}
		})
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		n := r.Uint64N(1<<40) + 2
		fs := primeFactors(n)
		if !slices.IsSorted(fs) {
			t.Fatalf("primeFactors(%d) = %v: not sorted", n, fs)
		}
		m := n
		for _, f := range fs {
			if !isPrimeSlow(f) || m%f != 0 {
				t.Fatalf("primeFactors(%d) = %v: %d is not a prime factor", n, fs, f)
			}
			for m%f == 0 {
				m /= f
			}
		}
		if m != 1 {
			t.Fatalf("primeFactors(%d) = %v: cofactor %d left", n, fs, m)
		}
	}
}

// orderSlow returns the multiplicative order of g mod p by walking.
func orderSlow(g, p uint64) uint64 {
	x, k := g%p, uint64(1)
	for x != 1 {
		x = x * g % p
		k++
	}
	return k
}

func TestIsPrimitiveRootAgainstOrder(t *testing.T) {
	t.Parallel()
	for p := uint64(3); p < 2000; p++ {
		if !isPrimeSlow(p) {
			continue
		}
		fs := primeFactors(p - 1)
		for g := uint64(1); g < p; g++ {
			want := orderSlow(g, p) == p-1
			if got := isPrimitiveRoot(g, p, fs); got != want {
				t.Fatalf("isPrimitiveRoot(%d, %d) = %v, want %v", g, p, got, want)
			}
		}
	}
}

func TestPowModAgainstBig(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for range 10000 {
		m := r.Uint64()>>r.UintN(63) | 1
		b, e := r.Uint64(), r.Uint64()>>r.UintN(64)
		want := new(big.Int).Exp(new(big.Int).SetUint64(b), new(big.Int).SetUint64(e), new(big.Int).SetUint64(m)).Uint64()
		if got := powMod(b, e, m); got != want {
			t.Fatalf("powMod(%d, %d, %d) = %d, want %d", b, e, m, got, want)
		}
	}
}
