package lab

import (
	"context"
	"fmt"
	"strings"
)

// Sink interface names in the scanner namespace and the far end of the
// veth sink in the internet namespace.
const (
	sinkIFB  = "sink0"
	sinkVeth = "sink1"
	sinkPeer = "sinkpeer"
)

// netemArgs is the tc-netem(8) argument list for cfg's impairments, or "".
func netemArgs(c *Config) string {
	var a []string
	if c.Delay > 0 {
		a = append(a, fmt.Sprintf("delay %dus", c.Delay.Microseconds()))
		if c.Jitter > 0 {
			a = append(a, fmt.Sprintf("%dus", c.Jitter.Microseconds()))
		}
	}
	if c.Loss > 0 {
		a = append(a, fmt.Sprintf("loss %g%%", c.Loss*100))
	}
	if c.Reorder > 0 {
		if c.Delay == 0 {
			// netem reorders by sending some packets at once and delaying
			// the rest, so reordering needs a delay.
			a = append(a, "delay 1ms")
		}
		a = append(a, fmt.Sprintf("reorder %g%%", c.Reorder*100))
	}
	if c.Rate > 0 {
		a = append(a, fmt.Sprintf("rate %dbit", c.Rate))
	}
	return strings.Join(a, " ")
}

// impair puts netem on both ends of the scanner's link.
func (l *Lab) impair(ctx context.Context, r runner, scan, inet string) error {
	args := netemArgs(&l.cfg)
	if args == "" {
		return nil
	}
	for _, e := range []struct{ ns, dev string }{{scan, scannerIf}, {inet, gatewayIf}} {
		tc := append([]string{"-n", e.ns, "qdisc", "add", "dev", e.dev, "root", "netem"}, strings.Fields(args)...)
		if err := r.run(ctx, "", "tc", tc...); err != nil {
			return err
		}
	}
	return nil
}

// writeSinkNFT drops every frame arriving on the veth sink's far end at
// ingress, before any protocol handler (nft(8), NETDEV family).
func writeSinkNFT(b *strings.Builder) {
	fmt.Fprintf(b, "table netdev smbsweep_sink {\n\tchain ingress {\n\t\ttype filter hook ingress device %q priority filter; policy drop;\n\t}\n}\n", sinkPeer)
}
