package smbprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func boolPtr(b bool) *bool { return &b }

// replayRT answers the SMB1 guest follow-up's requests with the replies
// captured from config, in order, and records the requests.
type replayRT struct {
	tb      testing.TB
	replies [][]byte
	reqs    [][]byte
}

func newReplayRT(tb testing.TB, config string) *replayRT {
	r := &replayRT{tb: tb}
	for _, f := range smb1GuestFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "resp", config, f))
		if errors.Is(err, os.ErrNotExist) {
			break // the exchange ended before this request
		}
		if err != nil {
			tb.Fatal(err)
		}
		r.replies = append(r.replies, b)
	}
	return r
}

func (r *replayRT) roundTrip(msg []byte) ([]byte, error) {
	r.reqs = append(r.reqs, bytes.Clone(msg))
	i := len(r.reqs) - 1
	if i >= len(r.replies) {
		return nil, io.EOF
	}
	return r.replies[i], nil
}

// TestSMB1GuestExchangeReplay runs the SMB1 guest follow-up against the
// replies captured from each server (testdata/resp/CONFIG/smb1guest-*.bin)
// and checks the result and that each request carries the UID and TID the
// server assigned.
func TestSMB1GuestExchangeReplay(t *testing.T) {
	samba := &Guest{Allowed: true, AsGuest: boolPtr(true), Shares: []string{"public", "IPC$"}}
	impacket := &Guest{Allowed: true, AsGuest: boolPtr(false), Shares: []string{"IPC$", "PUBLIC"}}
	tests := []struct {
		config string
		want   *Guest
	}{
		{"nt1", samba},
		{"smb1only", samba},
		{"nbt", samba},
		{"nbt-139", samba},
		// impacket 0.10.0 grants any user (no guest bit) and answers RAP
		// NetShareEnum with STATUS_ACCESS_DENIED: its lanMan handler adds
		// a str to bytes under Python 3 and turns the exception into that
		// status (impacket/smbserver.py TRANSCommands.lanMan).
		// SRVSVC NetrShareEnum lists its shares instead.
		{"impacket", impacket},
		{"impacket-smb2", impacket},
		// map to guest = Never: the unknown user is refused.
		{"noguest-nt1", &Guest{Error: "smb1 session setup: status 0xc000006d (STATUS_LOGON_FAILURE)"}},
		// server smb encrypt = required: guest logon and IPC$ succeed,
		// every unencrypted request on the tree is refused (RAP and the
		// SRVSVC pipe open).
		{"encreq-nt1", &Guest{Allowed: true, AsGuest: boolPtr(true), Error: "smb1 transaction: status 0xc0000022 (STATUS_ACCESS_DENIED); smb1 nt create: status 0xc0000022 (STATUS_ACCESS_DENIED)"}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			rt := newReplayRT(t, tt.config)
			got := &Guest{}
			smb1GuestExchange(rt.roundTrip, "127.0.0.1", bytes.NewReader(make([]byte, 64)), time.Unix(1, 0), got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("guest (-want +got):\n%s", diff)
			}
			if len(rt.reqs) != len(rt.replies) {
				t.Fatalf("%d requests for %d captured replies", len(rt.reqs), len(rt.replies))
			}
			wantCmds := []byte{smb1ComNegotiate, smb1ComSessionSetupX, smb1ComSessionSetupX, smb1ComTreeConnectX, smb1ComTransaction,
				smb1ComNTCreateX, smb1ComTransaction, smb1ComTransaction}
			_, uid := smb1IDs(rt.replies[1])
			for i, req := range rt.reqs {
				wantUID, wantTID := uint16(0), uint16(0)
				if i >= 2 {
					wantUID = uid
				}
				if i >= 4 {
					wantTID, _ = smb1IDs(rt.replies[3])
				}
				tid, gotUID := smb1IDs(req)
				if req[smb1OffCommand] != wantCmds[i] || gotUID != wantUID || tid != wantTID {
					t.Errorf("request %d: command 0x%02x UID %d TID %d, want 0x%02x %d %d",
						i, req[smb1OffCommand], gotUID, tid, wantCmds[i], wantUID, wantTID)
				}
			}
		})
	}
}

// TestSMB1GuestAuthenticate checks the second leg's AUTHENTICATE against
// the nt1 capture's CHALLENGE: user "guest", Z(24) LmChallengeResponse (the
// server sent MsvAvTimestamp), the server's timestamp and TargetInfo in
// the NTLMv2 response, an encrypted session key (KEY_EXCH kept).
func TestSMB1GuestAuthenticate(t *testing.T) {
	ss, err := parseSMB1SessionSetup(resp(t, "nt1", "smb1guest-2-session-setup.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := parseNegTokenResp(ss.SecurityBlob)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := parseChallenge(tok)
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := ntlmField(tok, 40)
	rnd := bytes.Repeat([]byte{0xaa}, 8)
	rnd = append(rnd, bytes.Repeat([]byte{0x55}, 16)...)
	b, err := guestAuthenticate(tok[24:32], ti, ch.Flags, bytes.NewReader(rnd), time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	field := func(at int) []byte {
		f, err := ntlmField(b, at)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	want := computeNTLMv2(&ntlmv2Input{
		User: "guest", ServerChallenge: [8]byte(tok[24:32]), ClientChallenge: [8]byte(rnd[:8]),
		Time: ch.Timestamp, TargetInfo: ti,
	})
	key := encryptSessionKey(want.SessionBaseKey, [16]byte(rnd[8:]))
	if ch.Timestamp == 0 || ch.Flags&ntlmNegotiateKeyExch == 0 {
		t.Fatalf("capture lacks a timestamp or KEY_EXCH: %+v", ch)
	}
	type auth struct {
		LM, NT, Dom, User, WS, Key []byte
		Flags                      uint32
	}
	got := auth{field(12), field(20), field(28), field(36), field(44), field(52), binary.LittleEndian.Uint32(b[60:])}
	if diff := cmp.Diff(auth{make([]byte, 24), want.NTResponse, nil, utf16LE("guest"), nil, key[:], ch.Flags & ntlmNegotiateFlagsRequest}, got); diff != "" {
		t.Errorf("AUTHENTICATE (-want +got):\n%s", diff)
	}
	if _, err := guestAuthenticate(tok[24:32], ti, ch.Flags, bytes.NewReader(rnd[:10]), time.Now()); err == nil {
		t.Error("no error when the random source runs dry")
	}
}

func TestParseSMB1TreeConnect(t *testing.T) {
	tests := []struct {
		config  string
		tid     uint16
		service string
	}{
		{"nt1", 0xab22, "IPC"},
		{"impacket", 1, "IPC"}, // 7-word extended response (MS-SMB §2.2.4.7.2)
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			tid, service, err := parseSMB1TreeConnect(resp(t, tt.config, "smb1guest-4-tree-connect.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if tid != tt.tid || service != tt.service {
				t.Errorf("tid 0x%04x service %q, want 0x%04x %q", tid, service, tt.tid, tt.service)
			}
		})
	}
	b := resp(t, "nt1", "smb1guest-4-tree-connect.bin")
	bad := bytes.Clone(b)
	bad[smb1HeaderLen] = 2 // WordCount 2
	if _, _, err := parseSMB1TreeConnect(bad); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
		t.Errorf("WordCount 2: error %v", err)
	}
	denied := bytes.Clone(b[:smb1HeaderLen])
	binary.LittleEndian.PutUint32(denied[smb1OffStatus:], statusAccessDenied)
	denied = append(denied, 0, 0, 0)
	var se *StatusError
	if _, _, err := parseSMB1TreeConnect(denied); !errors.As(err, &se) || se.Status != statusAccessDenied {
		t.Errorf("access denied: error %v", err)
	}
}

// transactionReply builds an SMB_COM_TRANSACTION response around params
// and data the way Samba lays it out (MS-CIFS §2.2.4.33.2), with the
// counts given.
func transactionReply(params, data []byte, pCount, dCount, totalP, totalD int) []byte {
	b := appendSMB1Header(nil, smb1ComTransaction, 0)
	b[smb1OffFlags] |= smb1FlagsReply
	b = append(b, smb1TransactionRWords)
	w := len(b)
	b = append(b, make([]byte, 2*smb1TransactionRWords+2)...)
	pOff := len(b)
	b = append(b, params...)
	dOff := len(b)
	b = append(b, data...)
	put := func(at, v int) { binary.LittleEndian.PutUint16(b[w+at:], uint16(v)) }
	put(0, totalP)
	put(2, totalD)
	put(6, pCount)
	put(8, pOff)
	put(12, dCount)
	put(14, dOff)
	binary.LittleEndian.PutUint16(b[w+2*smb1TransactionRWords:], uint16(len(b)-pOff))
	return b
}

func TestParseSMB1Transaction(t *testing.T) {
	p, d := []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9, 10}
	tests := []struct {
		name       string
		b          []byte
		wantP      []byte
		wantD      []byte
		wantErr    error
		wantStatus uint32
	}{
		{"nt1 capture", resp(t, "nt1", "smb1guest-5-transaction.bin"), resp(t, "nt1", "smb1guest-5-transaction.bin")[0x38:0x40], resp(t, "nt1", "smb1guest-5-transaction.bin")[0x40:], nil, 0},
		{"constructed", transactionReply(p, d, 8, 2, 8, 2), p, d, nil, 0},
		{"data in parts", transactionReply(p, d, 8, 2, 8, 100), nil, nil, ErrMalformed, 0},
		{"parameters in parts", transactionReply(p, d, 4, 2, 8, 2), nil, nil, ErrMalformed, 0},
		{"data beyond the message", transactionReply(p, d, 8, 200, 8, 200), nil, nil, ErrTruncated, 0},
		{"impacket access denied", resp(t, "impacket", "smb1guest-5-transaction.bin"), nil, nil, nil, statusAccessDenied},
		{"not a transaction", resp(t, "nt1", "smb1guest-4-tree-connect.bin"), nil, nil, ErrMalformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotP, gotD, err := parseSMB1Transaction(tt.b)
			var se *StatusError
			switch {
			case tt.wantStatus != 0:
				if !errors.As(err, &se) || se.Status != tt.wantStatus {
					t.Fatalf("error %v, want status 0x%08x", err, tt.wantStatus)
				}
				return
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]byte{tt.wantP, tt.wantD}, [][]byte{gotP, gotD}); diff != "" {
				t.Errorf("params, data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNetShareEnum(t *testing.T) {
	entry := func(name string, typ uint16) []byte {
		e := make([]byte, rapNetShareInfo1Len)
		copy(e, name)
		binary.LittleEndian.PutUint16(e[14:], typ)
		return e
	}
	params := func(code, returned uint16) []byte {
		b := binary.LittleEndian.AppendUint16(nil, code)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint16(b, returned)
		return binary.LittleEndian.AppendUint16(b, returned)
	}
	nt1P, nt1D, err := parseSMB1Transaction(resp(t, "nt1", "smb1guest-5-transaction.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		params  []byte
		data    []byte
		want    []rapShare
		wantErr bool
	}{
		{"nt1 capture", nt1P, nt1D, []rapShare{{"public", 0}, {"IPC$", 3}}, false},
		{"13-byte name without NUL", params(0, 1), entry("ABCDEFGHIJKLM", 0), []rapShare{{"ABCDEFGHIJKLM", 0}}, false},
		{"Latin-1 byte", params(0, 1), entry("caf\xe9", 0), []rapShare{{"café", 0}}, false},
		{"more data keeps entries", params(rapErrorMoreData, 1), entry("a", 1), []rapShare{{"a", 1}}, true},
		{"access denied code", params(5, 0), nil, nil, true},
		{"entries beyond data", params(0, 2), entry("a", 0), nil, true},
		{"short parameters", params(0, 0)[:6], nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNetShareEnum(tt.params, tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" && !(len(tt.want) == 0 && len(got) == 0) {
				t.Errorf("shares (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendSMB1TreeConnect decodes the request the way a server does
// (MS-CIFS §2.2.4.55.1).
func TestAppendSMB1TreeConnect(t *testing.T) {
	b := appendSMB1TreeConnect([]byte{0xee}, `\\198.18.3.7\IPC$`)[1:]
	if b[smb1OffCommand] != smb1ComTreeConnectX || b[smb1HeaderLen] != 4 {
		t.Fatalf("command 0x%02x WordCount %d", b[smb1OffCommand], b[smb1HeaderLen])
	}
	words := b[smb1HeaderLen+1 : smb1HeaderLen+9]
	bytesOff := smb1HeaderLen + 9 + 2
	bc := int(binary.LittleEndian.Uint16(b[smb1HeaderLen+9:]))
	if bc != len(b)-bytesOff {
		t.Fatalf("ByteCount %d, %d bytes follow", bc, len(b)-bytesOff)
	}
	pwLen := int(binary.LittleEndian.Uint16(words[6:]))
	p := bytesOff + pwLen
	p += p % 2 // pad to the Unicode path
	var u []uint16
	for ; binary.LittleEndian.Uint16(b[p:]) != 0; p += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[p:]))
	}
	got := []string{string(utf16.Decode(u)), string(b[p+2:])}
	if diff := cmp.Diff([]string{`\\198.18.3.7\IPC$`, "?????\x00"}, got); diff != "" {
		t.Errorf("path, service (-want +got):\n%s", diff)
	}
}

// TestAppendSMB1Transaction decodes the request the way a server does
// (MS-CIFS §2.2.4.33.1): counts, offsets from the header, the pipe name.
func TestAppendSMB1Transaction(t *testing.T) {
	params := appendRAPNetShareEnum(nil)
	b := appendSMB1Transaction([]byte{0xee, 0xee, 0xee}, `\PIPE\LANMAN`, nil, params, nil, 8, rapReceiveBufferSize)[3:]
	w := b[smb1HeaderLen+1:]
	u16 := func(i int) int { return int(binary.LittleEndian.Uint16(w[i:])) }
	pOff := u16(20)
	got := struct {
		WordCount                      byte
		TotalP, MaxP, MaxD, PCount     int
		DCount, SetupCount, PAlignment int
		Params                         []byte
		Name                           string
		ByteCountOK                    bool
	}{
		b[smb1HeaderLen], u16(0), u16(4), u16(6), u16(18), u16(22), int(w[26]), pOff % 4,
		b[pOff : pOff+u16(18)], "", u16(28) == len(b)-(smb1HeaderLen+1+28+2),
	}
	name := b[smb1HeaderLen+1+28+2+1:] // one pad byte: the bytes start at odd offset 63
	var u []uint16
	for i := 0; binary.LittleEndian.Uint16(name[i:]) != 0; i += 2 {
		u = append(u, binary.LittleEndian.Uint16(name[i:]))
	}
	got.Name = string(utf16.Decode(u))
	want := got
	want.WordCount, want.TotalP, want.MaxP, want.MaxD, want.PCount = 14, len(params), 8, rapReceiveBufferSize, len(params)
	want.DCount, want.SetupCount, want.PAlignment = 0, 0, 0
	want.Params, want.Name, want.ByteCountOK = params, `\PIPE\LANMAN`, true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TRANSACTION (-want +got):\n%s", diff)
	}
	// MS-RAP §2.5.6.1.1: RAPOpcode 0, "WrLeh", "B13BWz", level 1, buffer size.
	if diff := cmp.Diff([]byte("\x00\x00WrLeh\x00B13BWz\x00\x01\x00\x00\x10"), params); diff != "" {
		t.Errorf("RAP request (-want +got):\n%s", diff)
	}
}
