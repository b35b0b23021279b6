package smbprobe

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pipeData returns the Trans_Data of a captured TransactNmPipe reply: the
// DCE/RPC PDU.
func pipeData(tb testing.TB, config, name string) []byte {
	tb.Helper()
	_, data, err := parseSMB1Transaction(resp(tb, config, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestParseSMB1NTCreate(t *testing.T) {
	fid, err := parseSMB1NTCreate(resp(t, "impacket", "smb1guest-6-nt-create.bin"))
	if err != nil || fid == 0 {
		t.Fatalf("impacket: fid %d error %v", fid, err)
	}
	var se *StatusError
	if _, err := parseSMB1NTCreate(resp(t, "encreq-nt1", "smb1guest-6-nt-create.bin")); !errors.As(err, &se) || se.Status != statusAccessDenied {
		t.Errorf("encreq-nt1: error %v, want STATUS_ACCESS_DENIED", err)
	}
	short := resp(t, "impacket", "smb1guest-6-nt-create.bin")[:smb1HeaderLen+1+20]
	if _, err := parseSMB1NTCreate(short); err == nil {
		t.Error("no error for a truncated reply")
	}
}

// TestAppendSMB1NTCreate decodes the request as a server does (MS-CIFS
// §2.2.4.64.1).
func TestAppendSMB1NTCreate(t *testing.T) {
	b := appendSMB1NTCreate([]byte{0xee}, `\srvsvc`)[1:]
	w := b[smb1HeaderLen+1:]
	bytesOff := smb1HeaderLen + 1 + 48 + 2
	got := struct {
		WordCount                  byte
		NameLength                 uint16
		Access, Share, Disposition uint32
		ByteCountOK                bool
		Name                       []byte
	}{
		b[smb1HeaderLen], binary.LittleEndian.Uint16(w[5:]),
		binary.LittleEndian.Uint32(w[15:]), binary.LittleEndian.Uint32(w[31:]), binary.LittleEndian.Uint32(w[35:]),
		int(binary.LittleEndian.Uint16(w[48:])) == len(b)-bytesOff,
		b[bytesOff+1:], // one pad byte: the bytes start at odd offset 83
	}
	want := got
	want.WordCount, want.NameLength, want.Access, want.Share, want.Disposition, want.ByteCountOK = 24, 16, 0x2019f, 3, 1, true
	want.Name = append(utf16LE(`\srvsvc`), 0, 0)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NT_CREATE_ANDX (-want +got):\n%s", diff)
	}
}

// TestAppendSRVSVCBind compares the bind PDU with its C706 §12.6.4.3
// layout written out by hand.
func TestAppendSRVSVCBind(t *testing.T) {
	// header: 5.0 bind, first|last, little-endian, frag_length 72, call 1
	want := "05000b03" + "10000000" + "4800" + "0000" + "01000000" +
		"b810" + "b810" + "00000000" + // max_xmit, max_recv, assoc group
		"01000000" + "0000" + "01" + "00" + // 1 context; id 0, 1 transfer syntax
		"c84f324b7016d30112785a47bf6ee188" + "03000000" + // SRVSVC 3.0
		"045d888aeb1cc9119fe808002b104860" + "02000000" // NDR 2.0
	if diff := cmp.Diff(want, hex.EncodeToString(appendSRVSVCBind(nil))); diff != "" {
		t.Errorf("bind (-want +got):\n%s", diff)
	}
}

func TestParseSRVSVCBindAck(t *testing.T) {
	ack := pipeData(t, "impacket", "smb1guest-7-bind-ack.bin")
	refused := append([]byte(nil), ack...)
	// The result follows max_xmit, max_recv, assoc group, sec_addr and
	// padding, then n_results and 3 bytes: find it from the end (one
	// p_result_t of 24 bytes).
	binary.LittleEndian.PutUint16(refused[len(refused)-24:], 2) // provider rejection
	fault := append([]byte(nil), ack...)
	fault[2] = dcerpcPtypeFault
	tests := []struct {
		name    string
		b       []byte
		wantErr bool
	}{
		{"impacket capture", ack, false},
		{"refused", refused, true},
		{"fault", fault, true},
		{"truncated", ack[:30], true},
		{"header only", ack[:dcerpcHeaderLen], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := parseSRVSVCBindAck(tt.b); (err != nil) != tt.wantErr {
				t.Errorf("error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseNetrShareEnum(t *testing.T) {
	pdu := pipeData(t, "impacket", "smb1guest-8-share-enum.bin")
	got, err := parseNetrShareEnum(pdu)
	if err != nil {
		t.Fatal(err)
	}
	// impacket 0.10.0 sends type 0 (disk) for IPC$ too.
	if diff := cmp.Diff([]rapShare{{"IPC$", 0}, {"PUBLIC", 0}}, got); diff != "" {
		t.Errorf("impacket shares (-want +got):\n%s", diff)
	}
	werr := append([]byte(nil), pdu...)
	binary.LittleEndian.PutUint32(werr[len(werr)-4:], 5) // ERROR_ACCESS_DENIED
	if shares, err := parseNetrShareEnum(werr); err == nil || len(shares) != 2 {
		t.Errorf("WERROR 5: shares %v error %v, want both shares and an error", shares, err)
	}
	// Every truncation of the capture fails cleanly (frag_length adjusted
	// so that the PDU header stays consistent).
	for n := dcerpcHeaderLen; n < len(pdu)-4; n++ {
		b := append([]byte(nil), pdu[:n]...)
		binary.LittleEndian.PutUint16(b[8:], uint16(n))
		if _, err := parseNetrShareEnum(b); err == nil {
			t.Errorf("no error for the capture cut to %d bytes", n)
		}
	}
}

// TestAppendNetrShareEnum decodes the request stub with the NDR reader
// (MS-SRVS §3.1.4.8 parameters in order).
func TestAppendNetrShareEnum(t *testing.T) {
	b := appendNetrShareEnum([]byte{0xee}, "198.18.3.20")[1:]
	body, err := dcerpcPDU(b, dcerpcPtypeRequest)
	if err != nil {
		t.Fatal(err)
	}
	r := &ndrReader{b: body[8:]}
	type req struct {
		AllocHint, Opnum                   uint32
		ServerRef                          uint32
		Server                             string
		Level, Disc, L1Ref, Entries, Buf   uint32
		PrefMax, ResumeRef, Resume, Remain uint32
	}
	got := req{AllocHint: binary.LittleEndian.Uint32(body), Opnum: uint32(binary.LittleEndian.Uint16(body[6:]))}
	got.ServerRef = r.u32()
	got.Server = r.str()
	got.Level, got.Disc, got.L1Ref, got.Entries, got.Buf = r.u32(), r.u32(), r.u32(), r.u32(), r.u32()
	got.PrefMax, got.ResumeRef, got.Resume = r.u32(), r.u32(), r.u32()
	if r.err != nil {
		t.Fatal(r.err)
	}
	got.Remain = uint32(len(r.b) - r.p)
	want := req{uint32(len(body) - 8), 15, 0x20000, `\\198.18.3.20`, 1, 1, 0x20004, 0, 0, 0xFFFFFFFF, 0x20008, 0, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NetrShareEnum request (-want +got):\n%s", diff)
	}
}

// TestNDRReaderStringBounds: a string claiming more characters than the
// stub holds is an error, not a panic or a long read.
func TestNDRReaderStringBounds(t *testing.T) {
	b := binary.LittleEndian.AppendUint32(nil, 0x7fffffff)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0x7fffffff)
	b = append(b, 'a', 0)
	r := &ndrReader{b: b}
	if s := r.str(); s != "" || r.err == nil {
		t.Errorf("str = %q, err %v", s, r.err)
	}
}
