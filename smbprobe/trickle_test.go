package smbprobe

import (
	"testing"
	"time"
)

func TestTrickle(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	// A frame declaring 100 bytes after its 4-byte header.
	hdr := []byte{0, 0, 0, 100}
	need := func(got int) int { return frameNeed(hdr, got) }
	deadline := ms(5000)
	type read struct {
		at, n int
		slow  bool
	}
	tests := []struct {
		name  string
		reads []read
	}{
		{"a byte a second: cut once the window has passed", []read{{0, 1, false}, {1000, 1, true}}},
		{"the whole frame at once", []read{{0, 104, false}}},
		{"header, then the body much later: complete, never cut", []read{{0, 4, false}, {4000, 100, false}}},
		{"steady and fast enough", []read{{0, 10, false}, {600, 30, false}, {1200, 30, false}, {1800, 34, false}}},
		{"too slow for the time left", []read{{0, 10, false}, {400, 1, false}, {800, 1, true}}},
		{"slow but enough time left", []read{{0, 10, false}, {600, 20, false}}}, // 33 B/s x 4.4 s > 74
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr trickle
			tr.start(0, t0)
			for i, r := range tt.reads {
				if got := tr.read(r.n, ms(r.at), need, deadline); got != r.slow {
					t.Errorf("read %d (%d bytes at %d ms, %d in all): too slow %v, want %v", i, r.n, r.at, tr.got, got, r.slow)
				}
			}
		})
	}
}

func TestFrameNeed(t *testing.T) {
	hdr := []byte{0, 0, 1, 0} // 256 bytes
	for _, tt := range []struct{ got, want int }{
		{0, 4 + smb1HeaderLen},
		{3, 1 + smb1HeaderLen},
		{4, 256},
		{260, 0},
	} {
		if got := frameNeed(hdr, tt.got); got != tt.want {
			t.Errorf("frameNeed(256-byte frame, %d) = %d, want %d", tt.got, got, tt.want)
		}
	}
}
