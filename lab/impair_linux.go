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

// impairment describes cfg's impairments as applied: loss by nftables
// (numgen, nft(8)), rate by tbf (tc-tbf(8)), delay, jitter and reordering
// by netem (tc-netem(8)). Loss does not use netem because kernels built
// without sch_netem (as on the project's CI) still have nftables.
func netemArgs(c *Config) string {
	var a []string
	if c.Loss > 0 {
		a = append(a, fmt.Sprintf("loss %g%% (nft numgen)", c.Loss*100))
	}
	if c.Rate > 0 {
		a = append(a, fmt.Sprintf("rate %dbit (tbf)", c.Rate))
	}
	if n := netemDelay(c); n != "" {
		a = append(a, n+" (netem)")
	}
	return strings.Join(a, ", ")
}

// netemDelay is the netem argument list for delay, jitter and reordering.
func netemDelay(c *Config) string {
	var a []string
	if c.Delay > 0 || c.Reorder > 0 {
		d := c.Delay.Microseconds()
		if d == 0 {
			d = 1000 // netem reorders by delaying the others: needs a delay
		}
		a = append(a, fmt.Sprintf("delay %dus", d))
		if c.Jitter > 0 {
			a = append(a, fmt.Sprintf("%dus", c.Jitter.Microseconds()))
		}
	}
	if c.Reorder > 0 {
		a = append(a, fmt.Sprintf("reorder %g%%", c.Reorder*100))
	}
	return strings.Join(a, " ")
}

// lossScale is the numgen modulus: loss is drawn in millionths.
const lossScale = 1000000

// writeLossNFT drops a random fraction of the frames crossing the
// scanner's link, in both directions, at the internet namespace's end
// (netdev ingress and egress hooks, nft(8)).
func writeLossNFT(b *strings.Builder, loss float64) {
	n := int(loss*lossScale + 0.5)
	fmt.Fprintf(b, "table netdev smbsweep_loss {\n")
	for _, hook := range []string{"ingress", "egress"} {
		fmt.Fprintf(b, "\tchain %s {\n\t\ttype filter hook %s device %q priority filter; policy accept;\n", hook, hook, gatewayIf)
		fmt.Fprintf(b, "\t\tnumgen random mod %d < %d counter drop\n\t}\n", lossScale, n)
	}
	b.WriteString("}\n")
}

// impair puts rate limits and netem delay on both ends of the scanner's
// link (loss is in the nftables ruleset).
func (l *Lab) impair(ctx context.Context, r runner, scan, inet string) error {
	c := &l.cfg
	for _, e := range []struct{ ns, dev string }{{scan, scannerIf}, {inet, gatewayIf}} {
		var args []string
		switch nd := netemDelay(c); {
		case nd != "":
			args = append([]string{"netem"}, strings.Fields(nd)...)
			if c.Rate > 0 {
				args = append(args, "rate", fmt.Sprintf("%dbit", c.Rate))
			}
		case c.Rate > 0:
			// A burst of 10 ms at the rate, at least a few frames.
			burst := max(c.Rate/8/100, 16384)
			args = []string{"tbf", "rate", fmt.Sprintf("%dbit", c.Rate), "burst", fmt.Sprint(burst), "latency", "100ms"}
		default:
			continue
		}
		tc := append([]string{"-n", e.ns, "qdisc", "add", "dev", e.dev, "root"}, args...)
		if err := r.run(ctx, "", "tc", tc...); err != nil {
			if args[0] == "netem" {
				return fmt.Errorf("lab: delay, jitter and reordering need the sch_netem qdisc: %w", err)
			}
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
