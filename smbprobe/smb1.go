package smbprobe

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// SMB1 header, MS-CIFS §2.2.3.1. Offsets from the start of the header.
const (
	smb1HeaderLen  = 32
	smb1OffCommand = 4  // Command, 1 byte
	smb1OffStatus  = 5  // Status (NTSTATUS when FLAGS2_NT_STATUS), 4 bytes
	smb1OffFlags   = 9  // Flags, 1 byte
	smb1OffFlags2  = 10 // Flags2, 2 bytes

	smb1ComNegotiate     = 0x72 // SMB_COM_NEGOTIATE, MS-CIFS §2.2.4.52
	smb1ComSessionSetupX = 0x73 // SMB_COM_SESSION_SETUP_ANDX, MS-CIFS §2.2.4.53

	smb1FlagsReply = 0x80 // SMB_FLAGS_REPLY, MS-CIFS §2.2.3.1
	// Flags 0x18: SMB_FLAGS_CASE_INSENSITIVE | SMB_FLAGS_CANONICALIZED_PATHS.
	smb1FlagsRequest = 0x18
	// Flags2 0xC853: UNICODE | NT_STATUS | EXTENDED_SECURITY | IS_LONG_NAME
	// | 0x0010 | EAS | KNOWS_LONG_NAMES (MS-CIFS §2.2.3.1, MS-SMB §2.2.3.1).
	smb1Flags2Request = 0xC853
	smb1Flags2Unicode = 0x8000

	smb1CapExtendedSecurity = 0x80000000 // CAP_EXTENDED_SECURITY, MS-SMB §2.2.4.5.2
)

// smb1Magic is the SMB1 Protocol field, MS-CIFS §2.2.3.1: 0xFF 'S' 'M' 'B'.
var smb1Magic = [4]byte{0xFF, 'S', 'M', 'B'}

// appendSMB1Header appends an SMB1 request header (MS-CIFS §2.2.3.1), PID
// 0xFEFF, MID mid, UID uid.
func appendSMB1Header(b []byte, cmd byte, mid uint16) []byte {
	b = append(b, smb1Magic[:]...)
	b = append(b, cmd, 0, 0, 0, 0, smb1FlagsRequest)
	b = binary.LittleEndian.AppendUint16(b, smb1Flags2Request)
	b = append(b, make([]byte, 2+8+2+2)...)         // PIDHigh, SecurityFeatures, Reserved, TID
	b = binary.LittleEndian.AppendUint16(b, 0xFEFF) // PIDLow
	b = binary.LittleEndian.AppendUint16(b, 0)      // UID
	return binary.LittleEndian.AppendUint16(b, mid)
}

// appendSMB1Negotiate appends an SMB_COM_NEGOTIATE request offering only
// "NT LM 0.12" (MS-CIFS §2.2.4.52.1): WordCount 0, ByteCount 12, then the
// dialect as 0x02 "NT LM 0.12" NUL.
func appendSMB1Negotiate(b []byte) []byte {
	b = appendSMB1Header(b, smb1ComNegotiate, 0)
	b = append(b, 0, 12, 0) // WordCount, ByteCount
	return append(b, "\x02NT LM 0.12\x00"...)
}

// smb1Negotiate is a parsed SMB_COM_NEGOTIATE response.
type smb1Negotiate struct {
	// DialectIndex 0xFFFF means no offered dialect is supported
	// (MS-CIFS §2.2.4.52.2); the other fields are then zero.
	DialectIndex   uint16
	SecurityMode   uint8
	MaxMpxCount    uint16
	MaxBufferSize  uint32
	Capabilities   uint32
	SystemTime     uint64 // FILETIME
	TimeZone       int16  // minutes from UTC
	ServerGUID     [16]byte
	SecurityBlob   []byte // aliases the input
	HasExtSecurity bool
}

// smb1Parse checks an SMB1 response header and returns the status, the
// Flags2 field and the parameter words and bytes blocks (MS-CIFS §2.2.3).
func smb1Parse(b []byte, cmd byte) (status uint32, flags2 uint16, words, data []byte, err error) {
	if len(b) < 4 || [4]byte(b[:4]) != smb1Magic {
		return 0, 0, nil, nil, fmt.Errorf("%w: no SMB1 protocol id", ErrNotSMB)
	}
	if len(b) < smb1HeaderLen+1 {
		return 0, 0, nil, nil, fmt.Errorf("%w: SMB1 message is %d bytes", ErrTruncated, len(b))
	}
	if b[smb1OffCommand] != cmd {
		return 0, 0, nil, nil, fmt.Errorf("%w: SMB1 command 0x%02x, want 0x%02x", ErrMalformed, b[smb1OffCommand], cmd)
	}
	if b[smb1OffFlags]&smb1FlagsReply == 0 {
		return 0, 0, nil, nil, fmt.Errorf("%w: SMB1 message is not a reply", ErrMalformed)
	}
	status = binary.LittleEndian.Uint32(b[smb1OffStatus:])
	flags2 = binary.LittleEndian.Uint16(b[smb1OffFlags2:])
	wc := int(b[smb1HeaderLen])
	p := smb1HeaderLen + 1
	if p+2*wc+2 > len(b) {
		// An error reply may carry WordCount 0 and no ByteCount.
		if wc == 0 && p == len(b) {
			return status, flags2, nil, nil, nil
		}
		return status, flags2, nil, nil, fmt.Errorf("%w: SMB1 words %d of %d bytes", ErrTruncated, wc, len(b)-p)
	}
	words = b[p : p+2*wc]
	p += 2 * wc
	bc := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	if bc > len(b)-p {
		return status, flags2, words, nil, fmt.Errorf("%w: SMB1 ByteCount %d of %d bytes", ErrTruncated, bc, len(b)-p)
	}
	return status, flags2, words, b[p : p+bc], nil
}

// parseSMB1Negotiate parses an SMB_COM_NEGOTIATE response: the NT LM 0.12
// form with 17 words (MS-CIFS §2.2.4.52.2, extended security in MS-SMB
// §2.2.4.5.2), or the 1-word form with DialectIndex 0xFFFF.
func parseSMB1Negotiate(b []byte) (smb1Negotiate, error) {
	var r smb1Negotiate
	status, _, words, data, err := smb1Parse(b, smb1ComNegotiate)
	if err != nil {
		return r, err
	}
	if status != statusSuccess {
		return r, &StatusError{Op: "smb1 negotiate", Status: status}
	}
	switch len(words) {
	case 2:
		r.DialectIndex = binary.LittleEndian.Uint16(words)
		if r.DialectIndex != 0xFFFF {
			return r, fmt.Errorf("%w: 1-word SMB1 negotiate with dialect index %d", ErrMalformed, r.DialectIndex)
		}
		return r, nil
	case 34:
	default:
		return r, fmt.Errorf("%w: SMB1 negotiate WordCount %d", ErrMalformed, len(words)/2)
	}
	r.DialectIndex = binary.LittleEndian.Uint16(words)
	r.SecurityMode = words[2]
	r.MaxMpxCount = binary.LittleEndian.Uint16(words[3:])
	r.MaxBufferSize = binary.LittleEndian.Uint32(words[7:])
	r.Capabilities = binary.LittleEndian.Uint32(words[19:])
	r.SystemTime = binary.LittleEndian.Uint64(words[23:])
	r.TimeZone = int16(binary.LittleEndian.Uint16(words[31:]))
	if r.DialectIndex != 0 {
		return r, fmt.Errorf("%w: SMB1 dialect index %d, only 0 was offered", ErrMalformed, r.DialectIndex)
	}
	if r.Capabilities&smb1CapExtendedSecurity != 0 {
		if len(data) < 16 {
			return r, fmt.Errorf("%w: SMB1 negotiate ServerGUID", ErrTruncated)
		}
		r.HasExtSecurity = true
		r.ServerGUID = [16]byte(data[:16])
		r.SecurityBlob = data[16:]
	}
	return r, nil
}

// appendSMB1SessionSetup appends an SMB_COM_SESSION_SETUP_ANDX request with
// extended security (MS-SMB §2.2.4.6.1, 12 words) carrying blob, with empty
// NativeOS and NativeLanMan.
func appendSMB1SessionSetup(b []byte, blob []byte) []byte {
	start := len(b)
	b = appendSMB1Header(b, smb1ComSessionSetupX, 1)
	b = append(b, 12)                               // WordCount
	b = append(b, 0xFF, 0, 0, 0)                    // AndXCommand none, AndXReserved, AndXOffset
	b = binary.LittleEndian.AppendUint16(b, 0xFFFF) // MaxBufferSize
	b = binary.LittleEndian.AppendUint16(b, 2)      // MaxMpxCount
	b = binary.LittleEndian.AppendUint16(b, 1)      // VcNumber
	b = binary.LittleEndian.AppendUint32(b, 0)      // SessionKey
	b = binary.LittleEndian.AppendUint16(b, uint16(len(blob)))
	b = binary.LittleEndian.AppendUint32(b, 0)          // Reserved
	b = binary.LittleEndian.AppendUint32(b, 0x800000d4) // Capabilities: EXTENDED_SECURITY, LEVEL_II_OPLOCKS, STATUS32, NT_SMBS, UNICODE (MS-CIFS §2.2.4.53.1, MS-SMB §2.2.4.6.1)
	bytes := append([]byte(nil), blob...)
	// Unicode strings are 2-byte aligned from the header start.
	if (len(b)-start+2+len(bytes))%2 != 0 {
		bytes = append(bytes, 0)
	}
	bytes = append(bytes, 0, 0, 0, 0) // NativeOS "", NativeLanMan ""
	b = binary.LittleEndian.AppendUint16(b, uint16(len(bytes)))
	return append(b, bytes...)
}

// smb1SessionSetup is a parsed SESSION_SETUP_ANDX extended-security
// response (MS-SMB §2.2.4.6.2).
type smb1SessionSetup struct {
	Status        uint32
	Action        uint16
	SecurityBlob  []byte // aliases the input
	NativeOS      string
	NativeLanMan  string
	PrimaryDomain string
}

// maxSMB1String bounds each native string (characters kept).
const maxSMB1String = 256

// parseSMB1SessionSetup parses a SESSION_SETUP_ANDX response. Status
// STATUS_MORE_PROCESSING_REQUIRED and success carry the 4-word form; others
// are returned as *StatusError.
func parseSMB1SessionSetup(b []byte) (smb1SessionSetup, error) {
	var r smb1SessionSetup
	status, flags2, words, data, err := smb1Parse(b, smb1ComSessionSetupX)
	if err != nil {
		return r, err
	}
	r.Status = status
	if status != statusSuccess && status != statusMoreProcessingRequired {
		return r, &StatusError{Op: "smb1 session setup", Status: status}
	}
	if len(words) != 8 {
		return r, fmt.Errorf("%w: SMB1 session setup WordCount %d", ErrMalformed, len(words)/2)
	}
	r.Action = binary.LittleEndian.Uint16(words[4:])
	n := int(binary.LittleEndian.Uint16(words[6:]))
	if n > len(data) {
		return r, fmt.Errorf("%w: SMB1 SecurityBlobLength %d of %d bytes", ErrTruncated, n, len(data))
	}
	r.SecurityBlob = data[:n]
	rest := data[n:]
	unicode := flags2&smb1Flags2Unicode != 0
	if unicode && len(rest)%2 == 1 {
		// MS-SMB §2.2.4.6.2 puts a Pad byte before the strings when they
		// would start on an odd offset from the header. impacket pads
		// unconditionally (observed in testdata/resp/impacket), so the pad
		// is detected by parity: three NUL-terminated UTF-16 strings are
		// an even number of bytes.
		rest = rest[1:]
	}
	var strs [3]string
	for i := range strs {
		var s string
		s, rest = smb1String(rest, unicode)
		strs[i] = s
	}
	r.NativeOS, r.NativeLanMan, r.PrimaryDomain = strs[0], strs[1], strs[2]
	return r, nil
}

// smb1String splits one NUL-terminated string (UTF-16LE or OEM) off b. An
// unterminated final string is taken whole; at most maxSMB1String
// characters are kept.
func smb1String(b []byte, unicode bool) (string, []byte) {
	if !unicode {
		for i, c := range b {
			if c == 0 {
				return string(b[:min(i, maxSMB1String)]), b[i+1:]
			}
		}
		return string(b[:min(len(b), maxSMB1String)]), nil
	}
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			return string(utf16.Decode(u)), b[i+2:]
		}
		if len(u) < maxSMB1String {
			u = append(u, c)
		}
	}
	return string(utf16.Decode(u)), nil
}
