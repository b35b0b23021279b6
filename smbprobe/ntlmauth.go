package smbprobe

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"encoding/binary"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// NTLMv2 client side, MS-NLMP §3.3.2, for the SMB1 guest follow-up only:
// the probe logs on as "guest" with an empty password, so nothing here
// protects a secret. The names follow the specification's pseudocode.

// ntlmv2Input is what an NTLMv2 response is computed from (MS-NLMP §3.3.2).
type ntlmv2Input struct {
	User, Domain, Password string
	ServerChallenge        [8]byte
	ClientChallenge        [8]byte
	// Time is the FILETIME of the NTLMv2_CLIENT_CHALLENGE (§2.2.2.7): the
	// server's MsvAvTimestamp when it sent one (§3.1.5.1.2), else now.
	Time uint64
	// TargetInfo is the CHALLENGE's TargetInfo AV pairs, echoed as the
	// ServerName of the temp blob (§3.3.2).
	TargetInfo []byte
}

// ntlmv2Output is the result of ComputeResponse for NTLMv2 (MS-NLMP §3.3.2).
type ntlmv2Output struct {
	ResponseKeyNT  [16]byte // NTOWFv2 = LMOWFv2
	NTProofStr     [16]byte
	NTResponse     []byte   // NTProofStr ‖ temp (NTLMv2_RESPONSE, §2.2.2.8)
	LMResponse     [24]byte // LMv2_RESPONSE (§2.2.2.4)
	SessionBaseKey [16]byte
}

func hmacMD5(key []byte, parts ...[]byte) (sum [16]byte) {
	h := hmac.New(md5.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	h.Sum(sum[:0])
	return sum
}

// utf16LE encodes s as UTF-16LE, the UNICODE() of MS-NLMP §3.3.
func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// ntowfv2 is NTOWFv2 (MS-NLMP §3.3.2): HMAC_MD5(MD4(UNICODE(Passwd)),
// UNICODE(ConcatenationOf(Uppercase(User), UserDom))).
func ntowfv2(user, domain, password string) [16]byte {
	h := md4.New()
	h.Write(utf16LE(password))
	return hmacMD5(h.Sum(nil), utf16LE(strings.ToUpper(user)+domain))
}

// computeNTLMv2 is ComputeResponse of MS-NLMP §3.3.2 for NTLMv2.
func computeNTLMv2(in *ntlmv2Input) ntlmv2Output {
	var out ntlmv2Output
	out.ResponseKeyNT = ntowfv2(in.User, in.Domain, in.Password)
	// temp = Responserversion (1) ‖ HiResponserversion (1) ‖ Z(6) ‖ Time ‖
	// ClientChallenge ‖ Z(4) ‖ ServerName ‖ Z(4): NTLMv2_CLIENT_CHALLENGE,
	// §2.2.2.7.
	temp := make([]byte, 0, 28+len(in.TargetInfo)+4)
	temp = append(temp, 1, 1, 0, 0, 0, 0, 0, 0)
	temp = binary.LittleEndian.AppendUint64(temp, in.Time)
	temp = append(temp, in.ClientChallenge[:]...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, in.TargetInfo...)
	temp = append(temp, 0, 0, 0, 0)
	out.NTProofStr = hmacMD5(out.ResponseKeyNT[:], in.ServerChallenge[:], temp)
	out.NTResponse = append(out.NTProofStr[:len(out.NTProofStr):len(out.NTProofStr)], temp...)
	lm := hmacMD5(out.ResponseKeyNT[:], in.ServerChallenge[:], in.ClientChallenge[:])
	copy(out.LMResponse[:], lm[:])
	copy(out.LMResponse[16:], in.ClientChallenge[:])
	out.SessionBaseKey = hmacMD5(out.ResponseKeyNT[:], out.NTProofStr[:])
	return out
}

// encryptSessionKey is RC4K(KeyExchangeKey, ExportedSessionKey) of MS-NLMP
// §3.1.5.1.2, used when NTLMSSP_NEGOTIATE_KEY_EXCH was negotiated. For
// NTLMv2 the KeyExchangeKey is the SessionBaseKey (§3.4.5.1).
func encryptSessionKey(keyExchangeKey, exported [16]byte) (out [16]byte) {
	c, _ := rc4.NewCipher(keyExchangeKey[:]) // a 16-byte key is always valid
	c.XORKeyStream(out[:], exported[:])
	return out
}

// avTimestampOf returns the MsvAvTimestamp of TargetInfo AV pairs
// (MS-NLMP §2.2.2.1), bounds-checked; ok is false when there is none.
func avTimestampOf(ti []byte) (ts uint64, ok bool) {
	for len(ti) >= 4 {
		id, n := binary.LittleEndian.Uint16(ti), int(binary.LittleEndian.Uint16(ti[2:]))
		if id == avEOL || n > len(ti)-4 {
			return 0, false
		}
		if id == avTimestamp && n == 8 {
			return binary.LittleEndian.Uint64(ti[4:]), true
		}
		ti = ti[4+n:]
	}
	return 0, false
}

// ntlmAuthenticate is what appendNTLMAuthenticate encodes.
type ntlmAuthenticate struct {
	Flags                     uint32
	LMResponse, NTResponse    []byte
	Domain, User, Workstation string
	EncryptedSessionKey       []byte // empty unless KEY_EXCH
}

// ntlmAuthenticateHeaderLen is the fixed part of an AUTHENTICATE_MESSAGE
// with VERSION and without MIC (MS-NLMP §2.2.1.3): the payload starts at
// byte 72. No MIC is sent, so no MsvAvFlags claims one (§3.1.5.1.2).
const ntlmAuthenticateHeaderLen = 72

// appendNTLMAuthenticate appends an AUTHENTICATE_MESSAGE (MS-NLMP
// §2.2.1.3): six security buffers (Len, MaxLen, Offset) pointing into the
// payload, NegotiateFlags and VERSION; strings are UTF-16LE (the probe
// always negotiates NTLMSSP_NEGOTIATE_UNICODE).
func appendNTLMAuthenticate(b []byte, m *ntlmAuthenticate) []byte {
	start := len(b)
	fields := [][]byte{m.LMResponse, m.NTResponse, utf16LE(m.Domain), utf16LE(m.User), utf16LE(m.Workstation), m.EncryptedSessionKey}
	b = append(b, ntlmSignature...)
	b = binary.LittleEndian.AppendUint32(b, 3) // MessageType NtLmAuthenticate
	off := ntlmAuthenticateHeaderLen
	for _, f := range fields {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f)))
		b = binary.LittleEndian.AppendUint32(b, uint32(off))
		off += len(f)
	}
	b = binary.LittleEndian.AppendUint32(b, m.Flags)
	b = append(b, ntlmClientVersion[:]...)
	if len(b)-start != ntlmAuthenticateHeaderLen {
		panic("smbprobe: AUTHENTICATE header length") // unreachable: fixed layout
	}
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

// appendNegTokenResp wraps an NTLM message in an SPNEGO NegTokenResp
// (RFC 4178 §4.2.2) carrying only responseToken [2], as a client's second
// leg (MS-SPNG §3.3.5.2).
func appendNegTokenResp(b []byte, token []byte) []byte {
	tok := appendDER(nil, derContext2, appendDER(nil, derOctetString, token))
	return appendDER(b, derContext1, appendDER(nil, derSequence, tok))
}
