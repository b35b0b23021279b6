package smbprobe

import (
	"encoding/binary"
	"fmt"
)

// SMB2 header, MS-SMB2 §2.2.1.2 (SYNC). Offsets from the start of the header.
const (
	smb2HeaderLen       = 64
	smb2OffStatus       = 8  // Status, 4 bytes
	smb2OffCommand      = 12 // Command, 2 bytes
	smb2OffCredit       = 14 // CreditRequest/CreditResponse, 2 bytes
	smb2OffFlags        = 16 // Flags, 4 bytes
	smb2OffMessageID    = 24 // MessageId, 8 bytes
	smb2OffSessionID    = 40 // SessionId, 8 bytes
	smb2FlagsServerToRe = 0x00000001
)

// smb2Magic is ProtocolId, MS-SMB2 §2.2.1.1: 0xFE 'S' 'M' 'B'.
var smb2Magic = [4]byte{0xFE, 'S', 'M', 'B'}

// SMB2 commands, MS-SMB2 §2.2.1.2.
const (
	smb2Negotiate    = 0x0000
	smb2SessionSetup = 0x0001
)

// NTSTATUS values, MS-ERREF §2.3.1.
const (
	statusSuccess                = 0x00000000
	statusMoreProcessingRequired = 0xC0000016
	statusInvalidParameter       = 0xC000000D
	statusAccessDenied           = 0xC0000022
	statusLogonFailure           = 0xC000006D
	statusNotSupported           = 0xC00000BB
)

// Dialect revisions, MS-SMB2 §2.2.3.
const (
	dialect202   = 0x0202
	dialect210   = 0x0210
	dialect300   = 0x0300
	dialect302   = 0x0302
	dialect311   = 0x0311
	dialectWild  = 0x02FF // "SMB 2.???" answer, MS-SMB2 §3.3.5.3.1
	smb2SecSigEn = 0x0001 // SMB2_NEGOTIATE_SIGNING_ENABLED, §2.2.3
	smb2SecSigRq = 0x0002 // SMB2_NEGOTIATE_SIGNING_REQUIRED, §2.2.3
)

// Global capabilities, MS-SMB2 §2.2.3 and §2.2.4.
var smb2CapNames = [...]string{
	"dfs",                // 0x01 SMB2_GLOBAL_CAP_DFS
	"leasing",            // 0x02 SMB2_GLOBAL_CAP_LEASING
	"large_mtu",          // 0x04 SMB2_GLOBAL_CAP_LARGE_MTU
	"multi_channel",      // 0x08 SMB2_GLOBAL_CAP_MULTI_CHANNEL
	"persistent_handles", // 0x10 SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
	"directory_leasing",  // 0x20 SMB2_GLOBAL_CAP_DIRECTORY_LEASING
	"encryption",         // 0x40 SMB2_GLOBAL_CAP_ENCRYPTION
	"notifications",      // 0x80 SMB2_GLOBAL_CAP_NOTIFICATIONS
}

// smb2ClientCaps advertises every client capability, 0x01–0x40 (§2.2.3).
const smb2ClientCaps = 0x7F

// Negotiate context types, MS-SMB2 §2.2.3.1.
const (
	ctxPreauth     = 0x0001 // SMB2_PREAUTH_INTEGRITY_CAPABILITIES, §2.2.3.1.1
	ctxEncryption  = 0x0002 // SMB2_ENCRYPTION_CAPABILITIES, §2.2.3.1.2
	ctxCompression = 0x0003 // SMB2_COMPRESSION_CAPABILITIES, §2.2.3.1.3
	ctxNetname     = 0x0005 // SMB2_NETNAME_NEGOTIATE_CONTEXT_ID, §2.2.3.1.4
	ctxTransport   = 0x0006 // SMB2_TRANSPORT_CAPABILITIES, §2.2.3.1.5
	ctxRDMA        = 0x0007 // SMB2_RDMA_TRANSFORM_CAPABILITIES, §2.2.3.1.6
	ctxSigning     = 0x0008 // SMB2_SIGNING_CAPABILITIES, §2.2.3.1.7
)

// smb2Header is the part of an SMB2 SYNC header the probe needs.
type smb2Header struct {
	Status    uint32
	Command   uint16
	Flags     uint32
	MessageID uint64
	SessionID uint64
}

// appendSMB2Header appends a SYNC request header (MS-SMB2 §2.2.1.2) with
// CreditCharge 1 and CreditRequest 1.
func appendSMB2Header(b []byte, cmd uint16, msgID, sessionID uint64) []byte {
	b = append(b, smb2Magic[:]...)
	b = binary.LittleEndian.AppendUint16(b, smb2HeaderLen) // StructureSize
	b = binary.LittleEndian.AppendUint16(b, 1)             // CreditCharge
	b = binary.LittleEndian.AppendUint32(b, 0)             // (ChannelSequence/)Status
	b = binary.LittleEndian.AppendUint16(b, cmd)           // Command
	b = binary.LittleEndian.AppendUint16(b, 1)             // CreditRequest
	b = binary.LittleEndian.AppendUint32(b, 0)             // Flags
	b = binary.LittleEndian.AppendUint32(b, 0)             // NextCommand
	b = binary.LittleEndian.AppendUint64(b, msgID)         // MessageId
	b = binary.LittleEndian.AppendUint32(b, 0)             // Reserved (ProcessId)
	b = binary.LittleEndian.AppendUint32(b, 0)             // TreeId
	b = binary.LittleEndian.AppendUint64(b, sessionID)     // SessionId
	return append(b, make([]byte, 16)...)                  // Signature
}

// parseSMB2Header checks ProtocolId and StructureSize (MS-SMB2 §2.2.1.2)
// and that the message is a response.
func parseSMB2Header(b []byte) (smb2Header, error) {
	if len(b) < 4 || [4]byte(b[:4]) != smb2Magic {
		return smb2Header{}, fmt.Errorf("%w: no SMB2 protocol id", ErrNotSMB)
	}
	if len(b) < smb2HeaderLen {
		return smb2Header{}, fmt.Errorf("%w: SMB2 header is %d bytes", ErrTruncated, len(b))
	}
	if binary.LittleEndian.Uint16(b[4:]) != smb2HeaderLen {
		return smb2Header{}, fmt.Errorf("%w: SMB2 header StructureSize %d", ErrMalformed, binary.LittleEndian.Uint16(b[4:]))
	}
	h := smb2Header{
		Status:    binary.LittleEndian.Uint32(b[smb2OffStatus:]),
		Command:   binary.LittleEndian.Uint16(b[smb2OffCommand:]),
		Flags:     binary.LittleEndian.Uint32(b[smb2OffFlags:]),
		MessageID: binary.LittleEndian.Uint64(b[smb2OffMessageID:]),
		SessionID: binary.LittleEndian.Uint64(b[smb2OffSessionID:]),
	}
	if h.Flags&smb2FlagsServerToRe == 0 {
		return h, fmt.Errorf("%w: SMB2 message is not a response", ErrMalformed)
	}
	return h, nil
}

// negotiateRequest is the variable part of our SMB2 NEGOTIATE request.
type negotiateRequest struct {
	ClientGUID [16]byte // fresh and random per connection (see Probe)
	Salt       [32]byte // preauth integrity salt, §2.2.3.1.1
	// NoSMB311 drops 3.1.1 and every negotiate context: the NetBIOS
	// transport must not negotiate 3.1.1 (MS-SMB2 §3.2.4.2.2.2).
	NoSMB311 bool
}

// appendNegotiateRequest appends an SMB2 NEGOTIATE request (header and body,
// without the NBSS frame) offering 2.0.2 … 3.1.1, signing enabled, every
// capability and, with 3.1.1, the PREAUTH (SHA-512), ENCRYPTION
// (AES-128/256-GCM/CCM), COMPRESSION and SIGNING (GMAC, CMAC, HMAC-SHA256)
// contexts. MS-SMB2 §2.2.3.
func appendNegotiateRequest(b []byte, req *negotiateRequest) []byte {
	start := len(b)
	b = appendSMB2Header(b, smb2Negotiate, 0, 0)
	dialects := []uint16{dialect202, dialect210, dialect300, dialect302, dialect311}
	if req.NoSMB311 {
		dialects = dialects[:4]
	}
	b = binary.LittleEndian.AppendUint16(b, 36)                    // StructureSize
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dialects))) // DialectCount
	b = binary.LittleEndian.AppendUint16(b, smb2SecSigEn)          // SecurityMode
	b = binary.LittleEndian.AppendUint16(b, 0)                     // Reserved
	b = binary.LittleEndian.AppendUint32(b, smb2ClientCaps)        // Capabilities
	b = append(b, req.ClientGUID[:]...)                            // ClientGuid
	ctxOffField := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0) // NegotiateContextOffset, set below
	ctxCountField := len(b)
	b = binary.LittleEndian.AppendUint16(b, 0) // NegotiateContextCount, set below
	b = binary.LittleEndian.AppendUint16(b, 0) // Reserved2
	for _, d := range dialects {
		b = binary.LittleEndian.AppendUint16(b, d)
	}
	if req.NoSMB311 {
		return b
	}
	// Contexts start 8-byte aligned from the header (§2.2.3) and each
	// following context is 8-byte aligned too (§2.2.3.1).
	pad := func(b []byte) []byte {
		for (len(b)-start)%8 != 0 {
			b = append(b, 0)
		}
		return b
	}
	b = pad(b)
	binary.LittleEndian.PutUint32(b[ctxOffField:], uint32(len(b)-start))
	ctx := func(b []byte, typ uint16, data ...uint16) []byte {
		b = binary.LittleEndian.AppendUint16(b, typ)
		b = binary.LittleEndian.AppendUint16(b, uint16(2*len(data)))
		b = binary.LittleEndian.AppendUint32(b, 0) // Reserved
		for _, d := range data {
			b = binary.LittleEndian.AppendUint16(b, d)
		}
		return b
	}
	// §2.2.3.1.1: HashAlgorithmCount 1, SaltLength 32, SHA-512 (0x0001), Salt.
	b = binary.LittleEndian.AppendUint16(b, ctxPreauth)
	b = binary.LittleEndian.AppendUint16(b, 6+32)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 32)
	b = binary.LittleEndian.AppendUint16(b, 0x0001)
	b = append(b, req.Salt[:]...)
	// §2.2.3.1.2: AES-128-GCM 2, AES-128-CCM 1, AES-256-GCM 4, AES-256-CCM 3.
	b = ctx(pad(b), ctxEncryption, 4, 2, 1, 4, 3)
	// §2.2.3.1.3: count 3, padding, flags 0, LZNT1 1, LZ77 2, LZ77+Huffman 3.
	b = ctx(pad(b), ctxCompression, 3, 0, 0, 0, 1, 2, 3)
	// §2.2.3.1.7: count 3, AES-GMAC 2, AES-CMAC 1, HMAC-SHA256 0.
	b = ctx(pad(b), ctxSigning, 3, 2, 1, 0)
	binary.LittleEndian.PutUint16(b[ctxCountField:], 4)
	return b
}

// negotiateResponse is a parsed SMB2 NEGOTIATE response, MS-SMB2 §2.2.4.
type negotiateResponse struct {
	SecurityMode    uint16
	Dialect         uint16
	ServerGUID      [16]byte
	Capabilities    uint32
	MaxTransactSize uint32
	MaxReadSize     uint32
	MaxWriteSize    uint32
	SystemTime      uint64 // FILETIME
	ServerStartTime uint64 // FILETIME
	SecurityBuffer  []byte // SPNEGO token, aliases the input
	Contexts        []negotiateContext
}

// negotiateContext is one NEGOTIATE_CONTEXT (§2.2.3.1); Data aliases the input.
type negotiateContext struct {
	Type uint16
	Data []byte
}

// maxContexts bounds the negotiate contexts kept from one response.
const maxContexts = 16

// parseNegotiateResponse parses an SMB2 NEGOTIATE response including its
// header. A non-success status is returned as *StatusError with the header.
func parseNegotiateResponse(b []byte) (negotiateResponse, error) {
	h, err := parseSMB2Header(b)
	if err != nil {
		return negotiateResponse{}, err
	}
	if h.Command != smb2Negotiate {
		return negotiateResponse{}, fmt.Errorf("%w: command 0x%04x in NEGOTIATE response", ErrMalformed, h.Command)
	}
	if h.Status != statusSuccess {
		return negotiateResponse{}, &StatusError{Op: "smb2 negotiate", Status: h.Status}
	}
	body := b[smb2HeaderLen:]
	// §2.2.4: the fixed part is 64 bytes; StructureSize is 65.
	if len(body) < 64 {
		return negotiateResponse{}, fmt.Errorf("%w: NEGOTIATE response body is %d bytes", ErrTruncated, len(body))
	}
	if ss := binary.LittleEndian.Uint16(body); ss != 65 {
		return negotiateResponse{}, fmt.Errorf("%w: NEGOTIATE response StructureSize %d", ErrMalformed, ss)
	}
	r := negotiateResponse{
		SecurityMode:    binary.LittleEndian.Uint16(body[2:]),
		Dialect:         binary.LittleEndian.Uint16(body[4:]),
		ServerGUID:      [16]byte(body[8:24]),
		Capabilities:    binary.LittleEndian.Uint32(body[24:]),
		MaxTransactSize: binary.LittleEndian.Uint32(body[28:]),
		MaxReadSize:     binary.LittleEndian.Uint32(body[32:]),
		MaxWriteSize:    binary.LittleEndian.Uint32(body[36:]),
		SystemTime:      binary.LittleEndian.Uint64(body[40:]),
		ServerStartTime: binary.LittleEndian.Uint64(body[48:]),
	}
	ctxCount := int(binary.LittleEndian.Uint16(body[6:]))
	// SecurityBufferOffset/Length, §2.2.4: offset from the header start.
	secOff, secLen := int(binary.LittleEndian.Uint16(body[56:])), int(binary.LittleEndian.Uint16(body[58:]))
	if secLen > 0 {
		if secOff < smb2HeaderLen+64 || secOff+secLen > len(b) {
			return r, fmt.Errorf("%w: security buffer [%d,+%d) outside %d bytes", ErrTruncated, secOff, secLen, len(b))
		}
		r.SecurityBuffer = b[secOff : secOff+secLen]
	}
	// Contexts are present only when the dialect is 3.1.1 (§2.2.4).
	if r.Dialect != dialect311 || ctxCount == 0 {
		return r, nil
	}
	off := int(binary.LittleEndian.Uint32(body[60:]))
	if off < smb2HeaderLen+64 || off > len(b) {
		return r, fmt.Errorf("%w: negotiate context offset %d outside %d bytes", ErrTruncated, off, len(b))
	}
	for i := 0; i < ctxCount; i++ {
		if i > 0 {
			off = (off + 7) &^ 7 // §2.2.3.1: 8-byte aligned
		}
		if off+8 > len(b) {
			return r, fmt.Errorf("%w: negotiate context %d header at %d", ErrTruncated, i, off)
		}
		typ := binary.LittleEndian.Uint16(b[off:])
		n := int(binary.LittleEndian.Uint16(b[off+2:]))
		if off+8+n > len(b) {
			return r, fmt.Errorf("%w: negotiate context %d data [%d,+%d)", ErrTruncated, i, off+8, n)
		}
		if len(r.Contexts) < maxContexts {
			r.Contexts = append(r.Contexts, negotiateContext{Type: typ, Data: b[off+8 : off+8+n]})
		}
		off += 8 + n
	}
	return r, nil
}

// StatusError is a non-success NTSTATUS (MS-ERREF §2.3.1) in a reply.
type StatusError struct {
	Op     string // the request, e.g. "smb2 negotiate"
	Status uint32 // NTSTATUS
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status 0x%08x%s", e.Op, e.Status, statusName(e.Status))
}

func statusName(s uint32) string {
	switch s {
	case statusInvalidParameter:
		return " (STATUS_INVALID_PARAMETER)"
	case statusAccessDenied:
		return " (STATUS_ACCESS_DENIED)"
	case statusLogonFailure:
		return " (STATUS_LOGON_FAILURE)"
	case statusNotSupported:
		return " (STATUS_NOT_SUPPORTED)"
	case statusMoreProcessingRequired:
		return " (STATUS_MORE_PROCESSING_REQUIRED)"
	}
	return ""
}

// appendSessionSetupRequest appends an SMB2 SESSION_SETUP request, MessageId 1
// and SessionId 0, carrying token (MS-SMB2 §2.2.5).
func appendSessionSetupRequest(b []byte, token []byte) []byte {
	b = appendSMB2Header(b, smb2SessionSetup, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, 25)                 // StructureSize
	b = append(b, 0)                                            // Flags
	b = append(b, smb2SecSigEn)                                 // SecurityMode
	b = binary.LittleEndian.AppendUint32(b, 0x01)               // Capabilities: DFS
	b = binary.LittleEndian.AppendUint32(b, 0)                  // Channel
	b = binary.LittleEndian.AppendUint16(b, smb2HeaderLen+24)   // SecurityBufferOffset
	b = binary.LittleEndian.AppendUint16(b, uint16(len(token))) // SecurityBufferLength
	b = binary.LittleEndian.AppendUint64(b, 0)                  // PreviousSessionId
	return append(b, token...)
}

// sessionSetupResponse is a parsed SMB2 SESSION_SETUP response (§2.2.6).
type sessionSetupResponse struct {
	Status         uint32
	SessionFlags   uint16
	SecurityBuffer []byte // aliases the input
}

// parseSessionSetupResponse parses an SMB2 SESSION_SETUP response. Success
// and STATUS_MORE_PROCESSING_REQUIRED carry a body; other statuses are
// returned as *StatusError.
func parseSessionSetupResponse(b []byte) (sessionSetupResponse, error) {
	h, err := parseSMB2Header(b)
	if err != nil {
		return sessionSetupResponse{}, err
	}
	if h.Command != smb2SessionSetup {
		return sessionSetupResponse{}, fmt.Errorf("%w: command 0x%04x in SESSION_SETUP response", ErrMalformed, h.Command)
	}
	if h.Status != statusSuccess && h.Status != statusMoreProcessingRequired {
		return sessionSetupResponse{Status: h.Status}, &StatusError{Op: "smb2 session setup", Status: h.Status}
	}
	body := b[smb2HeaderLen:]
	if len(body) < 8 {
		return sessionSetupResponse{}, fmt.Errorf("%w: SESSION_SETUP response body is %d bytes", ErrTruncated, len(body))
	}
	if ss := binary.LittleEndian.Uint16(body); ss != 9 {
		return sessionSetupResponse{}, fmt.Errorf("%w: SESSION_SETUP response StructureSize %d", ErrMalformed, ss)
	}
	r := sessionSetupResponse{Status: h.Status, SessionFlags: binary.LittleEndian.Uint16(body[2:])}
	off, n := int(binary.LittleEndian.Uint16(body[4:])), int(binary.LittleEndian.Uint16(body[6:]))
	if n > 0 {
		if off < smb2HeaderLen+8 || off+n > len(b) {
			return r, fmt.Errorf("%w: security buffer [%d,+%d) outside %d bytes", ErrTruncated, off, n, len(b))
		}
		r.SecurityBuffer = b[off : off+n]
	}
	return r, nil
}
