package rawscan

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestDedupAgainstMap checks the bitmap and the window against a plain map
// (the slow, obvious reference) over seeded random traffic with many
// repeats.
func TestDedupAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	addr := func() netip.Addr {
		// A few /16s so that pages are shared and repeats are common.
		v := uint32(rng.IntN(4))<<16 | uint32(rng.IntN(1<<16))
		v |= 198<<24 | 18<<16
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	t.Run("bitmap", func(t *testing.T) {
		b, ref := new(bitmap), map[netip.Addr]bool{}
		for i := range 200_000 {
			a := addr()
			if got, want := b.seen(a, 445), ref[a]; got != want {
				t.Fatalf("step %d: seen(%v) = %v, want %v", i, a, got, want)
			}
			ref[a] = true
		}
	})
	t.Run("window", func(t *testing.T) {
		const n = 1000
		w := newWindow(n)
		type key struct {
			a netip.Addr
			p uint16
		}
		var order []key // insertion order of keys currently remembered
		hits := 0
		for i := range 50_000 {
			// 3000 keys against a window of 1000: about a third of
			// the lookups are repeats inside the window.
			v := uint32(rng.IntN(1000))
			k := key{netip.AddrFrom4([4]byte{198, 18, byte(v >> 8), byte(v)}), uint16(rng.IntN(3))}
			// Reference: seen iff among the last n distinct keys recorded.
			want := false
			for _, o := range order {
				if o == k {
					want = true
					break
				}
			}
			if got := w.seen(k.a, k.p); got != want {
				t.Fatalf("step %d: seen(%v) = %v, want %v", i, k, got, want)
			}
			if want {
				hits++
			} else {
				order = append(order, k)
				if len(order) > n {
					order = order[1:]
				}
			}
		}
		if hits < 10_000 {
			t.Fatalf("only %d repeats inside the window: the test exercises too little", hits)
		}
	})
}
