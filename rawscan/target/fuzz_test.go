package target

import (
	"testing"

	"github.com/smbsweep/smbsweep/blocklist"
)

// FuzzPermutation checks bijectivity for small target sets: whatever the
// ranges, ports, seed and layout, the union of every subshard's targets is
// the allowed set × ports, each once.
func FuzzPermutation(f *testing.F) {
	f.Add(uint64(1), uint32(0xc6120000), uint16(1), uint16(0), uint8(1), uint8(1), uint8(1))
	f.Add(uint64(42), uint32(0xc6120000), uint16(255), uint16(17), uint8(3), uint8(2), uint8(2))
	f.Add(uint64(0), uint32(0xffffff00), uint16(300), uint16(0), uint8(7), uint8(5), uint8(4))
	f.Add(uint64(1<<63), uint32(0), uint16(2), uint16(1), uint8(2), uint8(9), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, base uint32, size, hole uint16, nports, shards, threads uint8) {
		size = size%512 + 1
		hole %= size
		nports = nports%4 + 1
		shards, threads = shards%8+1, threads%8+1
		if uint64(base)+uint64(size) > 1<<32 {
			base -= uint32(size)
		}
		// One range, with a one-address hole at offset hole if hole > 0.
		members := map[uint32]bool{}
		ranges := []blocklist.Range{{First: addrOf(base), Last: addrOf(base + uint32(size) - 1)}}
		for i := range uint32(size) {
			members[base+i] = true
		}
		allowed := blocklist.NewSet(ranges...)
		if hole != 0 {
			delete(members, base+uint32(hole))
			allowed = allowed.Subtract(blocklist.NewSet(blocklist.Range{First: addrOf(base + uint32(hole)), Last: addrOf(base + uint32(hole))}))
		}
		ports := make([]uint16, nports)
		for i := range ports {
			ports[i] = uint16(seed>>16) + uint16(i) // distinct
		}
		seen := map[[2]uint32]int{}
		for s := range int(shards) {
			p, err := New(&Config{Allowed: allowed, Ports: ports, Seed: seed, Shards: int(shards), Shard: s, Threads: int(threads)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			for th := range p.Threads() {
				it := p.Iterator(th)
				for {
					a, port, ok := it.Next()
					if !ok {
						break
					}
					v := a.As4()
					k := [2]uint32{uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3]), uint32(port)}
					if !members[k[0]] {
						t.Fatalf("emitted %v, not in the set", a)
					}
					seen[k]++
					if seen[k] != 1 {
						t.Fatalf("emitted %v:%d twice", a, port)
					}
				}
			}
		}
		if want := len(members) * len(ports); len(seen) != want {
			t.Fatalf("emitted %d targets, want %d", len(seen), want)
		}
	})
}

// FuzzReducer checks the Barrett reducer against the hardware divide.
func FuzzReducer(f *testing.F) {
	f.Add(uint64(0), uint64(1))
	f.Add(uint64(1<<64-1), uint64(1<<32+15))
	f.Add(uint64(1<<63), uint64(3))
	f.Fuzz(func(t *testing.T, x, d uint64) {
		if d == 0 {
			return
		}
		r := newReducer(d)
		q, rem := r.divMod(x)
		if q != x/d || rem != x%d || r.mod(x) != x%d {
			t.Fatalf("%d / %d: got %d rem %d (mod %d), want %d rem %d", x, d, q, rem, r.mod(x), x/d, x%d)
		}
	})
}
