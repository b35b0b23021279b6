package target_test

import (
	"fmt"
	"net/netip"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// Two machines, two sender threads each: four disjoint subshards whose
// union is every target once.
func Example() {
	allowed := blocklist.FromPrefixes(netip.MustParsePrefix("192.0.2.0/29"))
	seen := 0
	for shard := range 2 {
		p, err := target.New(&target.Config{
			Allowed: allowed,
			Ports:   []uint16{139, 445},
			Seed:    2026, // every machine must use the same seed
			Shards:  2,
			Shard:   shard,
			Threads: 2,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		for thread := range p.Threads() {
			it := p.Iterator(thread) // owned by one sender goroutine
			for {
				_, _, ok := it.Next()
				if !ok {
					break
				}
				seen++
			}
		}
	}
	fmt.Println(seen, "targets")
	// Output: 16 targets
}

// A checkpoint records each thread's position; Resume continues from it.
func ExampleResume() {
	cfg := &target.Config{
		Allowed: blocklist.FromPrefixes(netip.MustParsePrefix("192.0.2.0/24")),
		Seed:    7,
	}
	p, _ := target.New(cfg)
	it := p.Iterator(0)
	for range 100 {
		it.Next()
	}
	st, _ := p.State([]*target.Iterator{it})
	want, _, _ := it.Next()

	q, err := target.Resume(cfg, st)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _, _ := q.Iterator(0).Next()
	fmt.Println(got == want)
	// Output: true
}
