package rawscan

import "net/netip"

// A dedup remembers which targets have already produced a result, so each
// is reported once however many probes and retransmitted SYN-ACKs arrive.
// It is owned by the receiver goroutine.
type dedup interface {
	// seen records (a, port) and reports whether it was already recorded.
	seen(a netip.Addr, port uint16) bool
}

// bitmapPageBits is log2 of the addresses one bitmap page covers: 2^16
// addresses in 8 KiB. The page table has 2^16 entries (512 KiB); pages are
// allocated on first use, so a scan of all of IPv4 grows to at most
// 512 MiB and a scan of a /16 to 8 KiB. ZMap's lib/pbm.c has the same shape.
const bitmapPageBits = 16

// bitmap is a paged bitmap over IPv4 for single-port scans.
type bitmap struct {
	pages [1 << (32 - bitmapPageBits)]*[1 << bitmapPageBits / 64]uint64
}

func (b *bitmap) seen(a netip.Addr, _ uint16) bool {
	v := a.As4()
	x := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	p := b.pages[x>>bitmapPageBits]
	if p == nil {
		p = new([1 << bitmapPageBits / 64]uint64)
		b.pages[x>>bitmapPageBits] = p
	}
	i := x & (1<<bitmapPageBits - 1)
	w, bit := i/64, uint64(1)<<(i%64)
	if p[w]&bit != 0 {
		return true
	}
	p[w] |= bit
	return false
}

// window remembers the most recent n (address, port) pairs, for multi-port
// scans where a full bitmap would be 65536 times larger. Duplicates arrive
// within seconds of each other, so a window of a few seconds of replies
// catches them; an older duplicate is reported again.
type window struct {
	set  map[uint64]struct{}
	ring []uint64
	next int
	full bool
}

// newWindow returns a window of n entries. Its map is sized up front so
// that recording never grows it.
func newWindow(n int) *window {
	return &window{set: make(map[uint64]struct{}, n), ring: make([]uint64, n)}
}

func (w *window) seen(a netip.Addr, port uint16) bool {
	v := a.As4()
	k := uint64(v[0])<<40 | uint64(v[1])<<32 | uint64(v[2])<<24 | uint64(v[3])<<16 | uint64(port)
	if _, ok := w.set[k]; ok {
		return true
	}
	if w.full {
		delete(w.set, w.ring[w.next])
	}
	w.set[k] = struct{}{}
	w.ring[w.next] = k
	w.next++
	if w.next == len(w.ring) {
		w.next, w.full = 0, true
	}
	return false
}
