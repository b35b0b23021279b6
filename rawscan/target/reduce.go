package target

import "math/bits"

// A reducer computes x mod d and x / d for a fixed divisor d without a
// hardware divide: Barrett reduction with the precomputed reciprocal
// m = ⌊(2^64−1)/d⌋.
//
// For any 64-bit x, q = ⌊x·m / 2^64⌋ is ⌊x/d⌋ or one less: d·m =
// 2^64−1 − ((2^64−1) mod d), so x/d − x·m/2^64 = x·(2^64 − d·m)/(d·2^64)
// ≤ x/2^64 < 1. Hence x − q·d is below 2d and one conditional subtraction
// finishes the job (P. Barrett, CRYPTO '86). reduce_test.go checks it against % and / over seeded
// random inputs and at the edges.
type reducer struct {
	d uint64 // divisor, at least 1
	m uint64 // ⌊(2^64−1)/d⌋
}

func newReducer(d uint64) reducer {
	return reducer{d: d, m: ^uint64(0) / d}
}

// mod returns x mod r.d.
func (r reducer) mod(x uint64) uint64 {
	q, _ := bits.Mul64(x, r.m)
	x -= q * r.d
	if x >= r.d {
		x -= r.d
	}
	return x
}

// divMod returns x / r.d and x mod r.d.
func (r reducer) divMod(x uint64) (q, rem uint64) {
	q, _ = bits.Mul64(x, r.m)
	rem = x - q*r.d
	if rem >= r.d {
		rem -= r.d
		q++
	}
	return q, rem
}
