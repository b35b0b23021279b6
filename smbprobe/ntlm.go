package smbprobe

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

// NTLM messages, MS-NLMP §2.2.1.

const ntlmSignature = "NTLMSSP\x00" // MS-NLMP §2.2.1.1 Signature

// NEGOTIATE flags, MS-NLMP §2.2.2.5.
const (
	ntlmNegotiateUnicode      = 0x00000001
	ntlmRequestTarget         = 0x00000004
	ntlmNegotiateNTLM         = 0x00000200
	ntlmNegotiateAlwaysSign   = 0x00008000
	ntlmNegotiateExtendedSec  = 0x00080000
	ntlmNegotiateTargetInfo   = 0x00800000
	ntlmNegotiateVersion      = 0x02000000
	ntlmNegotiate128          = 0x20000000
	ntlmNegotiateKeyExch      = 0x40000000
	ntlmNegotiate56           = 0x80000000
	ntlmNegotiateFlagsRequest = ntlmNegotiateUnicode | ntlmRequestTarget | ntlmNegotiateNTLM |
		ntlmNegotiateAlwaysSign | ntlmNegotiateExtendedSec | ntlmNegotiateTargetInfo |
		ntlmNegotiateVersion | ntlmNegotiate128 | ntlmNegotiateKeyExch | ntlmNegotiate56
)

// ntlmClientVersion is the VERSION we send (MS-NLMP §2.2.2.10): 6.1.7601,
// NTLMSSP_REVISION_W2K3 (0x0F). The server ignores it; it is there because
// NEGOTIATE_VERSION is set, which makes the server send its own.
var ntlmClientVersion = [8]byte{6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f}

// appendNTLMNegotiate appends an NTLM NEGOTIATE_MESSAGE (MS-NLMP §2.2.1.1)
// with no domain or workstation and the VERSION field.
func appendNTLMNegotiate(b []byte) []byte {
	b = append(b, ntlmSignature...)
	b = binary.LittleEndian.AppendUint32(b, 1) // MessageType NtLmNegotiate
	b = binary.LittleEndian.AppendUint32(b, ntlmNegotiateFlagsRequest)
	b = append(b, 0, 0, 0, 0, 40, 0, 0, 0) // DomainNameFields: empty at offset 40
	b = append(b, 0, 0, 0, 0, 40, 0, 0, 0) // WorkstationFields: empty at offset 40
	return append(b, ntlmClientVersion[:]...)
}

// AV_PAIR ids, MS-NLMP §2.2.2.1.
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avDNSTreeName     = 5
	avFlags           = 6
	avTimestamp       = 7
	avTargetName      = 9
)

// challenge is a parsed NTLM CHALLENGE_MESSAGE (MS-NLMP §2.2.1.2).
type challenge struct {
	Flags      uint32
	TargetName string
	// Version is ProductMajorVersion, ProductMinorVersion, ProductBuild and
	// NTLMRevisionCurrent (MS-NLMP §2.2.2.10); HasVersion is false when
	// NEGOTIATE_VERSION is clear or the payload starts before byte 56.
	HasVersion      bool
	Major, Minor    uint8
	Build           uint16
	Revision        uint8
	NetBIOSComputer string
	NetBIOSDomain   string
	DNSComputer     string
	DNSDomain       string
	DNSTree         string
	AVTargetName    string
	Timestamp       uint64 // FILETIME, 0 when absent
}

// ntlmString decodes a name field: UTF-16LE when unicode, else OEM/ASCII.
func ntlmString(b []byte, unicode bool) string {
	if !unicode {
		return string(b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ntlmField returns the payload a security buffer (Len, MaxLen, Offset;
// MS-NLMP §2.2.1.2) at b[at:] points to, bounds-checked against msg.
func ntlmField(msg []byte, at int) ([]byte, error) {
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if n == 0 {
		return nil, nil
	}
	if off < 0 || off > len(msg) || n > len(msg)-off {
		return nil, fmt.Errorf("%w: NTLM field [%d,+%d) outside %d bytes", ErrTruncated, off, n, len(msg))
	}
	return msg[off : off+n], nil
}

// parseChallenge parses an NTLM CHALLENGE_MESSAGE (MS-NLMP §2.2.1.2) and its
// TargetInfo AV_PAIRs (§2.2.2.1).
func parseChallenge(b []byte) (challenge, error) {
	var c challenge
	if len(b) < 48 {
		return c, fmt.Errorf("%w: NTLM CHALLENGE is %d bytes", ErrTruncated, len(b))
	}
	if string(b[:8]) != ntlmSignature {
		return c, fmt.Errorf("%w: no NTLMSSP signature", ErrMalformed)
	}
	if t := binary.LittleEndian.Uint32(b[8:]); t != 2 {
		return c, fmt.Errorf("%w: NTLM message type %d, want CHALLENGE (2)", ErrMalformed, t)
	}
	c.Flags = binary.LittleEndian.Uint32(b[20:])
	unicode := c.Flags&ntlmNegotiateUnicode != 0
	tn, err := ntlmField(b, 12) // TargetNameFields
	if err != nil {
		return c, err
	}
	c.TargetName = ntlmString(tn, unicode)
	ti, err := ntlmField(b, 40) // TargetInfoFields
	if err != nil {
		return c, err
	}
	// VERSION at 48 (§2.2.1.2) when negotiated and not overlapping a payload.
	if c.Flags&ntlmNegotiateVersion != 0 && len(b) >= 56 && payloadStart(b) >= 56 {
		c.HasVersion = true
		c.Major, c.Minor = b[48], b[49]
		c.Build = binary.LittleEndian.Uint16(b[50:])
		c.Revision = b[55]
	}
	for len(ti) >= 4 {
		id, n := binary.LittleEndian.Uint16(ti), int(binary.LittleEndian.Uint16(ti[2:]))
		if n > len(ti)-4 {
			return c, fmt.Errorf("%w: AV_PAIR %d length %d of %d bytes", ErrTruncated, id, n, len(ti)-4)
		}
		v := ti[4 : 4+n]
		ti = ti[4+n:]
		switch id {
		case avEOL:
			return c, nil
		case avNbComputerName:
			c.NetBIOSComputer = ntlmString(v, true) // AV_PAIR strings are always UTF-16 (§2.2.2.1)
		case avNbDomainName:
			c.NetBIOSDomain = ntlmString(v, true)
		case avDNSComputerName:
			c.DNSComputer = ntlmString(v, true)
		case avDNSDomainName:
			c.DNSDomain = ntlmString(v, true)
		case avDNSTreeName:
			c.DNSTree = ntlmString(v, true)
		case avTargetName:
			c.AVTargetName = ntlmString(v, true)
		case avTimestamp:
			if n == 8 {
				c.Timestamp = binary.LittleEndian.Uint64(v)
			}
		}
	}
	return c, nil
}

// payloadStart is the smallest non-empty field offset of a CHALLENGE, so
// that VERSION is read only when no payload overlaps it.
func payloadStart(b []byte) int {
	start := len(b)
	for _, at := range []int{12, 40} {
		if binary.LittleEndian.Uint16(b[at:]) != 0 {
			start = min(start, int(binary.LittleEndian.Uint32(b[at+4:])))
		}
	}
	return start
}

// filetime converts a FILETIME (100 ns since 1601-01-01 UTC, MS-DTYP §2.3.3)
// to a time; zero and out-of-range values give nil.
func filetime(ft uint64) *time.Time {
	const epochDelta = 116444736000000000                              // 1601→1970 in 100 ns
	if ft <= epochDelta || ft-epochDelta > 2_500_000_000_000_000_000 { // ≈ year 9900
		return nil
	}
	d := ft - epochDelta
	t := time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC()
	return &t
}
