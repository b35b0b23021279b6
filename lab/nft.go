package lab

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// nftTable is the name of the lab's nftables table in the internet
// namespace.
const nftTable = "smbsweep_lab"

// writeNFT writes the internet namespace's ruleset (nft -f syntax, see
// nft(8)) for g. Only traffic that ends locally (the AnyIP range) passes the
// input hook; traffic routed on to server namespaces is not filtered here.
//
//   - (address, port) in @open: accepted, the listener on 0.0.0.0:port
//     answers SYN-ACK;
//   - in @closed: reject with tcp reset;
//   - UDP and ICMP to an address with any open or closed port (@alive):
//     accepted, so the kernel answers echo and port unreachable;
//   - everything else in the range: dropped (filtered).
//
// The rules keep no conntrack state, so a scan at any rate costs no table
// entries.
func writeNFT(w io.Writer, g *GroundTruth) error {
	var b strings.Builder
	fmt.Fprintf(&b, "table ip %s {\n", nftTable)
	writeSet(&b, "open", g.Open, g.Ports)
	writeSet(&b, "closed", g.Closed, g.Ports)
	var alive []netip.Addr
	for _, p := range g.Ports {
		alive = append(alive, g.Open[p]...)
		alive = append(alive, g.Closed[p]...)
	}
	slices.SortFunc(alive, netip.Addr.Compare)
	alive = slices.Compact(alive)
	b.WriteString("\tset alive {\n\t\ttype ipv4_addr\n")
	writeElements(&b, len(alive), func(i int) string { return alive[i].String() })
	b.WriteString("\t}\n")
	fmt.Fprintf(&b, "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")
	fmt.Fprintf(&b, "\t\tip daddr != %v accept\n", g.Range)
	b.WriteString("\t\tip daddr . tcp dport @open accept\n")
	b.WriteString("\t\tip daddr . tcp dport @closed reject with tcp reset\n")
	b.WriteString("\t\tmeta l4proto { udp, icmp } ip daddr @alive accept\n")
	b.WriteString("\t\tdrop\n\t}\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSet(b *strings.Builder, name string, m map[uint16][]netip.Addr, ports []uint16) {
	type elem struct {
		a netip.Addr
		p uint16
	}
	var es []elem
	for _, p := range ports {
		for _, a := range m[p] {
			es = append(es, elem{a, p})
		}
	}
	fmt.Fprintf(b, "\tset %s {\n\t\ttype ipv4_addr . inet_service\n", name)
	writeElements(b, len(es), func(i int) string { return fmt.Sprintf("%v . %d", es[i].a, es[i].p) })
	b.WriteString("\t}\n")
}

// writeElements writes an elements clause, or nothing for an empty set (nft
// rejects "elements = { }").
func writeElements(b *strings.Builder, n int, elem func(int) string) {
	if n == 0 {
		return
	}
	b.WriteString("\t\telements = {")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		if i%8 == 0 {
			b.WriteString("\n\t\t\t")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(elem(i))
	}
	b.WriteString("\n\t\t}\n")
}
