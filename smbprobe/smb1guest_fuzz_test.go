package smbprobe

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseSMB1TreeConnect(f *testing.F) {
	seeds(f, "smb1guest-4-tree-connect.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, service, err := parseSMB1TreeConnect(b)
		if err != nil {
			return
		}
		if len(service) > maxSMB1String {
			t.Fatalf("service of %d bytes", len(service))
		}
	})
}

func FuzzParseSMB1Transaction(f *testing.F) {
	seeds(f, "smb1guest-5-transaction.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		params, data, err := parseSMB1Transaction(b)
		if err != nil {
			return
		}
		if !within(b, params) || !within(b, data) {
			t.Fatal("parameters or data out of bounds")
		}
		parseNetShareEnum(params, data)
	})
}

func FuzzParseNetShareEnum(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x02\x00\x02\x00"), []byte("public\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00IPC$\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, params, data []byte) {
		shares, _ := parseNetShareEnum(params, data)
		if len(shares) > maxShares || len(shares)*rapNetShareInfo1Len > len(data) {
			t.Fatalf("%d shares from %d bytes", len(shares), len(data))
		}
		for _, s := range shares {
			if !utf8.ValidString(s.Name) || utf8.RuneCountInString(s.Name) > 13 {
				t.Fatalf("share name %q", s.Name)
			}
		}
	})
}

func FuzzAVTimestampOf(f *testing.F) {
	f.Add([]byte("\x07\x00\x08\x00\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, ti []byte) {
		avTimestampOf(ti)
	})
}

// FuzzSMB1GuestExchange runs the whole follow-up over one fuzzed reply:
// the low 4 bits of which name the request whose reply is replaced, bit 4
// picks the captured exchange the other replies come from (smb1only: RAP
// lists the shares; impacket: RAP fails, SRVSVC lists them). Whatever a
// server sends, the exchange ends with a result and never panics.
func FuzzSMB1GuestExchange(f *testing.F) {
	for i := range smb1GuestFiles {
		f.Add(byte(i), []byte{0xff, 'S', 'M', 'B'})
		f.Add(byte(0x10|i), []byte{0xff, 'S', 'M', 'B'})
	}
	bases := [2]*replayRT{newReplayRT(f, "smb1only"), newReplayRT(f, "impacket")}
	f.Fuzz(func(t *testing.T, which byte, reply []byte) {
		base := bases[which>>4&1]
		rt := &replayRT{tb: t, replies: append([][]byte(nil), base.replies...)}
		rt.replies[int(which&0x0F)%len(rt.replies)] = reply
		g := &Guest{}
		smb1GuestExchange(rt.roundTrip, "h", bytes.NewReader(make([]byte, 64)), time.Unix(1, 0), g)
		if len(g.Shares) > maxShares || (g.Error == "" && !g.Allowed) {
			t.Fatalf("guest %+v", g)
		}
	})
}

func FuzzParseSMB1NTCreate(f *testing.F) {
	seeds(f, "smb1guest-6-nt-create.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		parseSMB1NTCreate(b)
	})
}

func FuzzParseSRVSVCBindAck(f *testing.F) {
	f.Add(appendSRVSVCBind(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseSRVSVCBindAck(b)
	})
}

func FuzzParseNetrShareEnum(f *testing.F) {
	f.Add(appendNetrShareEnum(nil, "h"))
	f.Fuzz(func(t *testing.T, b []byte) {
		shares, _ := parseNetrShareEnum(b)
		if len(shares) > maxShares {
			t.Fatalf("%d shares", len(shares))
		}
		for _, s := range shares {
			if !utf8.ValidString(s.Name) || len([]rune(s.Name)) > maxSMB1String {
				t.Fatalf("share name %q", s.Name)
			}
		}
	})
}
