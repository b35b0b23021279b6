package main

// Tests that 'targets', 'scan' and 'run' share one definition of the
// target flags: the same names, help texts and defaults, the same base set
// (-w intersects) and the same target order for the same flags.

import (
	"bytes"
	"flag"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/rawscan"
)

// targetFlagNames are the shared target flags, long and short.
var targetFlagNames = []string{
	"ports", "p", "seed", "e", "shards", "shard", "sender-threads", "T",
	"max-targets", "n", "blocklist-file", "b", "allowlist-file", "w", "allow-reserved",
}

// flagDef is what a command's help shows of one flag.
type flagDef struct {
	Name, Usage, Default string
}

func flagDefs(fs *flag.FlagSet) []flagDef {
	var defs []flagDef
	for _, name := range targetFlagNames {
		fl := fs.Lookup(name)
		if fl == nil {
			defs = append(defs, flagDef{Name: name, Usage: "(not defined)"})
			continue
		}
		defs = append(defs, flagDef{name, fl.Usage, fl.DefValue})
	}
	return defs
}

// TestTargetFlagsSameInEveryCommand checks that 'scan' and 'run' define
// the target flags exactly as targetFlags.register, which 'targets' uses.
func TestTargetFlagsSameInEveryCommand(t *testing.T) {
	ref := flag.NewFlagSet("ref", flag.ContinueOnError)
	(&targetFlags{}).register(ref, 1)
	want := flagDefs(ref)
	if i := slices.IndexFunc(want, func(d flagDef) bool { return d.Usage == "(not defined)" }); i >= 0 {
		t.Fatalf("targetFlags.register does not define -%s", want[i].Name)
	}
	tests := []struct {
		name string
		fs   *flag.FlagSet
	}{
		{"scan", newScanFlagSet(&scanFlags{}, io.Discard)},
		{"run", newRunFlagSet(&scanFlags{}, &runFlags{}, io.Discard)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(want, flagDefs(tt.fs)); diff != "" {
				t.Errorf("%s target flags differ from targetFlags.register (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// frameDst matches a frame line of 'scan --dry-run': its thread and
// destination IP:PORT.
var frameDst = regexp.MustCompile(`^thread (\d+): .* > (\S+)  SYN seq=`)

// dryRunOrder runs 'scan --dry-run' showing every frame and returns the
// destinations in send order, thread 0's first, and the dry-run summary.
func dryRunOrder(t *testing.T, args ...string) (order []string, summary string) {
	t.Helper()
	if _, err := os.Stat("/proc/sys/net/ipv4/ip_local_port_range"); err != nil {
		t.Skip("needs Linux's ip_local_port_range")
	}
	args = append([]string{"--dry-run", "--dry-run-frames", "100000", "-P", "1", "-r", "0",
		"-S", "198.18.255.1", "--source-mac", "02:00:00:00:00:01", "-G", "02:00:00:00:00:02", "-i", "lo"}, args...)
	var stdout, stderr bytes.Buffer
	if code := runScan(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("scan %q: exit %d: %s", args, code, stderr.String())
	}
	var perThread [][]string
	for l := range strings.Lines(stdout.String()) {
		m := frameDst.FindStringSubmatch(l)
		if m == nil {
			summary += l
			continue
		}
		th, _ := strconv.Atoi(m[1])
		for len(perThread) <= th {
			perThread = append(perThread, nil)
		}
		perThread[th] = append(perThread[th], m[2])
	}
	return slices.Concat(perThread...), summary
}

// planOrder walks the permutation of a scan plan as a scan's senders do,
// thread by thread, applying the plan's send-time filter.
func planOrder(t *testing.T, p *scanPlan) []string {
	t.Helper()
	var out []string
	filter := p.tp.Filter()
	batch := make([]netip.AddrPort, targetsBatch)
	for th := range p.perm.Threads() {
		it := p.perm.Iterator(th)
		for k := it.Fill(batch); k > 0; k = it.Fill(batch) {
			for _, ap := range batch[:k] {
				if filter == nil || !filter.Contains(ap.Addr()) {
					out = append(out, ap.String())
				}
			}
		}
	}
	return out
}

// runPlan parses args with the flag set of 'run' and plans the scan as
// 'run' does before opening any socket.
func runPlan(t *testing.T, args ...string) *scanPlan {
	t.Helper()
	sf, rf := &scanFlags{set: map[string]bool{}}, &runFlags{}
	fs := newRunFlagSet(sf, rf, io.Discard)
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		t.Fatal(err)
	}
	fs.Visit(func(fl *flag.Flag) { sf.set[fl.Name] = true })
	p, err := planScan(sf, targets)
	if err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	return p
}

// TestScanAndRunOrderMatchesTargets checks that the same seed, shard,
// thread, cap and opt-out flags give 'scan', 'run' and 'targets' the same
// targets in the same order, with the ports given in another order: the
// ports are sorted, -n is applied once (by the permutation, not again per
// sender) and the -b files are excluded the same way.
func TestScanAndRunOrderMatchesTargets(t *testing.T) {
	block := writeFile(t, "optout.conf", "198.18.0.0/28 # opted out\n198.18.1.7\n")
	common := []string{"--allow-reserved", "-e", "99", "--shards", "3", "--shard", "1", "-b", block}
	tests := []struct {
		name  string
		flags []string
	}{
		{"one thread", []string{"-T", "1"}},
		{"three threads", []string{"-T", "3"}},
		{"count cap", []string{"-T", "3", "-n", "100"}},
		{"percentage cap", []string{"--sender-threads", "2", "--max-targets", "10%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := append(slices.Clone(common), tt.flags...)
			want := mustTargets(t, slices.Concat(flags, []string{"-q", "-p", "139,445,8000-8002", "198.18.0.0/23"})...)
			if len(want) == 0 {
				t.Fatal("targets printed nothing")
			}
			scanArgs := slices.Concat(flags, []string{"--ports", "8002,445,8000-8001,139,445", "198.18.0.0/23"})
			got, summary := dryRunOrder(t, scanArgs...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scan --dry-run order differs from targets (-targets +scan):\n%s", diff)
			}
			if s := "built " + strconv.Itoa(len(want)) + " frames for " + strconv.Itoa(len(want)) + " targets"; !strings.Contains(summary, s) {
				t.Errorf("scan --dry-run summary lacks %q:\n%s", s, summary)
			}
			if diff := cmp.Diff(want, planOrder(t, runPlan(t, scanArgs...))); diff != "" {
				t.Errorf("run's plan order differs from targets (-targets +run):\n%s", diff)
			}
		})
	}
}

// TestAllowlistIntersects checks that -w keeps only the TARGETs inside the
// allowlist in every command, and that -w alone is the set of targets.
func TestAllowlistIntersects(t *testing.T) {
	allow := writeFile(t, "allow.conf", "198.18.0.128/25\n198.19.0.0/30 # not among the TARGETs\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"intersected with TARGET", []string{"-w", allow, "198.18.0.0/24"}, pairs("198.18.0.128", "198.18.0.255", 445)},
		{"intersected with two TARGETs", []string{"--allowlist-file", allow, "198.18.0.0/25", "198.18.0.250-198.19.0.1"},
			append(pairs("198.18.0.250", "198.18.0.255", 445), pairs("198.19.0.0", "198.19.0.1", 445)...)},
		{"allowlist alone", []string{"-w", allow}, append(pairs("198.18.0.128", "198.18.0.255", 445), pairs("198.19.0.0", "198.19.0.3", 445)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--allow-reserved", "-e", "5", "-T", "2"}, tt.args...)
			want := sorted(tt.want)
			if diff := cmp.Diff(want, sorted(mustTargets(t, append(args, "-q")...))); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			got, _ := dryRunOrder(t, args...)
			if diff := cmp.Diff(want, sorted(got)); diff != "" {
				t.Errorf("scan --dry-run (-want +got):\n%s", diff)
			}
			p := runPlan(t, args...)
			if diff := cmp.Diff(want, sorted(planOrder(t, p))); diff != "" {
				t.Errorf("run (-want +got):\n%s", diff)
			}
			if p.tp.Requested != uint64(len(want)) {
				t.Errorf("run plan: %d requested addresses, want %d", p.tp.Requested, len(want))
			}
		})
	}
}

// TestScanConfigFromPlan checks what the plan hands rawscan: no second
// cap (rawscan would split -n across the senders again), the senders of
// -T and, with -b files, the plan's generation-gated filter.
func TestScanConfigFromPlan(t *testing.T) {
	block := writeFile(t, "optout.conf", "198.18.0.1\n")
	p := runPlan(t, "--allow-reserved", "-e", "3", "-T", "4", "-n", "50", "-b", block, "198.18.0.0/24")
	cfg := p.config(&rawscan.Route{})
	if cfg.MaxTargets != 0 {
		t.Errorf("rawscan.Config.MaxTargets = %d, want 0: the iterators carry -n", cfg.MaxTargets)
	}
	if cfg.Senders != 4 {
		t.Errorf("rawscan.Config.Senders = %d, want 4", cfg.Senders)
	}
	if _, ok := cfg.OptOut.(optOutFilter); !ok {
		t.Errorf("rawscan.Config.OptOut is %T, want the plan's optOutFilter", cfg.OptOut)
	}
	if p.tp.Config.MaxTargets != 50 {
		t.Errorf("permutation cap %d, want 50", p.tp.Config.MaxTargets)
	}
	if q := runPlan(t, "--allow-reserved", "-e", "3", "198.18.0.0/24"); q.config(&rawscan.Route{}).OptOut != nil {
		t.Error("rawscan.Config.OptOut is set without -b files")
	}
	var total uint64
	for th := range p.perm.Threads() {
		it := p.perm.Iterator(th)
		batch := make([]netip.AddrPort, targetsBatch)
		for k := it.Fill(batch); k > 0; k = it.Fill(batch) {
			total += uint64(k)
		}
	}
	if total != 50 {
		t.Errorf("the iterators emit %d targets, want the cap of 50", total)
	}
}
