package target

import (
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
		{"last address, the delta sentinel", pfx("255.255.255.255/32")},
		{"first address", pfx("0.0.0.0/32")},
		{"all of IPv4", blocklist.All()},
		{"IPv4 less reserved", blocklist.All().Subtract(blocklist.Reserved())},
		{"reserved", blocklist.Reserved()},
		{"two halves", pfx("0.0.0.0/1").Union(pfx("255.0.0.0/8"))},
	}
	r := rand.New(rand.NewPCG(40, 41))
	for i := range 40 {
		ref := randomRefSet(r, 1+i*3, 8+uint(i%20))
		if ref.allowed.Count() > 0 {
			tests = append(tests, struct {
				name string
				set  *blocklist.Set
			}{"random", ref.allowed})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newAddrTable(tt.set)
			n := tt.set.Count()
			check := func(i uint64) {
				t.Helper()
				if got, want := tab.at(i), tt.set.At(i); got != want {
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
			for b := uint64(0); b < uint64(len(tab.delta)); b++ {
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
