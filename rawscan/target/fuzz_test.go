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

// FuzzAddrTable checks the permutation's index→address table against
// Set.At for sets built from fuzzed ranges: each pair of uint32s in data is
// a range (wrapped into order), every odd range is subtracted.
func FuzzAddrTable(f *testing.F) {
	f.Add([]byte{0xc6, 0x12, 0, 0, 0xc6, 0x12, 0xff, 0xff}, uint8(10))
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 10, 0, 0, 0, 10, 255, 255, 255}, uint8(18))
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255}, uint8(8))
	f.Fuzz(func(t *testing.T, data []byte, tableBits uint8) {
		var allow, block []blocklist.Range
		for i := 0; i+8 <= len(data) && i < 8*64; i += 8 {
			a := uint32(data[i])<<24 | uint32(data[i+1])<<16 | uint32(data[i+2])<<8 | uint32(data[i+3])
			b := uint32(data[i+4])<<24 | uint32(data[i+5])<<16 | uint32(data[i+6])<<8 | uint32(data[i+7])
			r := blocklist.Range{First: addrOf(min(a, b)), Last: addrOf(max(a, b))}
			if (i/8)%2 == 0 {
				allow = append(allow, r)
			} else {
				block = append(block, r)
			}
		}
		set := blocklist.NewSet(allow...).Subtract(blocklist.NewSet(block...))
		n := set.Count()
		if n == 0 {
			return
		}
		tab := newAddrTableBits(set, int(tableBits%16)+1)
		check := func(i uint64) {
			if got, want := addrFromUint32(tab.at(i)), set.At(i); got != want {
				t.Fatalf("at(%d) = %v, want %v (set %v)", i, got, want, set.Ranges())
			}
		}
		for b := range uint64(tab.buckets()) {
			first := b << tab.shift
			check(first)
			check(min(first+1<<tab.shift-1, n-1))
		}
		// The first and last member of each range.
		before := uint64(0)
		for _, r := range set.Ranges()[:min(set.Len(), 64)] {
			size := uint64(u32(r.Last)-u32(r.First)) + 1
			check(before)
			check(before + size - 1)
			before += size
		}
	})
}
