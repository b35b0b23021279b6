package target

import "math/bits"

// A shoupMul multiplies by a fixed g modulo a fixed p < 2^63 with Shoup's
// precomputed quotient (V. Shoup, NTL; Harvey, "Faster arithmetic for
// number-theoretic transforms", J. Symb. Comp. 60 (2014), Algorithm 2).
//
// With gq = ⌊g·2^64/p⌋ and any x < 2^64, q = ⌊x·gq/2^64⌋ is ⌊x·g/p⌋ or one
// less, because x·g/p − x·gq/2^64 < x/2^64 < 1. So r = x·g − q·p lies in
// [0, 2p) and can be computed with wrapping 64-bit products: both sides
// agree mod 2^64 and the true r is below 2^64. The result is left lazy, in
// [0, 2p), which keeps the conditional subtraction off the iteration's
// dependency chain: one multiply-high, one multiply and one subtraction.
// Unlike a plain 64-bit product, g may be any residue, so the generator
// need not be small. shoup_test.go checks it against a 128-bit mulMod over
// seeded random inputs.
type shoupMul struct {
	g, gq, p uint64
}

func newShoupMul(g, p uint64) shoupMul {
	gq, _ := bits.Div64(g%p, 0, p) // ⌊(g mod p)·2^64/p⌋; hi < p so no panic
	return shoupMul{g: g % p, gq: gq, p: p}
}

// mulLazy returns a value in [0, 2p) congruent to x·g mod p, for any x.
func (s shoupMul) mulLazy(x uint64) uint64 {
	q, _ := bits.Mul64(x, s.gq)
	return x*s.g - q*s.p
}

// canon returns x mod p for x in [0, 2p), p < 2^63, without a branch: on a
// random walk x ≥ p half the time, unpredictably, and a mispredicted branch
// costs more than the whole multiplication.
func canon(x, p uint64) uint64 {
	t := x - p
	return t + p&uint64(int64(t)>>63)
}
