package main

// The flags that choose targets and their order, shared by 'targets',
// 'scan' and 'run': defined once here (ZMap's names, long and short), turned
// into a target.Config and an opt-out Watcher by targetFlags.build.
//
// Base set = (TARGETs ∩ allowlist) − reserved − the -b files as they are at
// start. The permutation walks only that set. The -b files are also watched
// and re-checked per target at send time, so an opt-out added during a run
// takes effect at once without disturbing the order, shards or checkpoints.

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// targetFlags holds the values of the shared target flags.
type targetFlags struct {
	ports         string
	seed          string
	shards, shard int
	threads       int
	maxTargets    string
	blocklists    repeatedFlag
	allowlists    repeatedFlag
	allowReserved bool
}

// repeatedFlag is a string flag that may be given several times.
type repeatedFlag []string

func (r *repeatedFlag) String() string     { return strings.Join(*r, ",") }
func (r *repeatedFlag) Set(s string) error { *r = append(*r, s); return nil }

// register defines the target flags on fs. defaultThreads is the default
// of -T: 1 for 'targets', the sender count for 'scan'.
func (f *targetFlags) register(fs *flag.FlagSet, defaultThreads int) {
	short := func(name, long string) { fs.Var(fs.Lookup(long).Value, name, "short for --"+long) }
	fs.StringVar(&f.ports, "ports", strconv.Itoa(target.DefaultPort), "destination ports: a list with ranges, e.g. 445,139,8000-8010")
	short("p", "ports")
	fs.StringVar(&f.seed, "seed", "", "permutation seed, a uint64 (default: random, printed so the run can be repeated)")
	short("e", "seed")
	fs.IntVar(&f.shards, "shards", 1, "number of machines sharing the scan (all need the same --seed and lists)")
	fs.IntVar(&f.shard, "shard", 0, "index of this machine, 0 ≤ shard < shards")
	fs.IntVar(&f.threads, "sender-threads", defaultThreads, "sender threads: each walks its own subshard")
	short("T", "sender-threads")
	fs.StringVar(&f.maxTargets, "max-targets", "", "cap on targets emitted over all shards and threads: a count, or a percentage of all targets like 10% (default: no cap)")
	short("n", "max-targets")
	fs.Var(&f.blocklists, "blocklist-file", "opt-out file in ZMap's format (repeatable); excluded at start and re-checked per target while it is watched")
	short("b", "blocklist-file")
	fs.Var(&f.allowlists, "allowlist-file", "allowlist file in ZMap's format (repeatable): only these addresses, intersected with the TARGETs")
	short("w", "allowlist-file")
	fs.BoolVar(&f.allowReserved, "allow-reserved", false, "allow the reserved blocks (IANA special-purpose registry and multicast)")
}

// flagUsageError is a problem with the flags or arguments of 'targets',
// 'scan' or 'run': the command prints it and exits with exitUsage.
type flagUsageError struct{ msg string }

func (e *flagUsageError) Error() string { return e.msg }

func targetUsagef(format string, args ...any) error {
	return &flagUsageError{fmt.Sprintf(format, args...)}
}

// isUsage reports whether err is a flagUsageError.
func isUsage(err error) bool {
	var ue *flagUsageError
	return errors.As(err, &ue)
}

// targetPlan is what the target flags build.
type targetPlan struct {
	// Config is the permutation's config; Seed is random unless --seed was
	// given (SeedGiven).
	Config    target.Config
	SeedGiven bool

	// OptOut watches the -b files (nil without -b); its Run must be
	// started by the caller. The per-target send-time check is Filter,
	// not OptOut.Contains.
	OptOut *blocklist.Watcher

	// Counts of addresses at each stage, for the summary line.
	Requested, Reserved, Blocked uint64
}

// build parses the flag values and the TARGET arguments into a plan.
// Errors for which isUsage is true are usage errors; others are I/O or
// file errors.
func (f *targetFlags) build(args []string) (*targetPlan, error) {
	ports, err := parsePortList(f.ports)
	if err != nil {
		return nil, err
	}
	if f.shards < 1 || f.shards > target.MaxShards {
		return nil, targetUsagef("--shards %d: want 1 to %d", f.shards, target.MaxShards)
	}
	if f.shard < 0 || f.shard >= f.shards {
		return nil, targetUsagef("--shard %d: want 0 ≤ shard < shards (%d)", f.shard, f.shards)
	}
	if f.threads < 1 || f.threads > target.MaxThreads {
		return nil, targetUsagef("-T %d: want 1 to %d sender threads", f.threads, target.MaxThreads)
	}
	p := &targetPlan{}
	if f.seed != "" {
		if p.Config.Seed, err = strconv.ParseUint(f.seed, 0, 64); err != nil {
			return nil, targetUsagef("--seed %q: not a uint64", f.seed)
		}
		p.SeedGiven = true
	} else {
		if f.shards > 1 {
			return nil, targetUsagef("--shards %d needs --seed: every shard must walk the same permutation", f.shards)
		}
		p.Config.Seed = rand.Uint64()
	}

	if len(args) == 0 && len(f.allowlists) == 0 {
		return nil, targetUsagef("no TARGET given (to scan the whole IPv4 internet, say 0.0.0.0/0)")
	}
	requested := blocklist.All()
	var parts []targetArg
	if len(args) > 0 {
		requested = blocklist.NewSet()
		for _, a := range args {
			s, err := parseTargetArg(a)
			if err != nil {
				return nil, err
			}
			parts = append(parts, targetArg{a, s})
			requested = requested.Union(s)
		}
	}
	if len(f.allowlists) > 0 {
		allow, err := blocklist.ParseFiles(f.allowlists...)
		if err != nil {
			return nil, fmt.Errorf("-w: %w", err)
		}
		requested = requested.Intersect(allow)
		if len(args) == 0 {
			parts = append(parts, targetArg{"the allowlist", allow})
		}
	}
	p.Requested = requested.Count()

	allowed := requested
	if !f.allowReserved {
		allowed = allowed.Subtract(blocklist.Reserved())
		for _, t := range parts {
			if t.set.Count() > 0 && t.set.Subtract(blocklist.Reserved()).Count() == 0 {
				return nil, targetUsagef("%s is entirely reserved (%s); use --allow-reserved", t.arg, reservedWhy(t.set))
			}
		}
	}
	p.Reserved = p.Requested - allowed.Count()
	if len(f.blocklists) > 0 {
		if p.OptOut, err = blocklist.NewWatcher(&blocklist.WatcherConfig{Files: f.blocklists}); err != nil {
			return nil, fmt.Errorf("-b: %w", err)
		}
		before := allowed.Count()
		allowed = allowed.Subtract(p.OptOut.Current())
		p.Blocked = before - allowed.Count()
	}
	switch {
	case p.Requested == 0:
		return nil, targetUsagef("no targets: none of the TARGETs is in the -w allowlist")
	case allowed.Count() == 0:
		return nil, targetUsagef("no targets left: of %d requested addresses, %d are reserved and %d are in -b files", p.Requested, p.Reserved, p.Blocked)
	}

	maxT, err := parseMaxTargets(f.maxTargets, allowed.Count()*uint64(len(ports)))
	if err != nil {
		return nil, err
	}
	p.Config.Allowed = allowed
	p.Config.Ports = ports
	p.Config.Shards, p.Config.Shard, p.Config.Threads = f.shards, f.shard, f.threads
	p.Config.MaxTargets = maxT
	return p, nil
}

// optOutFilter is the per-target, send-time opt-out check against the
// Watcher's current set. The base set was built without the Watcher's
// first set (generation 0), so until the first successful reload no target
// of the permutation can be in it and the set lookup is skipped: one atomic
// load per target instead of a search. After a reload every target is
// looked up. (The Watcher stores the new set before it bumps the
// generation, so a just-published addition may be missed for the
// nanoseconds in between.) It is safe for concurrent use and does not
// allocate; rawscan.OptOut is satisfied by it.
type optOutFilter struct{ w *blocklist.Watcher }

// Contains reports whether a has been opted out since the base set was
// built.
func (f optOutFilter) Contains(a netip.Addr) bool {
	return f.w.Generation() != 0 && f.w.Contains(a)
}

// Gate makes optOutFilter a rawscan.GatedOptOut: senders test the generation inline.
func (f optOutFilter) Gate() *blocklist.Watcher { return f.w }

// Filter returns the send-time opt-out filter of the plan, or nil without
// -b files. 'targets' applies it per target; 'scan' and 'run' pass it as
// rawscan.Config.OptOut.
func (p *targetPlan) Filter() rawscan.OptOut {
	if p.OptOut == nil {
		return nil
	}
	return optOutFilter{p.OptOut}
}

// targetArg is one TARGET argument and its addresses.
type targetArg struct {
	arg string
	set *blocklist.Set
}

// parseTargetArg parses one TARGET: an IPv4 address, a CIDR prefix or an
// inclusive range a.b.c.d-e.f.g.h, the forms of a blocklist file line.
func parseTargetArg(a string) (*blocklist.Set, error) {
	if a == "" || strings.ContainsAny(a, "#\n\r") {
		return nil, targetUsagef("target %q: want an IPv4 address, CIDR prefix or range", a)
	}
	s, err := blocklist.Parse(strings.NewReader(a), "target")
	if err != nil {
		var pe *blocklist.ParseError
		if errors.As(err, &pe) {
			return nil, targetUsagef("target %s", pe.Reason)
		}
		return nil, targetUsagef("target %q: %v", a, err)
	}
	return s, nil
}

// parsePortList parses -p: comma-separated ports and FIRST-LAST ranges,
// 1 to 65535. The result is sorted and without repeats, so the same ports
// in any order give the same permutation on every machine.
func parsePortList(s string) ([]uint16, error) {
	var ports []uint16
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || first == 0 || last < first {
			return nil, targetUsagef("-p %q: %q is not a port (1-65535) or FIRST-LAST range", s, part)
		}
		for p := first; p <= last; p++ {
			ports = append(ports, uint16(p))
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// parseMaxTargets parses -n: empty (no cap), a count, or a percentage of
// total, ZMap's two forms. A percentage that rounds down to no target is
// an error rather than "no cap".
func parseMaxTargets(s string, total uint64) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || !(v > 0 && v <= 100) {
			return 0, targetUsagef("-n %q: want a count or a percentage in (0%%, 100%%]", s)
		}
		n := uint64(float64(total) * v / 100)
		if n == 0 {
			return 0, targetUsagef("-n %q: %v%% of %d targets is none", s, v, total)
		}
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, targetUsagef("-n %q: want a positive count or a percentage", s)
	}
	return n, nil
}

// reservedWhy names the reserved blocks that overlap s, from the comments
// of the embedded reserved.conf, e.g. "Private-Use; RFC 1918".
func reservedWhy(s *blocklist.Set) string {
	var why []string
	for line := range strings.Lines(blocklist.ReservedConf()) {
		entry, comment, _ := strings.Cut(line, "#")
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue // comment or blank line
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			continue
		}
		if s.Intersect(blocklist.FromPrefixes(p)).Count() > 0 {
			why = append(why, strings.TrimSpace(comment))
		}
	}
	if len(why) == 0 {
		return "IANA special-purpose registry"
	}
	return strings.Join(slices.Compact(why), ", ")
}
