package rawscan

import "encoding/binary"

// sum16 adds the big-endian 16-bit words of b to s, the first half of the
// Internet checksum of RFC 1071. An odd trailing byte is padded with zero.
func sum16(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds the carries of a 32-bit one's-complement sum into 16 bits and
// complements it (RFC 1071 section 4.1).
func fold(s uint32) uint16 {
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return ^uint16(s)
}
