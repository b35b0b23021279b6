package rawscan

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// KeySize is the size in bytes of a cookie key: one AES-128 key.
const KeySize = 16

// Validation is what a Cookie derives for one (source, destination,
// destination port) triple. ZMap's src/validate.c derives the same three
// values from the same AES-128 block.
type Validation struct {
	// Seq is the TCP sequence number of the SYN. A genuine SYN-ACK
	// acknowledges Seq+1; an RST acknowledges Seq or Seq+1.
	Seq uint32
	// PortOffset selects the source port within the scan's port range:
	// probe k uses First + (PortOffset+k) mod the range's size.
	PortOffset uint32
	// IPID is the IPv4 identification field of the SYN.
	IPID uint16
}

// A Cookie is the keyed function from (source address, destination address,
// destination port) to a Validation. It is AES-128 over the block
// src(4) | dst(4) | dport(2) | zero(6) with a key random per scan, as in ZMap.
//
// A Cookie is not safe for concurrent use: it keeps its scratch blocks inside
// so that Sum does not allocate. Each goroutine uses its own Clone.
type Cookie struct {
	key   [KeySize]byte
	block cipher.Block
	in    [aes.BlockSize]byte
	out   [aes.BlockSize]byte
}

// NewCookie returns a Cookie with the given key.
func NewCookie(key [KeySize]byte) *Cookie {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		// aes.NewCipher fails only for a key of the wrong size, and
		// KeySize is fixed.
		panic(fmt.Sprintf("rawscan: aes.NewCipher: %v", err))
	}
	return &Cookie{key: key, block: b}
}

// RandomKey returns a fresh key from crypto/rand.
func RandomKey() ([KeySize]byte, error) {
	var k [KeySize]byte
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("rawscan: reading a random cookie key: %w", err)
	}
	return k, nil
}

// Clone returns a new Cookie with the same key, for another goroutine.
func (c *Cookie) Clone() *Cookie { return NewCookie(c.key) }

// Sum returns the Validation of a probe from src to dst:dport. Both addresses
// must be IPv4. Sum does not allocate.
func (c *Cookie) Sum(src, dst netip.Addr, dport uint16) Validation {
	s, d := src.As4(), dst.As4()
	copy(c.in[0:4], s[:])
	copy(c.in[4:8], d[:])
	binary.BigEndian.PutUint16(c.in[8:10], dport)
	c.block.Encrypt(c.out[:], c.in[:])
	return Validation{
		Seq:        binary.BigEndian.Uint32(c.out[0:4]),
		PortOffset: binary.BigEndian.Uint32(c.out[4:8]),
		IPID:       binary.BigEndian.Uint16(c.out[12:14]),
	}
}
