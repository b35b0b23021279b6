package smbprobe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// NetBIOS Session Service (NBSS) framing.
//
// Direct TCP (port 445) frames every SMB message with a 4-byte header: a zero
// byte, then a 24-bit big-endian length (MS-SMB2 §2.1, MS-SMB §2.1). Port 139
// uses the same header as a SESSION MESSAGE (type 0x00) of RFC 1002 §4.3.1,
// after a SESSION REQUEST (RFC 1002 §4.3.2) has been answered.

// NBSS packet types, RFC 1002 §4.3.1.
const (
	nbssSessionMessage  = 0x00
	nbssSessionRequest  = 0x81
	nbssPositiveResp    = 0x82
	nbssNegativeResp    = 0x83
	nbssRetargetResp    = 0x84
	nbssSessionKeepAliv = 0x85
)

// nbssHeaderLen is the length of the NBSS header (RFC 1002 §4.3.1).
const nbssHeaderLen = 4

// Sentinel errors of the framing layer.
var (
	// ErrTooLong reports an NBSS frame whose claimed length exceeds the cap.
	ErrTooLong = errors.New("smbprobe: NBSS frame longer than the configured cap")
	// ErrNotSMB reports bytes that are not an NBSS-framed SMB message.
	ErrNotSMB = errors.New("smbprobe: reply is not SMB")
	// ErrTruncated reports a message shorter than its fixed fields or offsets say.
	ErrTruncated = errors.New("smbprobe: message truncated")
	// ErrMalformed reports a message whose fields are inconsistent.
	ErrMalformed = errors.New("smbprobe: malformed message")
)

// appendFrame appends the Direct TCP header for a payload of n bytes
// (MS-SMB2 §2.1: one zero byte, then the length in 3 big-endian bytes).
func appendFrame(b []byte, n int) []byte {
	return append(b, nbssSessionMessage, byte(n>>16), byte(n>>8), byte(n))
}

// frameHeader decodes an NBSS header (RFC 1002 §4.3.1): type in byte 0 and
// a length in the remaining 3 bytes. Direct TCP uses all 24 bits
// (MS-SMB2 §2.1); RFC 1002 uses 17 (the E bit of byte 1); since only the
// 24-bit form is larger, we accept it on both transports and cap it.
func frameHeader(h [nbssHeaderLen]byte) (typ byte, n int) {
	return h[0], int(h[1])<<16 | int(h[2])<<8 | int(h[3])
}

// readFrame reads one NBSS session message into buf and returns the
// payload (a prefix of buf); frames longer than len(buf) are refused.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	return readFrameFrom(r, len(buf), fixedBuffer(buf), new([nbssHeaderLen]byte))
}

// bufferSource supplies the buffer for an n-byte frame.
type bufferSource interface{ get(n int) []byte }

// fixedBuffer is a bufferSource over one caller-owned buffer.
type fixedBuffer []byte

func (b fixedBuffer) get(n int) []byte { return b[:n] }

// readFrameFrom reads one NBSS session message (RFC 1002 §4.3.1,
// MS-SMB2 §2.1). Keepalives (type 0x85) are skipped. A claimed length above
// max is refused with ErrTooLong before any payload is read, so a peer can
// never make us allocate or read beyond the cap; src supplies the n-byte
// buffer only once a valid header has arrived. h is scratch space for the
// header, owned by the caller so that it does not escape per call.
func readFrameFrom(r io.Reader, max int, src bufferSource, h *[nbssHeaderLen]byte) ([]byte, error) {
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		n, keepalive, err := checkFrameHeader(*h, max)
		if err != nil {
			return nil, err
		}
		if keepalive {
			continue
		}
		buf := src.get(n)
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return buf, nil
	}
}

// checkFrameHeader checks an NBSS header (RFC 1002 §4.3.1) of a frame
// expected after the session is established: a session message of at most
// max bytes, whose length it returns, or an empty keepalive (type 0x85),
// to be skipped.
func checkFrameHeader(h [nbssHeaderLen]byte, max int) (n int, keepalive bool, err error) {
	typ, n := frameHeader(h)
	switch typ {
	case nbssSessionMessage:
	case nbssSessionKeepAliv:
		if n != 0 {
			return 0, false, fmt.Errorf("%w: keepalive with length %d", ErrNotSMB, n)
		}
		return 0, true, nil
	default:
		return 0, false, fmt.Errorf("%w: NBSS type 0x%02x", ErrNotSMB, typ)
	}
	if n > max {
		return 0, false, fmt.Errorf("%w: %d > %d bytes", ErrTooLong, n, max)
	}
	return n, false, nil
}

// netbiosName appends the RFC 1001 §14.1 first-level encoding of name with
// suffix (the 16th byte): length 0x20, 32 half-ASCII bytes, then the empty
// scope (a zero length byte). name is upper-cased and space-padded to 15.
func netbiosName(b []byte, name string, suffix byte) []byte {
	b = append(b, 0x20)
	for i := 0; i < 16; i++ {
		c := byte(' ')
		switch {
		case i == 15:
			c = suffix
		case i < len(name):
			c = name[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
		}
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	return append(b, 0)
}

// appendSessionRequest appends an NBSS SESSION REQUEST (RFC 1002 §4.3.2)
// from calling to called. Servers register the file service under suffix
// 0x20; "*SMBSERVER" is the generic called name that Windows and Samba
// accept (MS-CIFS §2.1.1.1; nmap smb.lua, masscan proto-smb.c use it too).
func appendSessionRequest(b []byte, called, calling string) []byte {
	b = append(b, nbssSessionRequest, 0, 0, 68)
	b = netbiosName(b, called, 0x20)
	return netbiosName(b, calling, 0x00)
}

// NetBIOS is the answer to an NBSS SESSION REQUEST on port 139
// (RFC 1002 §4.3.3–§4.3.5).
type NetBIOS struct {
	// Response is "positive", "negative" or "retarget".
	Response string `json:"response"`
	// ErrorCode is the NEGATIVE SESSION RESPONSE code (RFC 1002 §4.3.4),
	// e.g. 0x82 "called name not present"; zero otherwise.
	ErrorCode uint8 `json:"error_code,omitempty"`
	// Retarget is the RETARGET SESSION RESPONSE address (RFC 1002 §4.3.5).
	// It is recorded, never followed: it may point outside the target set.
	Retarget string `json:"retarget,omitempty"`
}

// readSessionResponse reads the answer to a SESSION REQUEST, skipping
// keepalives. The returned error is nil only for a positive response.
func readSessionResponse(r io.Reader) (NetBIOS, error) {
	var h [nbssHeaderLen]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return NetBIOS{}, err
		}
		typ, n := frameHeader(h)
		switch typ {
		case nbssSessionKeepAliv:
			if n != 0 {
				return NetBIOS{}, fmt.Errorf("%w: keepalive with length %d", ErrNotSMB, n)
			}
			continue
		case nbssPositiveResp:
			if n != 0 {
				return NetBIOS{}, fmt.Errorf("%w: positive session response with length %d", ErrMalformed, n)
			}
			return NetBIOS{Response: "positive"}, nil
		case nbssNegativeResp:
			if n != 1 {
				return NetBIOS{}, fmt.Errorf("%w: negative session response with length %d", ErrMalformed, n)
			}
			var code [1]byte
			if _, err := io.ReadFull(r, code[:]); err != nil {
				return NetBIOS{}, err
			}
			nb := NetBIOS{Response: "negative", ErrorCode: code[0]}
			return nb, fmt.Errorf("%w: %s", ErrNetBIOSRefused, nb.Response)
		case nbssRetargetResp:
			if n != 6 {
				return NetBIOS{}, fmt.Errorf("%w: retarget response with length %d", ErrMalformed, n)
			}
			var p [6]byte
			if _, err := io.ReadFull(r, p[:]); err != nil {
				return NetBIOS{}, err
			}
			ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[:4])), binary.BigEndian.Uint16(p[4:]))
			nb := NetBIOS{Response: "retarget", Retarget: ap.String()}
			return nb, fmt.Errorf("%w: %s to %s", ErrNetBIOSRefused, nb.Response, nb.Retarget)
		default:
			return NetBIOS{}, fmt.Errorf("%w: NBSS type 0x%02x in session response", ErrNotSMB, typ)
		}
	}
}

// ErrNetBIOSRefused reports a negative or retarget answer to a NetBIOS
// session request on port 139.
var ErrNetBIOSRefused = errors.New("smbprobe: NetBIOS session request refused")
