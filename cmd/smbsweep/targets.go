package main

// targets: ZMap's ziterate. Target flags → target.Permutation, then either
// print every target in send order or count them, applying the opt-out
// filter exactly as a scan does. Sends nothing, needs no privileges.
//
// Output order: with -T threads the targets are written subshard by
// subshard (all of thread 0's, then thread 1's, …); a scan sends the same
// subshards concurrently. --count walks the threads' subshards in parallel,
// one goroutine each, as the scan's senders do.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// targetsBatch is the number of targets fetched per Iterator.FillAddrs,
// the batch of a sender (rawscan.BatchSize).
const targetsBatch = rawscan.BatchSize

// targetsOutBuffer is the size of the output buffer: big writes keep the
// cost of a pipe or file write per target negligible.
const targetsOutBuffer = 1 << 20

// runTargets is the 'targets' subcommand.
func runTargets(args []string, stdout, stderr io.Writer) int {
	var (
		tf    targetFlags
		count bool
		quiet bool
	)
	fs := flag.NewFlagSet("smbsweep targets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tf.register(fs, 1)
	fs.BoolVar(&count, "count", false, "print only the number of targets, walking every subshard of this shard and every filter as a scan does")
	fs.BoolVar(&quiet, "quiet", false, "no summary line on stderr")
	fs.BoolVar(&quiet, "q", false, "short for --quiet")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: smbsweep targets [flags] TARGET...

Prints every target in send order as IP:PORT, one per line (ZMap's
ziterate), or with --count only their number. TARGETs are IPv4 addresses,
CIDR prefixes or ranges a.b.c.d-e.f.g.h; the whole internet is 0.0.0.0/0.
The targets are (TARGETs ∩ -w allowlists) − reserved blocks − -b files.
With -T N the output is thread 0's subshard, then thread 1's, and so on.
A summary with the seed goes to stderr. Sends nothing; needs no privileges.

Flags:
`)
		fs.PrintDefaults()
	}
	targets, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package printed the reason
	}

	plan, err := tf.build(targets)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep targets: %v\n", err)
		if isUsage(err) {
			return exitUsage
		}
		return exitFailure
	}
	perm, err := target.New(&plan.Config)
	if err != nil {
		fmt.Fprintf(stderr, "smbsweep targets: %v\n", err)
		return exitUsage
	}
	if !quiet {
		fmt.Fprintf(stderr, "smbsweep targets: %d addresses × %d ports = %d targets (%d requested, %d reserved, %d in -b files); seed %d, prime %d, generator %d; shard %d of %d, %d threads\n",
			plan.Config.Allowed.Count(), len(plan.Config.Ports), perm.Count(),
			plan.Requested, plan.Reserved, plan.Blocked,
			perm.Seed(), perm.Prime(), perm.Generator(), plan.Config.Shard, plan.Config.Shards, perm.Threads())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	optOut := plan.Filter()
	if plan.OptOut != nil {
		go plan.OptOut.Run(ctx) // returns ctx.Err() once cancelled
	}

	var st walkStats
	if count {
		st = countTargets(perm, optOut)
		fmt.Fprintln(stdout, st.visited)
	} else {
		st, err = writeTargets(stdout, perm, optOut)
		if err != nil {
			fmt.Fprintf(stderr, "smbsweep targets: writing: %v\n", err)
			return exitFailure
		}
	}
	if !quiet && st.skipped > 0 {
		fmt.Fprintf(stderr, "smbsweep targets: %d targets skipped by a reloaded -b file\n", st.skipped)
	}
	return exitOK
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// walkStats counts what a walk did: targets visited (emitted and not
// opted out) and targets skipped by the opt-out filter.
type walkStats struct {
	visited, skipped uint64
}

// writeTargets writes every target of perm, thread by thread, as IP:PORT
// lines. optOut, if not nil, is the send-time filter.
func writeTargets(w io.Writer, perm *target.Permutation, optOut rawscan.OptOut) (walkStats, error) {
	var st walkStats
	bw := bufio.NewWriterSize(w, targetsOutBuffer)
	addrs, ports := make([]uint32, targetsBatch), make([]uint16, targetsBatch)
	line := make([]byte, 0, len("255.255.255.255:65535\n")*targetsBatch)
	gate := gateOf(optOut)
	for t := range perm.Threads() {
		it := perm.Iterator(t)
		for {
			k := it.FillAddrs(addrs, ports)
			if k == 0 {
				break
			}
			line = line[:0]
			for j, a := range addrs[:k] {
				if check(optOut, gate) && optOut.Contains(addrFrom(a)) {
					st.skipped++
					continue
				}
				st.visited++
				line = appendAddrPort(line, a, ports[j])
				line = append(line, '\n')
			}
			if _, err := bw.Write(line); err != nil {
				return st, err
			}
		}
	}
	return st, bw.Flush()
}

// gateOf returns the Watcher of a rawscan.GatedOptOut, or nil.
func gateOf(o rawscan.OptOut) *blocklist.Watcher {
	if g, ok := o.(rawscan.GatedOptOut); ok {
		return g.Gate()
	}
	return nil
}

// check reports whether targets must be looked up in the opt-out filter
// o, as rawscan's schedule decides: not without a filter, nor with a gated
// one before its first reload.
func check(o rawscan.OptOut, gate *blocklist.Watcher) bool {
	return o != nil && (gate == nil || gate.Generation() != 0)
}

// addrFrom returns the IPv4 address of a host-order integer.
func addrFrom(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// appendAddrPort appends a host-order IPv4 address and a port as IP:PORT,
// netip.AddrPort's text form.
func appendAddrPort(b []byte, a uint32, port uint16) []byte {
	for shift := 24; shift >= 0; shift -= 8 {
		b = strconv.AppendUint(b, uint64(byte(a>>shift)), 10)
		if shift > 0 {
			b = append(b, '.')
		}
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(port), 10)
}

// countTargets walks every thread's subshard of perm in parallel, one
// goroutine each, applying optOut as a sender would, and returns the
// totals.
func countTargets(perm *target.Permutation, optOut rawscan.OptOut) walkStats {
	per := make([]walkStats, perm.Threads())
	var wg sync.WaitGroup
	for t := range per {
		wg.Go(func() {
			it := perm.Iterator(t)
			addrs, ports := make([]uint32, targetsBatch), make([]uint16, targetsBatch)
			gate := gateOf(optOut)
			var st walkStats
			for {
				k := it.FillAddrs(addrs, ports)
				if k == 0 {
					break
				}
				if optOut == nil {
					st.visited += uint64(k)
					continue
				}
				for _, a := range addrs[:k] {
					if check(optOut, gate) && optOut.Contains(addrFrom(a)) {
						st.skipped++
					} else {
						st.visited++
					}
				}
			}
			per[t] = st
		})
	}
	wg.Wait()
	var total walkStats
	for _, st := range per {
		total.visited += st.visited
		total.skipped += st.skipped
	}
	return total
}
