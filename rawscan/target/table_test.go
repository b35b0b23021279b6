package target

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/smbsweep/smbsweep/blocklist"
)

func TestAddrTableAgainstSetAt(t *testing.T) {
	t.Parallel()
	pfx := func(s string) *blocklist.Set { return blocklist.FromPrefixes(netip.MustParsePrefix(s)) }
	tests := []struct {
		name string
		set  *blocklist.Set
	}{
		{"one address", pfx("198.18.0.1/32")},
		{"last address", pfx("255.255.255.255/32")},
		{"first address", pfx("0.0.0.0/32")},
		{"all of IPv4", blocklist.All()},
		{"IPv4 less reserved", blocklist.All().Subtract(blocklist.Reserved())},
		{"reserved", blocklist.Reserved()},
		{"two halves", pfx("0.0.0.0/1").Union(pfx("255.0.0.0/8"))},
	}
	var sparse []blocklist.Range // 70,000 ranges: more than range numbers
	for i := range uint32(70000) {
		a := addrOf(0x0a000000 + 2*i)
		sparse = append(sparse, blocklist.Range{First: a, Last: a})
	}
	tests = append(tests, struct {
		name string
		set  *blocklist.Set
	}{"70,000 ranges", blocklist.NewSet(sparse...)})
	r := rand.New(rand.NewPCG(40, 41))
	for i := range 40 {
		// Random ranges less random holes; the reference is Set.At itself.
		base, bitsN := r.Uint32()&^(1<<31-1), 8+uint(i%24)
		rangesOf := func(n int) []blocklist.Range {
			var out []blocklist.Range
			for range n {
				lo := base + r.Uint32N(1<<bitsN)
				hi := lo + min(r.Uint32N(1<<(bitsN/2+2)), ^lo)
				out = append(out, blocklist.Range{First: addrOf(lo), Last: addrOf(hi)})
			}
			return out
		}
		set := blocklist.NewSet(rangesOf(1 + i*20)...).Subtract(blocklist.NewSet(rangesOf(i * 20)...))
		if set.Count() > 0 {
			tests = append(tests, struct {
				name string
				set  *blocklist.Set
			}{fmt.Sprintf("random %d ranges", set.Len()), set})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newAddrTable(tt.set)
			n := tt.set.Count()
			check := func(i uint64) {
				t.Helper()
				if got, want := addrFromUint32(tab.at(i)), tt.set.At(i); got != want {
					t.Fatalf("at(%d) = %v, want %v", i, got, want)
				}
			}
			if n <= 1<<16 {
				for i := range n {
					check(i)
				}
				return
			}
			// Every bucket edge, and random indices.
			for b := uint64(0); b < uint64(tab.buckets()); b++ {
				first := b << tab.shift
				check(first)
				check(min(first+1<<tab.shift-1, n-1))
			}
			for range 100000 {
				check(r.Uint64N(n))
			}
		})
	}
}
