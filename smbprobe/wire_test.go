package smbprobe

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// resp reads a captured reply from testdata/resp (see testdata/README.md).
func resp(tb testing.TB, config, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "resp", config, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestAppendNegotiateRequest(t *testing.T) {
	req := &negotiateRequest{ClientGUID: [16]byte{1, 2, 3}, Salt: [32]byte{9}}
	b := appendNegotiateRequest(nil, req)
	// Layout checks against MS-SMB2 §2.2.3 (offsets from the header start).
	checks := []struct {
		name string
		got  uint32
		want uint32
	}{
		{"StructureSize", uint32(binary.LittleEndian.Uint16(b[64:])), 36},
		{"DialectCount", uint32(binary.LittleEndian.Uint16(b[66:])), 5},
		{"SecurityMode", uint32(binary.LittleEndian.Uint16(b[68:])), 1},
		{"Capabilities", binary.LittleEndian.Uint32(b[72:]), 0x7f},
		{"NegotiateContextOffset", binary.LittleEndian.Uint32(b[92:]), 0x70},
		{"NegotiateContextCount", uint32(binary.LittleEndian.Uint16(b[96:])), 4},
		{"last dialect", uint32(binary.LittleEndian.Uint16(b[108:])), 0x0311},
		{"first context type", uint32(binary.LittleEndian.Uint16(b[0x70:])), ctxPreauth},
		{"first context length", uint32(binary.LittleEndian.Uint16(b[0x72:])), 38},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if !bytes.Equal(b[76:92], req.ClientGUID[:]) {
		t.Errorf("ClientGuid = %x", b[76:92])
	}
	// Walk the contexts as a server would: each 8-byte aligned.
	var types []uint16
	off := 0x70
	for i := 0; i < 4; i++ {
		off = (off + 7) &^ 7
		types = append(types, binary.LittleEndian.Uint16(b[off:]))
		off += 8 + int(binary.LittleEndian.Uint16(b[off+2:]))
	}
	if off != len(b) {
		t.Errorf("contexts end at %d, message is %d bytes", off, len(b))
	}
	if diff := cmp.Diff([]uint16{ctxPreauth, ctxEncryption, ctxCompression, ctxSigning}, types); diff != "" {
		t.Errorf("context types (-want +got):\n%s", diff)
	}

	nb := appendNegotiateRequest(nil, &negotiateRequest{NoSMB311: true})
	if got := binary.LittleEndian.Uint16(nb[66:]); got != 4 {
		t.Errorf("NetBIOS DialectCount = %d, want 4", got)
	}
	if got := binary.LittleEndian.Uint32(nb[92:]); got != 0 || len(nb) != 64+36+8 {
		t.Errorf("NetBIOS request has contexts: offset %d, %d bytes", got, len(nb))
	}
}

func TestAppendNTLMNegotiate(t *testing.T) {
	b := appendNTLMNegotiate(nil)
	want := "4e544c4d5353500001000000058288e2" + "0000000028000000" + "0000000028000000" + "0601b11d0000000f"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("NTLM NEGOTIATE\n got %s\nwant %s", got, want)
	}
	if binary.LittleEndian.Uint32(b[12:])&ntlmNegotiateVersion == 0 {
		t.Error("NEGOTIATE_VERSION not set")
	}
}

func TestNegTokenInitRoundTrip(t *testing.T) {
	tok := appendNegTokenInit(nil, appendNTLMNegotiate(nil))
	mechs, err := parseNegTokenInit(tok)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.3.6.1.4.1.311.2.2.10"}, mechs); diff != "" {
		t.Errorf("mechTypes (-want +got):\n%s", diff)
	}
	// Long lengths take the 0x81/0x82 forms.
	big := appendNegTokenInit(nil, make([]byte, 300))
	if _, err := parseNegTokenInit(big); err != nil {
		t.Errorf("300-byte token: %v", err)
	}
}

func TestOIDString(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"spnego", oidSPNEGO, "1.3.6.1.5.5.2"},
		{"ntlmssp", oidNTLMSSP, "1.3.6.1.4.1.311.2.2.10"},
		{"ms-krb5", []byte{0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02}, "1.2.840.48018.1.2.2"},
		{"joint-iso 2.999", []byte{0x88, 0x37}, "2.999"},
		{"empty", nil, "invalid:"},
		{"unterminated", []byte{0x2b, 0x86}, "invalid:2b86"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oidString(tt.in); got != tt.want {
				t.Errorf("oidString(%x) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// sambaNTLM is the CHALLENGE of Samba 4.17 named SRTESTSRV (notes §A:
// flags 0xe28a8205, VERSION 6.1.0 rev 15, DNS computer = the host's name).
var sambaNTLM = challenge{
	Flags: 0xe28a8205, TargetName: "SRTESTSRV", HasVersion: true, Major: 6, Minor: 1, Build: 0, Revision: 15,
	NetBIOSComputer: "SRTESTSRV", NetBIOSDomain: "SRTESTSRV", DNSComputer: "vm",
}

func TestParseNegotiateResponse(t *testing.T) {
	sambaGUID := [16]byte{'s', 'r', 't', 'e', 's', 't', 's', 'r', 'v'}
	tests := []struct {
		config   string
		want     negotiateResponse
		ctxTypes []uint16
		wantErr  error
	}{
		{config: "nt1", want: negotiateResponse{SecurityMode: 1, Dialect: 0x0311, ServerGUID: sambaGUID, Capabilities: 0x0f,
			MaxTransactSize: 8 << 20, MaxReadSize: 8 << 20, MaxWriteSize: 8 << 20}, ctxTypes: []uint16{1, 2, 8}},
		{config: "signreq", want: negotiateResponse{SecurityMode: 3, Dialect: 0x0311, ServerGUID: sambaGUID, Capabilities: 0x0f,
			MaxTransactSize: 8 << 20, MaxReadSize: 8 << 20, MaxWriteSize: 8 << 20}, ctxTypes: []uint16{1, 2, 8}},
		{config: "maxsmb2", want: negotiateResponse{SecurityMode: 1, Dialect: 0x0210, ServerGUID: sambaGUID, Capabilities: 0x07,
			MaxTransactSize: 8 << 20, MaxReadSize: 8 << 20, MaxWriteSize: 8 << 20}},
		{config: "nbt-139", want: negotiateResponse{SecurityMode: 1, Dialect: 0x0302, ServerGUID: sambaGUID, Capabilities: 0x4b,
			MaxTransactSize: 64 << 10, MaxReadSize: 64 << 10, MaxWriteSize: 64 << 10}},
		{config: "impacket-smb2", want: negotiateResponse{SecurityMode: 1, Dialect: 0x0202, ServerGUID: impacketGUID,
			MaxTransactSize: 64 << 10, MaxReadSize: 64 << 10, MaxWriteSize: 64 << 10}},
		{config: "impacket", wantErr: &StatusError{Op: "smb2 negotiate", Status: statusNotSupported}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			got, err := parseNegotiateResponse(resp(t, tt.config, "smb2-negotiate.bin"))
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); tt.wantErr != nil {
				var se *StatusError
				if !errors.As(err, &se) || *se != *tt.wantErr.(*StatusError) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			} else if err != nil {
				t.Fatalf("unexpected error: %v %s", err, diff)
			}
			var types []uint16
			for _, c := range got.Contexts {
				types = append(types, c.Type)
			}
			if diff := cmp.Diff(tt.ctxTypes, types); diff != "" {
				t.Errorf("context types (-want +got):\n%s", diff)
			}
			if len(got.SecurityBuffer) == 0 {
				t.Error("no security buffer")
			}
			got.SystemTime, got.ServerStartTime, got.SecurityBuffer, got.Contexts = 0, 0, nil, nil
			if tt.config == "impacket-smb2" {
				got.SystemTime, got.ServerStartTime = 0, 0
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("negotiate response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeContexts(t *testing.T) {
	got, err := parseNegotiateResponse(resp(t, "nt1", "smb2-negotiate.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// Observed (notes §E): Samba 4.17 picks AES-128-GCM and AES-GMAC and
	// returns no compression context.
	want := &Contexts{Preauth: "sha-512", Cipher: "aes-128-gcm", SigningAlgorithm: "aes-gmac"}
	if diff := cmp.Diff(want, decodeContexts(got.Contexts)); diff != "" {
		t.Errorf("contexts (-want +got):\n%s", diff)
	}
	unknown := []negotiateContext{{Type: 0x0099, Data: []byte{1, 2}}, {Type: ctxCompression, Data: []byte{2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 0}}}
	want = &Contexts{Compression: []string{"lznt1", "lz4"}, Other: []RawContext{{Type: 0x99, Data: []byte{1, 2}}}}
	if diff := cmp.Diff(want, decodeContexts(unknown)); diff != "" {
		t.Errorf("contexts (-want +got):\n%s", diff)
	}
}

func TestParseChallenge(t *testing.T) {
	impacket := challenge{Flags: 0xe28a0205, // our flags echoed, ALWAYS_SIGN dropped, TARGET_TYPE_SERVER added
		HasVersion: true, Major: 255, Minor: 255, Build: 65535, Revision: 255}
	tests := []struct {
		name   string
		config string
		file   string
		smb1   bool
		want   challenge
	}{
		{"samba smb2", "nt1", "smb2-session-setup.bin", false, sambaNTLM},
		{"samba smb1", "nt1", "smb1-session-setup.bin", true, sambaNTLM},
		{"samba signing required", "signreq", "smb2-session-setup.bin", false, sambaNTLM},
		{"impacket smb2", "impacket-smb2", "smb2-session-setup.bin", false, impacket},
		{"impacket smb1", "impacket", "smb1-session-setup.bin", true, impacket},
	}
	// Published Windows example, MS-NLMP §4.2.4.3 (testdata/spec).
	t.Run("ms-nlmp 4.2.4.3 example", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "spec", "ms-nlmp-4.2.4.3-challenge.bin"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseChallenge(b)
		if err != nil {
			t.Fatal(err)
		}
		want := challenge{Flags: 0xe28a8233, TargetName: "Server", HasVersion: true, Major: 6, Minor: 0, Build: 6000,
			Revision: 15, NetBIOSComputer: "Server", NetBIOSDomain: "Domain"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("challenge (-want +got):\n%s", diff)
		}
		if n := ntlmResult(got); n.OSVersion != "6.0.6000" || n.OSName != "Windows Vista" {
			t.Errorf("os %q %q", n.OSVersion, n.OSName)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := resp(t, tt.config, tt.file)
			var blob []byte
			if tt.smb1 {
				ss, err := parseSMB1SessionSetup(b)
				if err != nil {
					t.Fatal(err)
				}
				blob = ss.SecurityBlob
			} else {
				ss, err := parseSessionSetupResponse(b)
				if err != nil {
					t.Fatal(err)
				}
				if ss.Status != statusMoreProcessingRequired {
					t.Fatalf("status %#x", ss.Status)
				}
				blob = ss.SecurityBuffer
			}
			tok, err := parseNegTokenResp(blob)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseChallenge(tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Timestamp == 0 {
				t.Error("no timestamp AV pair")
			}
			got.Timestamp = 0
			if tt.config == "impacket" || tt.config == "impacket-smb2" {
				// impacket draws random 8-letter names per server start.
				for _, s := range []string{got.TargetName, got.NetBIOSComputer, got.NetBIOSDomain} {
					if len(s) != 8 {
						t.Errorf("impacket name %q is not 8 letters", s)
					}
				}
				got.TargetName, got.NetBIOSComputer, got.NetBIOSDomain, got.DNSComputer, got.DNSDomain = "", "", "", "", ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("challenge (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSMB1Negotiate(t *testing.T) {
	sambaGUID := [16]byte{'s', 'r', 't', 'e', 's', 't', 's', 'r', 'v'}
	tests := []struct {
		config string
		want   smb1Negotiate
	}{
		// Notes §A: WordCount 17, index 0, security mode 3, caps
		// 0x8080f3fd, max buffer 16644, max mpx 50, tz 0, GUID = name.
		{"nt1", smb1Negotiate{SecurityMode: 3, MaxMpxCount: 50, MaxBufferSize: 16644, Capabilities: 0x8080f3fd, ServerGUID: sambaGUID, HasExtSecurity: true}},
		{"smb1only", smb1Negotiate{SecurityMode: 3, MaxMpxCount: 50, MaxBufferSize: 16644, Capabilities: 0x8080f3fd, ServerGUID: sambaGUID, HasExtSecurity: true}},
		{"smb2only", smb1Negotiate{DialectIndex: 0xFFFF}},
		{"encreq", smb1Negotiate{DialectIndex: 0xFFFF}},
		{"impacket", smb1Negotiate{SecurityMode: 3, MaxMpxCount: 1, MaxBufferSize: 64000, Capabilities: 0x80000074, ServerGUID: impacketGUID, HasExtSecurity: true}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			got, err := parseSMB1Negotiate(resp(t, tt.config, "smb1-negotiate.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.HasExtSecurity {
				if _, err := parseNegTokenInit(got.SecurityBlob); err != nil {
					t.Errorf("security blob: %v", err)
				}
			}
			got.SecurityBlob, got.SystemTime = nil, 0
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("smb1 negotiate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSMB1SessionSetup(t *testing.T) {
	tests := []struct {
		config      string
		os, lm, dom string
	}{
		{"nt1", "Windows 6.1", "Samba 4.17.12-Debian", "SRTEST"},
		{"smb1only", "Windows 6.1", "Samba 4.17.12-Debian", "SRTEST"},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			got, err := parseSMB1SessionSetup(resp(t, tt.config, "smb1-session-setup.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([3]string{tt.os, tt.lm, tt.dom}, [3]string{got.NativeOS, got.NativeLanMan, got.PrimaryDomain}); diff != "" {
				t.Errorf("native strings (-want +got):\n%s", diff)
			}
		})
	}
	// impacket pads the strings unconditionally and names itself with the
	// same random 8 letters twice; both captures must decode to ASCII.
	for _, config := range []string{"impacket", "impacket-smb2"} {
		got, err := parseSMB1SessionSetup(resp(t, config, "smb1-session-setup.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.NativeOS) != 8 || got.NativeOS != got.NativeLanMan || strings.ToValidUTF8(got.NativeOS, "") != got.NativeOS || !isLetters(got.NativeOS) {
			t.Errorf("%s: native strings %q %q", config, got.NativeOS, got.NativeLanMan)
		}
	}
}

func isLetters(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		want    []byte
		wantErr error
	}{
		{"message", []byte{0, 0, 0, 2, 'h', 'i'}, 16, []byte("hi"), nil},
		{"keepalive then message", []byte{0x85, 0, 0, 0, 0, 0, 0, 1, 'x'}, 16, []byte("x"), nil},
		{"too long", []byte{0, 0x01, 0, 0}, 0xffff, nil, ErrTooLong},
		{"24-bit length at the cap", []byte{0, 0, 0, 3, 1, 2, 3}, 3, []byte{1, 2, 3}, nil},
		{"http", []byte("HTTP/1.0 200 OK\r\n"), 16, nil, ErrNotSMB},
		{"short payload", []byte{0, 0, 0, 5, 1}, 16, nil, io.ErrUnexpectedEOF},
		{"eof", nil, 16, nil, io.EOF},
		{"negative response", []byte{0x83, 0, 0, 1, 0x82}, 16, nil, ErrNotSMB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readFrame(bytes.NewReader(tt.in), make([]byte, tt.max))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadSessionResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    NetBIOS
		wantErr error
	}{
		{"positive", resp(t, "nbt-139", "nbss-session-response.bin"), NetBIOS{Response: "positive"}, nil},
		{"keepalive then positive", []byte{0x85, 0, 0, 0, 0x82, 0, 0, 0}, NetBIOS{Response: "positive"}, nil},
		{"negative: called name not present", []byte{0x83, 0, 0, 1, 0x82}, NetBIOS{Response: "negative", ErrorCode: 0x82}, ErrNetBIOSRefused},
		{"retarget", []byte{0x84, 0, 0, 6, 198, 18, 0, 9, 0, 139}, NetBIOS{Response: "retarget", Retarget: "198.18.0.9:139"}, ErrNetBIOSRefused},
		{"smb instead", []byte{0, 0, 0, 4, 0xff, 'S', 'M', 'B'}, NetBIOS{}, ErrNotSMB},
		{"bad positive length", []byte{0x82, 0, 0, 4}, NetBIOS{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readSessionResponse(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// netbiosNameSlow is the RFC 1001 §14.1 encoding spelled out.
func netbiosNameSlow(name string, suffix byte) []byte {
	n := []byte(strings.ToUpper(name))
	for len(n) < 15 {
		n = append(n, ' ')
	}
	n = append(n[:15], suffix)
	out := []byte{32}
	for _, c := range n {
		out = append(out, 'A'+(c>>4), 'A'+(c&15))
	}
	return append(out, 0)
}

func TestNetbiosNameReference(t *testing.T) {
	if got := string(netbiosName(nil, "*SMBSERVER", 0x20)[1:33]); got != "CKFDENECFDEFFCFGEFFCCACACACACACA" {
		t.Errorf("*SMBSERVER encodes to %s", got)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 10000; i++ {
		name := make([]byte, rng.Intn(16))
		for j := range name {
			name[j] = byte(0x20 + rng.Intn(0x5f))
		}
		suffix := byte(rng.Intn(256))
		if got, want := netbiosName(nil, string(name), suffix), netbiosNameSlow(string(name), suffix); !bytes.Equal(got, want) {
			t.Fatalf("netbiosName(%q, %#x) = %x, want %x", name, suffix, got, want)
		}
	}
}

func TestFiletime(t *testing.T) {
	if filetime(0) != nil {
		t.Error("zero FILETIME is not nil")
	}
	// 2026-11-28 05:49:55.6539970 UTC is in the nt1 capture's NTLM timestamp range.
	got := filetime(116444736000000000 + 1e7)
	if got == nil || got.Unix() != 1 {
		t.Errorf("1601+369y+1s = %v", got)
	}
	if filetime(^uint64(0)) != nil {
		t.Error("max FILETIME is not nil")
	}
}
