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

// netemArgs describes cfg's impairments as applied: loss by nftables
// (numgen, nft(8)), rate by tbf (tc-tbf(8)), delay, jitter and reordering
// by the lab's wire (see wireSpec). None of them needs sch_netem, which
// kernels such as the project's CI lack.
func netemArgs(c *Config) string {
	var a []string
	if c.Loss > 0 {
		a = append(a, fmt.Sprintf("loss %g%% (nft numgen)", c.Loss*100))
	}
	if c.Rate > 0 {
		a = append(a, fmt.Sprintf("rate %dbit (tbf)", c.Rate))
	}
	if c.Delay > 0 || c.Jitter > 0 || c.Reorder > 0 {
		d := fmt.Sprintf("delay %v", c.Delay)
		if c.Jitter > 0 {
			d += fmt.Sprintf(" ± %v", c.Jitter)
		}
		if c.Reorder > 0 {
			d += fmt.Sprintf(", reorder %g%%", c.Reorder*100)
		}
		a = append(a, d+" (wire)")
	}
	return strings.Join(a, ", ")
}

// wired reports whether cfg needs the wire namespace.
func wired(c *Config) bool { return c.Delay > 0 || c.Jitter > 0 || c.Reorder > 0 }

// lossScale is the numgen modulus: loss is drawn in millionths.
const lossScale = 1000000

// writeLossNFT drops a random fraction of the IPv4 frames crossing the
// scanner's link, in both directions, at the internet namespace's end
// (netdev ingress and egress hooks, nft(8)). ARP passes: a lost neighbour
// resolution fails every connection queued behind it for seconds, which
// would test the kernel's ARP retry policy rather than the scanner.
func writeLossNFT(b *strings.Builder, loss float64) {
	n := int(loss*lossScale + 0.5)
	fmt.Fprintf(b, "table netdev smbsweep_loss {\n")
	for _, hook := range []string{"ingress", "egress"} {
		fmt.Fprintf(b, "\tchain %s {\n\t\ttype filter hook %s device %q priority filter; policy accept;\n", hook, hook, gatewayIf)
		fmt.Fprintf(b, "\t\tmeta protocol ip numgen random mod %d < %d counter drop\n\t}\n", lossScale, n)
	}
	b.WriteString("}\n")
}

// impair puts a tbf rate limit on both ends of the scanner's link (loss
// is in the nftables ruleset, delay in the wire).
func (l *Lab) impair(ctx context.Context, r runner, scan, inet string) error {
	c := &l.cfg
	if c.Rate == 0 {
		return nil
	}
	// A burst of 10 ms at the rate, at least a few frames.
	burst := max(c.Rate/8/100, 16384)
	for _, e := range []struct{ ns, dev string }{{scan, scannerIf}, {inet, gatewayIf}} {
		if err := r.run(ctx, "", "tc", "-n", e.ns, "qdisc", "add", "dev", e.dev, "root",
			"tbf", "rate", fmt.Sprintf("%dbit", c.Rate), "burst", fmt.Sprint(burst), "latency", "100ms"); err != nil {
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

// SetLoss changes the random loss on the scanner's link while the lab runs
// (both directions, at the internet namespace's end, as Config.Loss does):
// tests use it to impair a scan that is already under way. 0 removes the
// loss. Status().Impairment keeps describing the configuration the lab was
// brought up with.
func (l *Lab) SetLoss(ctx context.Context, loss float64) error {
	if loss < 0 || loss > 1 {
		return fmt.Errorf("lab: set loss %g: not a fraction in 0..1", loss)
	}
	var b strings.Builder
	// "add table" then "delete table" removes the table whether or not it
	// exists, in one transaction with the new one.
	b.WriteString("add table netdev smbsweep_loss\ndelete table netdev smbsweep_loss\n")
	if loss > 0 {
		writeLossNFT(&b, loss)
	}
	inet := l.cfg.Prefix + roleNet
	if err := (runner{logf: l.cfg.Logf}).run(ctx, b.String(), "ip", "netns", "exec", inet, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("lab: set loss %g: %w", loss, err)
	}
	return nil
}
