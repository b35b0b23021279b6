package target

import "math/bits"

// This file holds the number theory behind the permutation: 64-bit modular
// arithmetic, a deterministic primality test, trial-division factoring and
// the primitive-root test. None of it is on the hot path.

// mulMod returns a·b mod m for any a, b < m, through a 128-bit product.
func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return bits.Rem64(hi, lo, m)
}

// powMod returns b^e mod m by square-and-multiply. m must be at least 1.
func powMod(b, e, m uint64) uint64 {
	r := uint64(1) % m
	b %= m
	for e > 0 {
		if e&1 == 1 {
			r = mulMod(r, b, m)
		}
		b = mulMod(b, b, m)
		e >>= 1
	}
	return r
}

// millerRabinBases make the Miller–Rabin test deterministic for every n below
// 3.3·10^24, so for all of uint64 (Sorenson and Webster, "Strong
// pseudoprimes to twelve prime bases", Math. Comp. 86 (2017)).
var millerRabinBases = [...]uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}

// isPrime reports whether n is prime, exactly, for every uint64.
func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for _, p := range millerRabinBases {
		if n%p == 0 {
			return n == p
		}
	}
	// n−1 = d·2^s with d odd.
	d := n - 1
	s := bits.TrailingZeros64(d)
	d >>= uint(s)
	for _, a := range millerRabinBases {
		x := powMod(a, d, n)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for range s - 1 {
			x = mulMod(x, x, n)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}

// nextPrime returns the smallest prime strictly greater than n. n must be
// below the largest 64-bit prime, 2^64−59.
func nextPrime(n uint64) uint64 {
	if n < 2 {
		return 2
	}
	c := n + 1
	if c%2 == 0 && c != 2 {
		c++
	}
	for !isPrime(c) {
		c += 2
	}
	return c
}

// primeFactors returns the distinct prime factors of n in ascending order, by
// trial division. It is meant for n < 2^50 (p−1 of the permutation's prime),
// where it takes at most a few tens of milliseconds.
func primeFactors(n uint64) []uint64 {
	var fs []uint64
	if n < 2 {
		return fs
	}
	if n%2 == 0 {
		fs = append(fs, 2)
		for n%2 == 0 {
			n /= 2
		}
	}
	for q := uint64(3); q <= n/q; q += 2 {
		if n%q == 0 {
			fs = append(fs, q)
			for n%q == 0 {
				n /= q
			}
		}
	}
	if n > 1 {
		fs = append(fs, n)
	}
	return fs
}

// isPrimitiveRoot reports whether g generates the whole multiplicative group
// modulo the prime p, given the distinct prime factors of p−1: g is a
// primitive root exactly when g^((p−1)/q) ≠ 1 for every such factor q.
func isPrimitiveRoot(g, p uint64, factors []uint64) bool {
	if g%p == 0 {
		return false
	}
	for _, q := range factors {
		if powMod(g, (p-1)/q, p) == 1 {
			return false
		}
	}
	return true
}
