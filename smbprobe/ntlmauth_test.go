package smbprobe

import (
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestComputeNTLMv2Spec checks the NTLMv2 computation against the
// published example of [MS-NLMP] §4.2.4 (common values §4.2.1: user
// "User", domain "Domain", password "Password", server challenge
// 0123456789abcdef, client challenge aa×8, time 0, random session key 55×16;
// TargetInfo from the §4.2.4.3 CHALLENGE_MESSAGE in testdata/spec). The
// expected bytes are the specification's §4.2.4.1.1 (NTOWFv2), §4.2.4.1.2
// (session base key), §4.2.4.2.1 (LMv2 response), §4.2.4.2.2 (NTProofStr)
// and §4.2.4.2.3 (encrypted session key).
func TestComputeNTLMv2Spec(t *testing.T) {
	ch, err := os.ReadFile(filepath.Join("testdata", "spec", "ms-nlmp-4.2.4.3-challenge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ti, err := ntlmField(ch, 40)
	if err != nil {
		t.Fatal(err)
	}
	in := &ntlmv2Input{
		User: "User", Domain: "Domain", Password: "Password",
		ServerChallenge: [8]byte(ch[24:32]),
		ClientChallenge: [8]byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa},
		TargetInfo:      ti,
	}
	got := computeNTLMv2(in)
	var random [16]byte
	for i := range random {
		random[i] = 0x55
	}
	enc := encryptSessionKey(got.SessionBaseKey, random)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"4.2.4.1.1 NTOWFv2", got.ResponseKeyNT[:], "0c868a403bfd7a93a3001ef22ef02e3f"},
		{"4.2.4.1.2 session base key", got.SessionBaseKey[:], "8de40ccadbc14a82f15cb0ad0de95ca3"},
		{"4.2.4.2.1 LMv2 response", got.LMResponse[:], "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"},
		{"4.2.4.2.2 NTProofStr", got.NTResponse[:16], "68cd0ab851e51c96aabc927bebef6a1c"},
		{"4.2.4.2.3 encrypted session key", enc[:], "c5dad2544fc9799094ce1ce90bc9d03e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hex.EncodeToString(tt.got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// The rest of the NTLMv2_RESPONSE is temp (§3.3.2): versions, Z(6),
	// Time, ClientChallenge, Z(4), the AV pairs, Z(4).
	temp := append(unhex(t, "0101000000000000"+"0000000000000000"+"aaaaaaaaaaaaaaaa"+"00000000"), ti...)
	temp = append(temp, 0, 0, 0, 0)
	if diff := cmp.Diff(temp, got.NTResponse[16:]); diff != "" {
		t.Errorf("temp (-want +got):\n%s", diff)
	}
}

func TestAppendNTLMAuthenticate(t *testing.T) {
	m := &ntlmAuthenticate{
		Flags:               0xe2888215,
		LMResponse:          make([]byte, 24),
		NTResponse:          []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
		User:                "guest",
		EncryptedSessionKey: make([]byte, 16),
	}
	b := appendNTLMAuthenticate([]byte{0xee}, m)[1:]
	field := func(at int) []byte {
		f, err := ntlmField(b, at)
		if err != nil {
			t.Fatalf("field at %d: %v", at, err)
		}
		return f
	}
	got := struct {
		Sig                   string
		Type, Flags           uint32
		LM, NT, Dom, User, WS []byte
		Key                   []byte
		Version               []byte
	}{
		string(b[:8]), binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[60:]),
		field(12), field(20), field(28), field(36), field(44), field(52), b[64:72],
	}
	want := got
	want.Sig, want.Type, want.Flags = ntlmSignature, 3, m.Flags
	want.LM, want.NT, want.Dom, want.User, want.WS, want.Key = m.LMResponse, m.NTResponse, nil, utf16LE("guest"), nil, m.EncryptedSessionKey
	want.Version = ntlmClientVersion[:]
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AUTHENTICATE (-want +got):\n%s", diff)
	}
	if first := binary.LittleEndian.Uint32(b[16:]); first != ntlmAuthenticateHeaderLen {
		t.Errorf("payload starts at %d, want %d", first, ntlmAuthenticateHeaderLen)
	}
}

func TestAVTimestampOf(t *testing.T) {
	ts := binary.LittleEndian.AppendUint64(nil, 0x01d0_0000_0000_0001)
	pair := func(id uint16, v []byte) []byte {
		b := binary.LittleEndian.AppendUint16(nil, id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
		return append(b, v...)
	}
	cat := func(bs ...[]byte) (out []byte) {
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name   string
		ti     []byte
		want   uint64
		wantOK bool
	}{
		{"after names", cat(pair(avNbComputerName, utf16LE("S")), pair(avTimestamp, ts), pair(avEOL, nil)), 0x01d0_0000_0000_0001, true},
		{"none", cat(pair(avNbComputerName, utf16LE("S")), pair(avEOL, nil)), 0, false},
		{"after EOL", cat(pair(avEOL, nil), pair(avTimestamp, ts)), 0, false},
		{"truncated", pair(avTimestamp, ts)[:9], 0, false},
		{"wrong length", pair(avTimestamp, ts[:4]), 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := avTimestampOf(tt.ti)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("avTimestampOf = %#x, %v; want %#x, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
