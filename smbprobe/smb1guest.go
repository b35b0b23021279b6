package smbprobe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The SMB1 guest follow-up (Config.Shares on a server without SMB2): one
// connection, five round trips (after an NBSS session request on port 139),
// all MS-CIFS:
//
//	NEGOTIATE "NT LM 0.12"                       §2.2.4.52
//	SESSION_SETUP_ANDX  SPNEGO(NTLM NEGOTIATE)    §2.2.4.53, MS-SMB §2.2.4.6
//	SESSION_SETUP_ANDX  SPNEGO(NTLM AUTHENTICATE: "guest", empty password, NTLMv2)
//	TREE_CONNECT_ANDX   \\HOST\IPC$               §2.2.4.55
//	TRANSACTION         \PIPE\LANMAN, RAP NetShareEnum level 1
//	                                              §2.2.4.33, MS-RAP §2.5.6.1
//
// and, only when RAP fails without listing a share (impacket 0.10.0), the
// three round trips of SRVSVC NetrShareEnum (smb1srvsvc.go).
//
// No LOGOFF is sent: closing the connection ends the session
// (MS-CIFS §3.3.7.1).
//
// NTLMv2 because Samba 4.17 defaults to "ntlm auth = ntlmv2-only": an
// NTLMv1 or LM response for an unknown user is refused before "map to
// guest = Bad User" applies. Observed to work against Samba 4.17.12
// (server max protocol = NT1) and impacket 0.10.0's smbserver.py.
//
// Encryption: an SMB1 session is never encrypted in MS-CIFS (SMB3
// encryption, MS-SMB2 §3.1.4.3, does not exist there), so a server that
// let the guest list shares over SMB1 did not require encryption of this
// session: Guest.EncryptionRequired is false. Samba's own SMB1 transport
// encryption (a CIFS UNIX extension, not MS-CIFS) is not negotiated here;
// with "server smb encrypt = required" Samba refuses unencrypted SMB1
// requests on a tree with STATUS_ACCESS_DENIED, which is reported as an
// error, not as encryption required.

// SMB1 commands and fields of the guest follow-up.
const (
	smb1ComTransaction    = 0x25 // SMB_COM_TRANSACTION, MS-CIFS §2.2.4.33
	smb1ComTreeConnectX   = 0x75 // SMB_COM_TREE_CONNECT_ANDX, MS-CIFS §2.2.4.55
	smb1OffTID            = 24   // TID, MS-CIFS §2.2.3.1
	smb1OffUID            = 28   // UID
	smb1OffMID            = 30   // MID
	smb1ActionGuest       = 0x0001
	rapOpNetShareEnum     = 0x0000 // MS-RAP §2.5.1, RAPOpcode NetShareEnum
	rapParamDesc          = "WrLeh"
	rapDataDescLevel1     = "B13BWz"
	rapReceiveBufferSize  = 0x1000 // 4 KiB: ≥ 200 NetShareInfo1 entries
	rapNetShareInfo1Len   = 20     // NetShareInfo1, MS-RAP §2.5.6.3.2: name 13, pad 1, type 2, remark 4
	rapErrorMoreData      = 234    // ERROR_MORE_DATA, MS-RAP §2.5.2
	maxShares             = 1024
	smb1GuestUser         = "guest"
	smb1TransactionWords  = 14
	smb1TransactionRWords = 10
)

// smb1SetIDs writes TID, UID and MID into an SMB1 header at msg
// (MS-CIFS §2.2.3.1).
func smb1SetIDs(msg []byte, tid, uid, mid uint16) {
	binary.LittleEndian.PutUint16(msg[smb1OffTID:], tid)
	binary.LittleEndian.PutUint16(msg[smb1OffUID:], uid)
	binary.LittleEndian.PutUint16(msg[smb1OffMID:], mid)
}

// smb1IDs reads TID and UID of an SMB1 reply of at least smb1HeaderLen
// bytes (the callers' parsers checked that).
func smb1IDs(b []byte) (tid, uid uint16) {
	return binary.LittleEndian.Uint16(b[smb1OffTID:]), binary.LittleEndian.Uint16(b[smb1OffUID:])
}

// appendSMB1Unicode appends s as a NUL-terminated UTF-16LE SMB_STRING,
// preceded by a pad byte when it would start at an odd offset from the
// header at b[start:] (MS-CIFS §2.2.1.1).
func appendSMB1Unicode(b []byte, start int, s string) []byte {
	if (len(b)-start)%2 != 0 {
		b = append(b, 0)
	}
	b = append(b, utf16LE(s)...)
	return append(b, 0, 0)
}

// appendSMB1TreeConnect appends a TREE_CONNECT_ANDX request
// (MS-CIFS §2.2.4.55.1) for path with a 1-byte empty password (the session
// is authenticated: user-level security) and Service "?????" (any type).
func appendSMB1TreeConnect(b []byte, path string) []byte {
	start := len(b)
	b = appendSMB1Header(b, smb1ComTreeConnectX, 0)
	b = append(b, 4)                           // WordCount
	b = append(b, 0xFF, 0, 0, 0)               // AndXCommand none, AndXReserved, AndXOffset
	b = binary.LittleEndian.AppendUint16(b, 0) // Flags
	b = binary.LittleEndian.AppendUint16(b, 1) // PasswordLength
	bc := len(b)
	b = append(b, 0, 0) // ByteCount, patched below
	b = append(b, 0)    // Password: one NUL
	b = appendSMB1Unicode(b, start, path)
	b = append(b, "?????\x00"...) // Service, OEM string
	binary.LittleEndian.PutUint16(b[bc:], uint16(len(b)-bc-2))
	return b
}

// parseSMB1TreeConnect parses a TREE_CONNECT_ANDX response: the 3-word form
// of MS-CIFS §2.2.4.55.2 or the 7-word extended form of MS-SMB §2.2.4.7.2.
// It returns the TID from the header and the Service string ("IPC").
func parseSMB1TreeConnect(b []byte) (tid uint16, service string, err error) {
	status, _, words, data, err := smb1Parse(b, smb1ComTreeConnectX)
	if err != nil {
		return 0, "", err
	}
	if status != statusSuccess {
		return 0, "", &StatusError{Op: "smb1 tree connect", Status: status}
	}
	if len(words) != 6 && len(words) != 14 {
		return 0, "", fmt.Errorf("%w: SMB1 tree connect WordCount %d", ErrMalformed, len(words)/2)
	}
	tid, _ = smb1IDs(b)
	service, _ = smb1String(data, false) // Service is always OEM (§2.2.4.55.2)
	return tid, service, nil
}

// appendRAPNetShareEnum appends the RAP NetShareEnumRequest for level 1
// (MS-RAP §2.5.6.1.1): RAPOpcode, ParamDesc "WrLeh", DataDesc "B13BWz",
// InfoLevel 1, ReceiveBufferSize.
func appendRAPNetShareEnum(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, rapOpNetShareEnum)
	b = append(b, rapParamDesc+"\x00"...)
	b = append(b, rapDataDescLevel1+"\x00"...)
	b = binary.LittleEndian.AppendUint16(b, 1)
	return binary.LittleEndian.AppendUint16(b, rapReceiveBufferSize)
}

// appendSMB1Transaction appends an SMB_COM_TRANSACTION request
// (MS-CIFS §2.2.4.33.1) named name, with setup words, params and data,
// asking for at most maxParams and maxData bytes back. Parameters and data
// start on 4-byte boundaries from the header (Pad1, Pad2).
func appendSMB1Transaction(b []byte, name string, setup []uint16, params, data []byte, maxParams, maxData uint16) []byte {
	start := len(b)
	b = appendSMB1Header(b, smb1ComTransaction, 0)
	b = append(b, byte(smb1TransactionWords+len(setup)))
	words := len(b)
	b = append(b, make([]byte, 2*smb1TransactionWords)...)
	for _, s := range setup {
		b = binary.LittleEndian.AppendUint16(b, s)
	}
	bc := len(b)
	b = append(b, 0, 0) // ByteCount, patched below
	b = appendSMB1Unicode(b, start, name)
	for (len(b)-start)%4 != 0 {
		b = append(b, 0) // Pad1
	}
	paramOff := len(b) - start
	b = append(b, params...)
	for len(data) > 0 && (len(b)-start)%4 != 0 {
		b = append(b, 0) // Pad2
	}
	dataOff := len(b) - start
	b = append(b, data...)
	w := b[words:]
	binary.LittleEndian.PutUint16(w[0:], uint16(len(params))) // TotalParameterCount
	binary.LittleEndian.PutUint16(w[2:], uint16(len(data)))   // TotalDataCount
	binary.LittleEndian.PutUint16(w[4:], maxParams)           // MaxParameterCount
	binary.LittleEndian.PutUint16(w[6:], maxData)             // MaxDataCount
	// w[8] MaxSetupCount 0, w[9] Reserved1, w[10:12] Flags 0,
	// w[12:16] Timeout 0 (return immediately), w[16:18] Reserved2.
	binary.LittleEndian.PutUint16(w[18:], uint16(len(params))) // ParameterCount
	binary.LittleEndian.PutUint16(w[20:], uint16(paramOff))    // ParameterOffset
	binary.LittleEndian.PutUint16(w[22:], uint16(len(data)))   // DataCount
	binary.LittleEndian.PutUint16(w[24:], uint16(dataOff))     // DataOffset
	w[26] = byte(len(setup))                                   // SetupCount; w[27] Reserved3
	binary.LittleEndian.PutUint16(b[bc:], uint16(len(b)-bc-2))
	return b
}

// parseSMB1Transaction parses a single SMB_COM_TRANSACTION response
// (MS-CIFS §2.2.4.33.2) and returns its Trans_Parameters and Trans_Data,
// which alias b. The offsets are from the start of the header. A response
// split over several messages (counts below the totals, or displacements)
// is refused: the request asks for less than one message holds.
func parseSMB1Transaction(b []byte) (params, data []byte, err error) {
	status, _, words, _, err := smb1Parse(b, smb1ComTransaction)
	if err != nil {
		return nil, nil, err
	}
	if status != statusSuccess {
		return nil, nil, &StatusError{Op: "smb1 transaction", Status: status}
	}
	if len(words) < 2*smb1TransactionRWords || len(words) != 2*smb1TransactionRWords+2*int(words[18]) {
		return nil, nil, fmt.Errorf("%w: SMB1 transaction WordCount %d", ErrMalformed, len(words)/2)
	}
	u16 := func(i int) int { return int(binary.LittleEndian.Uint16(words[i:])) }
	totalParams, totalData := u16(0), u16(2)
	pCount, pOff, pDisp := u16(6), u16(8), u16(10)
	dCount, dOff, dDisp := u16(12), u16(14), u16(16)
	if pCount != totalParams || dCount != totalData || pDisp != 0 || dDisp != 0 {
		return nil, nil, fmt.Errorf("%w: SMB1 transaction reply in parts (%d/%d parameter, %d/%d data bytes)",
			ErrMalformed, pCount, totalParams, dCount, totalData)
	}
	if pOff > len(b) || pCount > len(b)-pOff || dOff > len(b) || dCount > len(b)-dOff {
		return nil, nil, fmt.Errorf("%w: SMB1 transaction parameters [%d,+%d) or data [%d,+%d) outside %d bytes",
			ErrTruncated, pOff, pCount, dOff, dCount, len(b))
	}
	return b[pOff : pOff+pCount], b[dOff : dOff+dCount], nil
}

// rapShare is one NetShareInfo1 entry (MS-RAP §2.5.6.3.2): the name and the
// share type (0 disk, 1 print queue, 2 device, 3 IPC).
type rapShare struct {
	Name string
	Type uint16
}

// rapError is a RAP response's non-zero Win32ErrorCode (MS-RAP §2.5.2).
type rapError struct {
	Op   string
	Code uint16
}

func (e *rapError) Error() string {
	return fmt.Sprintf("%s: RAP Win32ErrorCode %d", e.Op, e.Code)
}

// parseNetShareEnum parses a RAP NetShareEnumResponse (MS-RAP §2.5.6.1.2):
// the parameters Win32ErrorCode, Converter, EntriesReturned and
// EntriesAvailable, and EntriesReturned NetShareInfo1 structures of 20
// bytes in data. ERROR_MORE_DATA keeps the entries that fit and returns a
// *rapError with them. NetworkName is an OEM string; bytes above 0x7F are
// read as Latin-1, so every name is valid UTF-8.
func parseNetShareEnum(params, data []byte) ([]rapShare, error) {
	if len(params) < 8 {
		return nil, fmt.Errorf("%w: RAP NetShareEnum parameters of %d bytes", ErrTruncated, len(params))
	}
	code := binary.LittleEndian.Uint16(params)
	if code != 0 && code != rapErrorMoreData {
		return nil, &rapError{Op: "rap netshareenum", Code: code}
	}
	n := int(binary.LittleEndian.Uint16(params[4:]))
	if n > len(data)/rapNetShareInfo1Len {
		return nil, fmt.Errorf("%w: RAP NetShareEnum %d entries in %d bytes", ErrTruncated, n, len(data))
	}
	n = min(n, maxShares)
	shares := make([]rapShare, 0, n)
	for i := range n {
		e := data[i*rapNetShareInfo1Len:][:rapNetShareInfo1Len]
		name := e[:13]
		for j, c := range name {
			if c == 0 {
				name = name[:j]
				break
			}
		}
		r := make([]rune, len(name))
		for j, c := range name {
			r[j] = rune(c)
		}
		shares = append(shares, rapShare{Name: string(r), Type: binary.LittleEndian.Uint16(e[14:])})
	}
	if code == rapErrorMoreData {
		return shares, &rapError{Op: "rap netshareenum", Code: code}
	}
	return shares, nil
}

// guestSMB1 is the SMB1 guest follow-up on a new connection (see the top
// of this file), within the host's deadline.
func (p *Prober) guestSMB1(ctx context.Context, addr, host string, deadline time.Time, netbios bool) *Guest {
	g := &Guest{}
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	defer s.close()
	if netbios {
		if _, err := s.netbiosSession(); err != nil {
			g.Error = fmt.Sprintf("%s: %v", stageNetBIOS, err)
			return g
		}
	}
	smb1GuestExchange(s.roundTrip, host, p.cfg.Rand, time.Now(), g)
	return g
}

// smb1GuestExchange runs the round trips over rt, which sends one SMB
// message and returns the reply (valid until its next call), and fills g.
// host names the server in the IPC$ path; rnd supplies the client
// challenge and the exported session key; now is the NTLMv2 time when the
// server sends no MsvAvTimestamp.
func smb1GuestExchange(rt func([]byte) ([]byte, error), host string, rnd io.Reader, now time.Time, g *Guest) {
	fail := func(op string, err error) {
		g.Error = stageError(op, err) // a *StatusError names its operation
	}
	msg := appendSMB1Negotiate(make([]byte, 0, 512))
	resp, err := rt(msg)
	if err != nil {
		fail("smb1 negotiate", err)
		return
	}
	neg, err := parseSMB1Negotiate(resp)
	if err != nil {
		fail("smb1 negotiate", err)
		return
	}
	if neg.DialectIndex != 0 {
		fail("smb1 negotiate", fmt.Errorf("dialect index 0x%04x", neg.DialectIndex))
		return
	}
	if !neg.HasExtSecurity {
		// Only extended security (MS-SMB §2.2.4.5.2) is implemented; the
		// older challenge/response form of MS-CIFS §2.2.4.53 is not.
		fail("smb1 negotiate", fmt.Errorf("%w: no CAP_EXTENDED_SECURITY", ErrMalformed))
		return
	}

	// Leg 1: NTLM NEGOTIATE → CHALLENGE (MS-NLMP §2.2.1.1, §2.2.1.2).
	msg = appendSMB1SessionSetup(msg[:0], appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
	if resp, err = rt(msg); err != nil {
		fail("smb1 session setup", err)
		return
	}
	ss, err := parseSMB1SessionSetup(resp)
	if err != nil {
		fail("smb1 session setup", err)
		return
	}
	if ss.Status != statusMoreProcessingRequired {
		fail("smb1 session setup", fmt.Errorf("%w: status 0x%08x without a challenge", ErrMalformed, ss.Status))
		return
	}
	_, uid := smb1IDs(resp)
	tok, err := parseNegTokenResp(ss.SecurityBlob)
	if err != nil {
		fail("smb1 session setup", err)
		return
	}
	ch, err := parseChallenge(tok)
	if err != nil {
		fail("smb1 session setup", err)
		return
	}
	ti, err := ntlmField(tok, 40) // TargetInfoFields, checked by parseChallenge
	if err != nil {
		fail("smb1 session setup", err)
		return
	}
	auth, err := guestAuthenticate(tok[24:32], ti, ch.Flags, rnd, now)
	if err != nil {
		fail("smb1 session setup", err)
		return
	}

	// Leg 2: AUTHENTICATE → the session, with the UID of leg 1
	// (MS-SMB §3.2.4.2.4).
	msg = appendSMB1SessionSetup(msg[:0], appendNegTokenResp(nil, auth))
	smb1SetIDs(msg, 0, uid, 2)
	if resp, err = rt(msg); err != nil {
		fail("smb1 session setup", err)
		return
	}
	if ss, err = parseSMB1SessionSetup(resp); err != nil {
		fail("smb1 session setup", err)
		return
	}
	if ss.Status != statusSuccess {
		fail("smb1 session setup", fmt.Errorf("%w: status 0x%08x after AUTHENTICATE", ErrMalformed, ss.Status))
		return
	}
	if _, u := smb1IDs(resp); u != 0 {
		uid = u // the final response carries the session's UID too
	}
	g.Allowed = true
	asGuest := ss.Action&smb1ActionGuest != 0 // SMB_SETUP_GUEST, MS-CIFS §2.2.4.53.2
	g.AsGuest = &asGuest

	msg = appendSMB1TreeConnect(msg[:0], `\\`+host+`\IPC$`)
	smb1SetIDs(msg, 0, uid, 3)
	if resp, err = rt(msg); err != nil {
		fail("smb1 tree connect", err)
		return
	}
	tid, _, err := parseSMB1TreeConnect(resp)
	if err != nil {
		fail("smb1 tree connect", err)
		return
	}

	msg = appendSMB1Transaction(msg[:0], `\PIPE\LANMAN`, nil, appendRAPNetShareEnum(nil), nil, 8, rapReceiveBufferSize)
	smb1SetIDs(msg, tid, uid, 4)
	if resp, err = rt(msg); err != nil {
		fail("smb1 transaction", err)
		return
	}
	shares, rapErr := rapShares(resp)
	if rapErr != nil && len(shares) == 0 {
		// RAP refused or broken (impacket 0.10.0): SRVSVC over \srvsvc.
		var err error
		if shares, err = srvsvcShares(rt, msg, host, tid, uid); err != nil {
			g.Error = stageError("smb1 transaction", rapErr) + "; " + err.Error()
		}
	} else if rapErr != nil {
		fail("smb1 transaction", rapErr) // ERROR_MORE_DATA: a partial list
	}
	for _, s := range shares {
		g.Shares = append(g.Shares, s.Name)
	}
}

// rapShares parses the RAP NetShareEnum reply in an SMB_COM_TRANSACTION
// response.
func rapShares(resp []byte) ([]rapShare, error) {
	params, data, err := parseSMB1Transaction(resp)
	if err != nil {
		return nil, err
	}
	return parseNetShareEnum(params, data)
}

// srvsvcShares lists shares through SRVSVC (smb1srvsvc.go) on the IPC$
// tree tid: NT_CREATE_ANDX of \srvsvc, then bind and NetrShareEnum, each
// in a TransactNmPipe transaction. msg is reused as the request buffer.
func srvsvcShares(rt func([]byte) ([]byte, error), msg []byte, host string, tid, uid uint16) ([]rapShare, error) {
	msg = appendSMB1NTCreate(msg[:0], `\srvsvc`)
	smb1SetIDs(msg, tid, uid, 5)
	resp, err := rt(msg)
	if err != nil {
		return nil, fmt.Errorf("smb1 nt create: %w", err)
	}
	fid, err := parseSMB1NTCreate(resp)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			return nil, err // names its operation
		}
		return nil, fmt.Errorf("smb1 nt create: %w", err)
	}
	pipe := func(mid uint16, pdu []byte) ([]byte, error) {
		msg = appendSMB1Transaction(msg[:0], `\PIPE\`, []uint16{smb1TransactNmPipe, fid}, nil, pdu, 0, dcerpcMaxFrag)
		smb1SetIDs(msg, tid, uid, mid)
		resp, err := rt(msg)
		if err != nil {
			return nil, err
		}
		_, data, err := parseSMB1Transaction(resp)
		return data, err
	}
	data, err := pipe(6, appendSRVSVCBind(nil))
	if err == nil {
		err = parseSRVSVCBindAck(data)
	}
	if err != nil {
		return nil, fmt.Errorf("srvsvc bind: %w", err)
	}
	if data, err = pipe(7, appendNetrShareEnum(nil, host)); err != nil {
		return nil, fmt.Errorf("srvsvc netrshareenum: %w", err)
	}
	shares, err := parseNetrShareEnum(data)
	if err != nil {
		return shares, fmt.Errorf("srvsvc netrshareenum: %w", err)
	}
	return shares, nil
}

// guestAuthenticate builds the AUTHENTICATE_MESSAGE (MS-NLMP §2.2.1.3) of
// user "guest" with an empty password and an empty domain: an NTLMv2
// response (§3.3.2), the LmChallengeResponse Z(24) when the server sent a
// timestamp (§3.1.5.1.2), and an encrypted random session key when the
// server kept NTLMSSP_NEGOTIATE_KEY_EXCH. The flags are those the server
// chose among ours (§3.1.5.1.2).
func guestAuthenticate(serverChallenge, targetInfo []byte, flags uint32, rnd io.Reader, now time.Time) ([]byte, error) {
	in := &ntlmv2Input{User: smb1GuestUser, ServerChallenge: [8]byte(serverChallenge), TargetInfo: targetInfo}
	var exported [16]byte
	if _, err := io.ReadFull(rnd, in.ClientChallenge[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rnd, exported[:]); err != nil {
		return nil, err
	}
	ts, haveTS := avTimestampOf(targetInfo)
	in.Time = ts
	if !haveTS {
		in.Time = uint64(now.UnixNano()/100) + 116444736000000000 // FILETIME, MS-DTYP §2.3.3
	}
	out := computeNTLMv2(in)
	m := &ntlmAuthenticate{
		Flags:      flags & ntlmNegotiateFlagsRequest,
		LMResponse: out.LMResponse[:],
		NTResponse: out.NTResponse,
		User:       smb1GuestUser,
	}
	if haveTS {
		m.LMResponse = make([]byte, 24)
	}
	if m.Flags&ntlmNegotiateKeyExch != 0 {
		k := encryptSessionKey(out.SessionBaseKey, exported)
		m.EncryptedSessionKey = k[:]
	}
	return appendNTLMAuthenticate(nil, m), nil
}
