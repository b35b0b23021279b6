package smbprobe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
