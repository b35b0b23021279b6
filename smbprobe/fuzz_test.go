package smbprobe

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// seeds adds every captured reply named file as a seed.
func seeds(f *testing.F, file string) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "resp", "*"))
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, file)); err == nil {
			f.Add(b)
		}
	}
}

// within reports whether sub is empty or lies inside b (no copy, no
// out-of-range view).
func within(b, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(sub) > len(b) {
		return false
	}
	for i := 0; i+len(sub) <= len(b); i++ {
		if &b[i] == &sub[0] {
			return true
		}
	}
	return false
}

func FuzzParseNegotiateResponse(f *testing.F) {
	seeds(f, "smb2-negotiate.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseNegotiateResponse(b)
		if err != nil {
			return
		}
		if !within(b, r.SecurityBuffer) || len(r.Contexts) > maxContexts {
			t.Fatalf("security buffer or contexts out of bounds")
		}
		for _, c := range r.Contexts {
			if !within(b, c.Data) {
				t.Fatalf("context data out of bounds")
			}
		}
		decodeContexts(r.Contexts)
		parseNegTokenInit(r.SecurityBuffer)
	})
}

func FuzzParseSessionSetupResponse(f *testing.F) {
	seeds(f, "smb2-session-setup.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseSessionSetupResponse(b)
		if err != nil {
			return
		}
		if !within(b, r.SecurityBuffer) {
			t.Fatal("security buffer out of bounds")
		}
		if tok, err := parseNegTokenResp(r.SecurityBuffer); err == nil {
			parseChallenge(tok)
		}
	})
}

func FuzzParseChallenge(f *testing.F) {
	for _, c := range []string{"nt1", "impacket-smb2"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "resp", c, "smb2-session-setup.bin")); err == nil {
			if ss, err := parseSessionSetupResponse(b); err == nil {
				if tok, err := parseNegTokenResp(ss.SecurityBuffer); err == nil {
					f.Add(tok)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseChallenge(b)
		if err != nil {
			return
		}
		// Every decoded string comes from at most the whole message.
		for _, s := range []string{c.TargetName, c.NetBIOSComputer, c.NetBIOSDomain, c.DNSComputer, c.DNSDomain, c.DNSTree} {
			if len(s) > 3*len(b) {
				t.Fatalf("string of %d bytes from %d", len(s), len(b))
			}
		}
		ntlmResult(c)
	})
}

func FuzzParseSMB1Negotiate(f *testing.F) {
	seeds(f, "smb1-negotiate.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseSMB1Negotiate(b)
		if err != nil {
			return
		}
		if !within(b, r.SecurityBlob) {
			t.Fatal("security blob out of bounds")
		}
	})
}

func FuzzParseSMB1SessionSetup(f *testing.F) {
	seeds(f, "smb1-session-setup.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseSMB1SessionSetup(b)
		if err != nil {
			return
		}
		if !within(b, r.SecurityBlob) {
			t.Fatal("security blob out of bounds")
		}
		for _, s := range []string{r.NativeOS, r.NativeLanMan, r.PrimaryDomain} {
			if len([]rune(s)) > maxSMB1String {
				t.Fatalf("native string of %d runes", len([]rune(s)))
			}
		}
	})
}

func FuzzNegToken(f *testing.F) {
	f.Add(appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
	f.Add(appendNegTokenInit(nil, make([]byte, 300)))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseNegTokenInit(b)
		if tok, err := parseNegTokenResp(b); err == nil && !within(b, tok) {
			t.Fatal("responseToken out of bounds")
		}
		// Round trip: what we wrap, we unwrap.
		mechs, err := parseNegTokenInit(appendNegTokenInit(nil, b))
		if err != nil || len(mechs) != 1 {
			t.Fatalf("round trip of a %d-byte token: %v %v", len(b), mechs, err)
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 'h', 'i'})
	f.Add([]byte{0x85, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Add([]byte{0, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readFrame(bytes.NewReader(b), make([]byte, 64))
		if err == nil && len(got) > 64 {
			t.Fatalf("frame of %d bytes past the cap", len(got))
		}
		readSessionResponse(bytes.NewReader(b))
	})
}

// appendChallenge is a test-only CHALLENGE_MESSAGE encoder (MS-NLMP
// §2.2.1.2): the fields parseChallenge reads, Unicode names, VERSION when
// c.HasVersion, AV pairs 1–5, 9 and 7, then MsvAvEOL.
func appendChallenge(c challenge) []byte {
	u16 := func(s string) []byte {
		var b []byte
		for _, r := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, r)
		}
		return b
	}
	var ti []byte
	av := func(id uint16, v []byte) {
		ti = binary.LittleEndian.AppendUint16(ti, id)
		ti = binary.LittleEndian.AppendUint16(ti, uint16(len(v)))
		ti = append(ti, v...)
	}
	for _, p := range []struct {
		id uint16
		s  string
	}{{avNbComputerName, c.NetBIOSComputer}, {avNbDomainName, c.NetBIOSDomain}, {avDNSComputerName, c.DNSComputer},
		{avDNSDomainName, c.DNSDomain}, {avDNSTreeName, c.DNSTree}, {avTargetName, c.AVTargetName}} {
		if p.s != "" {
			av(p.id, u16(p.s))
		}
	}
	if c.Timestamp != 0 {
		av(avTimestamp, binary.LittleEndian.AppendUint64(nil, c.Timestamp))
	}
	av(avEOL, nil)
	name := u16(c.TargetName)
	flags := c.Flags | ntlmNegotiateUnicode
	if c.HasVersion {
		flags |= ntlmNegotiateVersion
	} else {
		flags &^= ntlmNegotiateVersion
	}
	b := append([]byte(ntlmSignature), 2, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = binary.LittleEndian.AppendUint32(b, 56)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = append(b, make([]byte, 16)...) // ServerChallenge, Reserved
	b = binary.LittleEndian.AppendUint16(b, uint16(len(ti)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(ti)))
	b = binary.LittleEndian.AppendUint32(b, uint32(56+len(name)))
	b = append(b, c.Major, c.Minor)
	b = binary.LittleEndian.AppendUint16(b, c.Build)
	b = append(b, 0, 0, 0, c.Revision)
	b = append(b, name...)
	return append(b, ti...)
}

// FuzzChallengeRoundTrip: whatever parseChallenge accepts, re-encoded, parses
// to the same facts (netlink's unmarshal, marshal, unmarshal, cmp.Diff).
func FuzzChallengeRoundTrip(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "spec", "ms-nlmp-4.2.4.3-challenge.bin")); err == nil {
		f.Add(b)
	}
	f.Add(appendChallenge(sambaNTLM))
	f.Fuzz(func(t *testing.T, b []byte) {
		c1, err := parseChallenge(b)
		if err != nil {
			return
		}
		if c1.Flags&ntlmNegotiateUnicode == 0 || !utf8.ValidString(c1.TargetName) || strings.ContainsRune(c1.TargetName+c1.NetBIOSComputer+c1.NetBIOSDomain+c1.DNSComputer+c1.DNSDomain+c1.DNSTree+c1.AVTargetName, utf8.RuneError) {
			return // OEM names and unpaired surrogates do not survive UTF-16 re-encoding
		}
		c2, err := parseChallenge(appendChallenge(c1))
		if err != nil {
			t.Fatalf("re-encoded challenge: %v", err)
		}
		c2.Flags = c1.Flags // the encoder forces UNICODE and VERSION to match
		if diff := cmp.Diff(c1, c2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
