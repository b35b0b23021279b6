package smbprobe

import (
	"fmt"
	"strconv"
)

// A minimal DER reader and writer for the SPNEGO tokens of RFC 4178 §4.2
// wrapped in the GSS-API InitialContextToken of RFC 2743 §3.1. Only the
// fields the probe needs are read; everything else is skipped by length.

// OIDs, RFC 4178 §4.1 and MS-NLMP §1.9 (NTLMSSP 1.3.6.1.4.1.311.2.2.10).
var (
	oidSPNEGO  = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}
	oidNTLMSSP = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}
)

// DER tags used by SPNEGO.
const (
	derSequence    = 0x30
	derOID         = 0x06
	derOctetString = 0x04
	derApplication = 0x60 // [APPLICATION 0] constructed, RFC 2743 §3.1
	derContext0    = 0xa0
	derContext1    = 0xa1
	derContext2    = 0xa2
)

// appendDER appends a TLV with a definite DER length (X.690 §8.1.3).
func appendDER(b []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	for _, c := range content {
		b = append(b, c...)
	}
	return b
}

// appendNegTokenInit wraps mechToken in a GSS-API InitialContextToken
// carrying an SPNEGO NegTokenInit with the single mechType NTLMSSP
// (RFC 4178 §4.2.1, MS-SPNG §2.2.1).
func appendNegTokenInit(b []byte, mechToken []byte) []byte {
	mechList := appendDER(nil, derContext0, appendDER(nil, derSequence, appendDER(nil, derOID, oidNTLMSSP)))
	tok := appendDER(nil, derContext2, appendDER(nil, derOctetString, mechToken))
	init := appendDER(nil, derContext0, appendDER(nil, derSequence, mechList, tok))
	return appendDER(b, derApplication, appendDER(nil, derOID, oidSPNEGO), init)
}

// derNext splits one TLV off b. Only definite lengths up to 4 bytes are
// accepted; the content must fit in b.
func derNext(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("%w: DER header", ErrTruncated)
	}
	tag, l := b[0], int(b[1])
	b = b[2:]
	if l >= 0x80 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < k {
			return 0, nil, nil, fmt.Errorf("%w: DER length form 0x%02x", ErrMalformed, l)
		}
		l = 0
		for _, c := range b[:k] {
			l = l<<8 | int(c)
		}
		b = b[k:]
	}
	if l < 0 || l > len(b) {
		return 0, nil, nil, fmt.Errorf("%w: DER length %d of %d bytes", ErrTruncated, l, len(b))
	}
	return tag, b[:l], b[l:], nil
}

// derExpect reads one TLV and checks its tag.
func derExpect(b []byte, want byte) (content, rest []byte, err error) {
	tag, c, rest, err := derNext(b)
	if err != nil {
		return nil, nil, err
	}
	if tag != want {
		return nil, nil, fmt.Errorf("%w: DER tag 0x%02x, want 0x%02x", ErrMalformed, tag, want)
	}
	return c, rest, nil
}

// maxMechs bounds the mechTypes kept from one token.
const maxMechs = 16

// parseNegTokenInit returns the mechTypes of the server's NegTokenInit (or
// NegTokenInit2, MS-SPNG §2.2.1) in an SMB2 NEGOTIATE response's security
// buffer, as dotted OIDs.
func parseNegTokenInit(b []byte) ([]string, error) {
	app, _, err := derExpect(b, derApplication)
	if err != nil {
		return nil, err
	}
	oid, rest, err := derExpect(app, derOID)
	if err != nil {
		return nil, err
	}
	if string(oid) != string(oidSPNEGO) {
		return nil, fmt.Errorf("%w: GSS mechanism %s is not SPNEGO", ErrMalformed, oidString(oid))
	}
	init, _, err := derExpect(rest, derContext0)
	if err != nil {
		return nil, err
	}
	seq, _, err := derExpect(init, derSequence)
	if err != nil {
		return nil, err
	}
	c, ok, err := derField(seq, derContext0) // mechTypes [0] MechTypeList
	if err != nil || !ok {
		return nil, err
	}
	list, _, err := derExpect(c, derSequence)
	if err != nil {
		return nil, err
	}
	var mechs []string
	for len(list) > 0 {
		o, r, err := derExpect(list, derOID)
		if err != nil {
			return mechs, err
		}
		list = r
		if len(mechs) < maxMechs {
			mechs = append(mechs, oidString(o))
		}
	}
	return mechs, nil
}

// parseNegTokenResp returns the responseToken of a NegTokenResp
// (RFC 4178 §4.2.2), which carries the NTLM CHALLENGE. Some servers answer
// with a bare NTLMSSP message instead; that is returned unchanged.
func parseNegTokenResp(b []byte) ([]byte, error) {
	if len(b) >= 8 && string(b[:8]) == ntlmSignature {
		return b, nil
	}
	resp, _, err := derExpect(b, derContext1)
	if err != nil {
		return nil, err
	}
	seq, _, err := derExpect(resp, derSequence)
	if err != nil {
		return nil, err
	}
	c, ok, err := derField(seq, derContext2) // responseToken [2] OCTET STRING
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: NegTokenResp without responseToken", ErrMalformed)
	}
	tok, _, err := derExpect(c, derOctetString)
	return tok, err
}

// derField returns the contents of the first element tagged tag in seq,
// the contents of a DER SEQUENCE; ok is false when no element has that tag.
func derField(seq []byte, tag byte) (content []byte, ok bool, err error) {
	for len(seq) > 0 {
		t, c, rest, err := derNext(seq)
		if err != nil {
			return nil, false, err
		}
		if t == tag {
			return c, true, nil
		}
		seq = rest
	}
	return nil, false, nil
}

// oidString renders a DER OID body (X.690 §8.19) in dotted form; a
// malformed body is rendered as hex.
func oidString(b []byte) string {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return fmt.Sprintf("invalid:%x", b)
	}
	var out []byte
	var v uint64
	first := true
	for i, c := range b {
		if v > 1<<56 {
			return fmt.Sprintf("invalid:%x", b)
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 && i < len(b)-1 {
			continue
		}
		if first {
			x := min(v/40, 2)
			out = strconv.AppendUint(out, x, 10)
			out = append(out, '.')
			out = strconv.AppendUint(out, v-40*x, 10)
			first = false
		} else {
			out = append(out, '.')
			out = strconv.AppendUint(out, v, 10)
		}
		v = 0
	}
	return string(out)
}
