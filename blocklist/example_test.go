package blocklist_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/smbsweep/smbsweep/blocklist"
)

func ExampleParse() {
	const optout = `# abuse desk opt-outs
192.0.2.77/24      # host bits are masked, as ZMap does
198.51.100.7
203.0.113.10-203.0.113.13
`
	s, err := blocklist.Parse(strings.NewReader(optout), "optout.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	fmt.Println(s.Count(), s.Contains(netip.MustParseAddr("192.0.2.1")))

	_, err = blocklist.Parse(strings.NewReader("1.2.3.4\n1.2.3.4/33\n"), "optout.conf")
	fmt.Println(err)
	// Output:
	// 192.0.2.0/24
	// 198.51.100.7/32
	// 203.0.113.10/31
	// 203.0.113.12/31
	// 261 true
	// optout.conf:2: invalid prefix "1.2.3.4/33"
}

func ExampleSet_At() {
	// The allowed set of a scan of 198.18.0.0/30 with one opt-out.
	scope := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/30"))
	allowed := scope.Subtract(blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.1/32")))
	for i := range allowed.Count() {
		fmt.Println(i, allowed.At(i))
	}
	// Output:
	// 0 198.18.0.0
	// 1 198.18.0.2
	// 2 198.18.0.3
}
