package smbprobe

import "time"

// A host that trickles its reply (a byte a second: a tarpit) would hold a
// probe until the read deadline. Both transports instead end the wait as
// soon as the reply frame provably cannot be complete by that deadline at
// the rate its bytes have been arriving: once trickleWindow has passed
// since the frame's first read, the bytes of the later reads, per second,
// times the time left, fall short of what is still missing. The wait ends
// as the deadline would have ended it (status io-timeout). A server's
// reply arrives in one or a few reads within a round trip of each other,
// so the test is only ever made while a frame is incomplete and never
// before trickleWindow: a frame whose rest arrives in the next read is
// never cut.

// trickleWindow is the least time over which a frame's arrival rate is
// judged.
const trickleWindow = 500 * time.Millisecond

// trickle follows the arrival of one reply frame (NBSS header included).
type trickle struct {
	first  time.Time // when its first bytes were read
	firstN int       // bytes of that read
	got    int       // bytes of the frame so far
}

// start begins a frame of which n bytes are at hand at now (the rest of a
// read that completed the previous frame).
func (t *trickle) start(n int, now time.Time) {
	*t = trickle{got: n, firstN: n}
	if n > 0 {
		t.first = now
	}
}

// read adds n bytes read at now and reports whether the frame, need(got)
// bytes short of complete with got bytes at hand, cannot be complete by
// deadline at the rate of the reads since its first.
func (t *trickle) read(n int, now time.Time, need func(got int) int, deadline time.Time) (tooSlow bool) {
	if t.got == 0 {
		t.first, t.firstN = now, n
	}
	t.got += n
	since := now.Sub(t.first)
	if since < trickleWindow {
		return false
	}
	return t.behind(need(t.got), since, deadline.Sub(now))
}

// behind reports whether need more bytes cannot arrive in left at the
// rate of the frame's later reads over since.
func (t *trickle) behind(need int, since, left time.Duration) bool {
	return need > 0 && float64(t.got-t.firstN)*float64(left) < float64(need)*float64(since)
}

// frameNeed is how many bytes a frame of which got bytes have arrived
// still lacks at least: the NBSS header's rest and an SMB1 header (the
// smaller of the two) while the header is incomplete, the length it
// declares once it is complete. hdr holds the frame's first bytes.
func frameNeed(hdr []byte, got int) int {
	if got < nbssHeaderLen {
		return nbssHeaderLen - got + smb1HeaderLen
	}
	_, n := frameHeader([nbssHeaderLen]byte(hdr[:nbssHeaderLen]))
	return nbssHeaderLen + n - got
}
