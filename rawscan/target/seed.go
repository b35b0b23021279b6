package target

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// seedDomain separates this package's use of a seed from any other use of
// the same number (for example a probe cookie key derived from it). Changing
// it changes every permutation, so it carries a version.
const seedDomain = "smbsweep/target/v1"

// newStream returns the deterministic random stream of seed: ChaCha8, whose
// output for a key is fixed by the Go specification of math/rand/v2 (it is
// tested against known answers there), keyed by the domain and the seed.
func newStream(seed uint64) *rand.ChaCha8 {
	var key [32]byte
	copy(key[:], seedDomain)
	binary.LittleEndian.PutUint64(key[24:], seed)
	return rand.NewChaCha8(key)
}

// uniform returns a uniform value in [0, n), n > 0, by Lemire's
// multiply-and-reject method ("Fast Random Integer Generation in an
// Interval", ACM TOMACS 2019). It is written out here rather than taken from
// rand.Rand so the permutation of a seed depends only on ChaCha8's fixed
// output and this function, never on a library's choice of algorithm.
func uniform(s *rand.ChaCha8, n uint64) uint64 {
	hi, lo := bits.Mul64(s.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.Uint64(), n)
		}
	}
	return hi
}
