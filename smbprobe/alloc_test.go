package smbprobe

import (
	"bytes"
	"sync"
	"testing"
)

// TestZeroAlloc pins the per-message paths that must not allocate: request
// encoding into a reused buffer, framing into a pooled buffer, and the
// fixed-field decoders.
func TestZeroAlloc(t *testing.T) {
	neg := resp(t, "nt1", "smb2-negotiate.bin")
	ss := resp(t, "nt1", "smb2-session-setup.bin")
	smb1 := resp(t, "nt1", "smb1-negotiate.bin")
	frame := append(appendFrame(nil, len(neg)), neg...)
	req := &negotiateRequest{}
	buf := make([]byte, 0, 512)
	token := appendNegTokenInit(nil, appendNTLMNegotiate(nil))
	pool := &sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
	rd := bytes.NewReader(nil)
	fr := &frameReader{r: rd, max: 64 << 10, pool: pool} // lives in the session, on the heap, once
	tests := []struct {
		name string
		fn   func()
	}{
		{"appendNegotiateRequest", func() { buf = appendNegotiateRequest(buf[:0], req) }},
		{"appendSessionSetupRequest", func() { buf = appendSessionSetupRequest(buf[:0], token) }},
		{"appendSMB1Negotiate", func() { buf = appendSMB1Negotiate(buf[:0]) }},
		{"appendSessionRequest", func() { buf = appendSessionRequest(buf[:0], "*SMBSERVER", "SMBSWEEP") }},
		{"frameReader", func() {
			rd.Reset(frame)
			if _, err := fr.next(); err != nil {
				t.Fatal(err)
			}
			fr.release()
		}},
		{"parseSMB2Header", func() { parseSMB2Header(neg) }},
		{"parseSessionSetupResponse", func() { parseSessionSetupResponse(ss) }},
		{"parseNegTokenResp", func() { r, _ := parseSessionSetupResponse(ss); parseNegTokenResp(r.SecurityBuffer) }},
		{"parseSMB1Negotiate", func() { parseSMB1Negotiate(smb1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
				t.Errorf("%s: %v allocs, want 0", tt.name, n)
			}
		})
	}
}
