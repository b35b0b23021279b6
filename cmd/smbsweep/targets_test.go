package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// targetsCmd runs 'smbsweep targets' in-process.
func targetsCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runTargets(args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustTargets runs the command, fails unless it exits 0, and returns the
// output lines.
func mustTargets(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errs := targetsCmd(t, args...)
	if code != exitOK {
		t.Fatalf("targets %q: exit %d, stderr:\n%s", args, code, errs)
	}
	return strings.Fields(out)
}

// writeFile writes a file in the test's temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pairs returns "a:p" for every address of first..last and port, sorted.
func pairs(first, last string, ports ...uint16) []string {
	var out []string
	for a := netip.MustParseAddr(first); ; a = a.Next() {
		for _, p := range ports {
			out = append(out, netip.AddrPortFrom(a, p).String())
		}
		if a == netip.MustParseAddr(last) {
			break
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestTargetsUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // substring of stderr
	}{
		{"no target", nil, exitUsage, "no TARGET given (to scan the whole IPv4 internet, say 0.0.0.0/0)"},
		{"reserved /8", []string{"10.0.0.0/8"}, exitUsage, "10.0.0.0/8 is entirely reserved (Private-Use; RFC 1918); use --allow-reserved"},
		{"reserved benchmark range", []string{"198.18.0.0/24"}, exitUsage, "198.18.0.0/24 is entirely reserved (Benchmarking; RFC 2544"},
		{"bad target", []string{"1.2.3.x"}, exitUsage, `invalid address "1.2.3.x"`},
		{"IPv6 target", []string{"2001:db8::/32"}, exitUsage, "invalid prefix"},
		{"comment smuggled in a target", []string{"1.2.3.4#x"}, exitUsage, "want an IPv4 address"},
		{"port zero", []string{"-p", "0", "1.2.3.4"}, exitUsage, "not a port"},
		{"port range backwards", []string{"-p", "10-5", "1.2.3.4"}, exitUsage, "not a port"},
		{"port too big", []string{"-p", "65536", "1.2.3.4"}, exitUsage, "not a port"},
		{"shard out of range", []string{"--shards", "2", "--shard", "2", "-e", "1", "1.2.3.4"}, exitUsage, "--shard 2"},
		{"shards without seed", []string{"--shards", "2", "1.2.3.4"}, exitUsage, "needs --seed"},
		{"bad seed", []string{"-e", "x", "1.2.3.4"}, exitUsage, "--seed"},
		{"zero threads", []string{"-T", "0", "1.2.3.4"}, exitUsage, "-T 0"},
		{"bad max targets", []string{"-n", "ten", "1.2.3.4"}, exitUsage, "-n"},
		{"max targets percentage of nothing", []string{"-n", "1%", "1.2.3.4"}, exitUsage, "is none"},
		{"unknown flag", []string{"--bogus", "1.2.3.4"}, exitUsage, "flag provided but not defined"},
		{"missing blocklist file", []string{"-b", "/nonexistent/optout.conf", "1.2.3.4"}, exitFailure, "-b"},
		{"all blocklisted", []string{"-b", "BLOCK", "1.2.3.0/30"}, exitUsage, "no targets left"},
		{"outside allowlist", []string{"-w", "ALLOW", "1.2.3.0/30"}, exitUsage, "none of the TARGETs is in the -w allowlist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := slices.Clone(tt.args)
			for i, a := range args {
				switch a {
				case "BLOCK":
					args[i] = writeFile(t, "block.conf", "1.2.3.0/24\n")
				case "ALLOW":
					args[i] = writeFile(t, "allow.conf", "9.9.9.9\n")
				}
			}
			code, out, errs := targetsCmd(t, args...)
			if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
				t.Fatalf("targets %q: exit %d, stderr %q; want exit %d and %q", args, code, errs, tt.wantCode, tt.wantErr)
			}
			if out != "" {
				t.Fatalf("targets %q: printed %q on stdout after an error", args, out)
			}
		})
	}
}

func TestTargetsHelp(t *testing.T) {
	t.Parallel()
	code, _, errs := targetsCmd(t, "-h")
	if code != exitOK || !strings.Contains(errs, "--count") || !strings.Contains(errs, "-blocklist-file") {
		t.Fatalf("targets -h: exit %d, stderr:\n%s", code, errs)
	}
}

func TestTargetsExactCover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"one address", []string{"1.2.3.4"}, pairs("1.2.3.4", "1.2.3.4", 445)},
		{"prefix, default port", []string{"1.2.3.0/28"}, pairs("1.2.3.0", "1.2.3.15", 445)},
		{"range and ports", []string{"-p", "139,445,8000-8002", "1.2.3.250-1.2.4.5"}, pairs("1.2.3.250", "1.2.4.5", 139, 445, 8000, 8001, 8002)},
		{"flags after targets, threads", []string{"1.2.3.0/26", "-T", "3", "-p", "445,139"}, pairs("1.2.3.0", "1.2.3.63", 139, 445)},
		{"overlapping targets count once", []string{"1.2.3.0/28", "1.2.3.8/29", "1.2.3.3"}, pairs("1.2.3.0", "1.2.3.15", 445)},
		{"reserved allowed", []string{"--allow-reserved", "198.18.0.0/29"}, pairs("198.18.0.0", "198.18.0.7", 445)},
		{"reserved part dropped", []string{"100.63.255.254-100.64.0.1"}, pairs("100.63.255.254", "100.63.255.255", 445)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustTargets(t, tt.args...)
			if diff := cmp.Diff(tt.want, sorted(got)); diff != "" {
				t.Fatalf("targets %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// TestTargetsShardsUnion runs every shard of a layout as a separate
// command, as separate machines would, and checks that together they print
// the whole set once.
func TestTargetsShardsUnion(t *testing.T) {
	t.Parallel()
	block := writeFile(t, "block.conf", "# opt-outs\n1.2.3.7\n1.2.3.64/27\n1.2.4.0-1.2.4.9\n")
	var want []string
	for _, p := range pairs("1.2.3.0", "1.2.4.255", 139, 445) {
		a := netip.MustParseAddrPort(p).Addr().As4()
		switch {
		case a == [4]byte{1, 2, 3, 7}, a[2] == 3 && a[3] >= 64 && a[3] < 96, a[2] == 4 && a[3] <= 9:
			continue
		}
		want = append(want, p)
	}
	for _, shards := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			var got []string
			for s := range shards {
				got = append(got, mustTargets(t, "-e", "77", "--shards", strconv.Itoa(shards), "--shard", strconv.Itoa(s),
					"-T", "2", "-p", "445,139", "-b", block, "1.2.3.0-1.2.4.255")...)
			}
			if diff := cmp.Diff(want, sorted(got)); diff != "" {
				t.Fatalf("union of %d shards (-want +got):\n%s", shards, diff)
			}
		})
	}
}

func TestTargetsSeed(t *testing.T) {
	t.Parallel()
	a := mustTargets(t, "-e", "1", "1.2.0.0/20")
	b := mustTargets(t, "--seed", "1", "1.2.0.0/20")
	c := mustTargets(t, "-e", "2", "1.2.0.0/20")
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two orders")
	}
	if slices.Equal(a, c) {
		t.Fatal("seeds 1 and 2 gave the same order")
	}
	if !slices.Equal(sorted(a), sorted(c)) {
		t.Fatal("seeds 1 and 2 gave different sets")
	}
	// Without --seed the seed is random and reported.
	_, _, errs := targetsCmd(t, "1.2.3.4")
	if !strings.Contains(errs, "seed ") {
		t.Fatalf("no seed in the summary: %q", errs)
	}
}

func TestTargetsSendOrderMatchesPermutation(t *testing.T) {
	t.Parallel()
	// The command prints thread 0's subshard, then thread 1's: the order of
	// the package's iterators.
	plan, err := (&targetFlags{ports: "445,139", seed: "9", shards: 1, threads: 2}).build([]string{"1.2.3.0/25"})
	if err != nil {
		t.Fatal(err)
	}
	perm, err := target.New(&plan.Config)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for th := range perm.Threads() {
		it := perm.Iterator(th)
		for {
			a, p, ok := it.Next()
			if !ok {
				break
			}
			want = append(want, netip.AddrPortFrom(a, p).String())
		}
	}
	got := mustTargets(t, "-e", "9", "-T", "2", "-p", "139,445", "1.2.3.0/25")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("output order (-want +got):\n%s", diff)
	}
}

func TestTargetsCountMatchesOutput(t *testing.T) {
	t.Parallel()
	block := writeFile(t, "block.conf", "1.2.0.0/24\n1.2.9.9\n")
	allow := writeFile(t, "allow.conf", "1.2.0.0/21\n1.3.0.0/16\n")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"plain", []string{"1.2.0.0/20"}, 4096},
		{"ports and threads", []string{"-p", "1-3", "-T", "4", "1.2.0.0/20"}, 3 * 4096},
		{"blocklist", []string{"-b", block, "1.2.0.0/20"}, 4096 - 256 - 1},
		{"allowlist intersects", []string{"-w", allow, "1.2.0.0/20"}, 2048},
		{"allowlist alone", []string{"-w", allow}, 2048 + 65536},
		{"max targets", []string{"-n", "1000", "-T", "3", "1.2.0.0/20"}, 1000},
		{"max targets percent", []string{"-n", "25%", "1.2.0.0/20"}, 1024},
		{"shard of max targets", []string{"-e", "3", "--shards", "4", "--shard", "3", "-n", "1003", "1.2.0.0/20"}, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines := mustTargets(t, append([]string{"-e", "5"}, tt.args...)...)
			if len(lines) != tt.want {
				t.Fatalf("targets %q printed %d lines, want %d", tt.args, len(lines), tt.want)
			}
			counted := mustTargets(t, append([]string{"-e", "5", "--count"}, tt.args...)...)
			if diff := cmp.Diff([]string{strconv.Itoa(tt.want)}, counted); diff != "" {
				t.Fatalf("targets --count %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// funcFilter is a rawscan.OptOut made of a function, for tests.
type funcFilter func(netip.Addr) bool

func (f funcFilter) Contains(a netip.Addr) bool { return f(a) }

// TestTargetsOptOutFilter checks the send-time filter: a target opted out
// after the permutation was built is skipped and counted, in both modes.
func TestTargetsOptOutFilter(t *testing.T) {
	t.Parallel()
	plan, err := (&targetFlags{ports: "445", seed: "1", shards: 1, threads: 3}).build([]string{"1.2.3.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	perm, err := target.New(&plan.Config)
	if err != nil {
		t.Fatal(err)
	}
	optOut := funcFilter(func(a netip.Addr) bool { return a.As4()[3]%4 == 0 }) // 64 of 256
	if got, want := countTargets(perm, optOut), (walkStats{visited: 192, skipped: 64}); got != want {
		t.Fatalf("countTargets = %+v, want %+v", got, want)
	}
	var out bytes.Buffer
	st, err := writeTargets(&out, perm, optOut)
	if err != nil {
		t.Fatal(err)
	}
	if want := (walkStats{visited: 192, skipped: 64}); st != want {
		t.Fatalf("writeTargets = %+v, want %+v", st, want)
	}
	for _, l := range strings.Fields(out.String()) {
		if optOut.Contains(netip.MustParseAddrPort(l).Addr()) {
			t.Fatalf("opted-out target %s was written", l)
		}
	}
}

// TestOptOutFilterFollowsReloads checks the generation-gated filter: no
// target is opted out before a reload, and an address added to a -b file
// is filtered as soon as the Watcher reloads.
func TestOptOutFilterFollowsReloads(t *testing.T) {
	t.Parallel()
	block := writeFile(t, "block.conf", "1.2.3.7\n")
	plan, err := (&targetFlags{ports: "445", seed: "1", shards: 1, threads: 1, blocklists: repeatedFlag{block}}).build([]string{"1.2.3.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	filter := plan.Filter()
	tests := []struct {
		addr string
		want bool
	}{{"1.2.3.7", false}, {"1.2.3.8", false}} // 1.2.3.7 is not a target: the base set lacks it
	for _, tt := range tests {
		if got := filter.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Fatalf("before reload: filter(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if err := os.WriteFile(block, []byte("1.2.3.7\n1.2.3.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := plan.OptOut.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{{"1.2.3.7", true}, {"1.2.3.8", true}, {"1.2.3.9", false}} {
		if got := filter.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Fatalf("after reload: filter(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	perm, err := target.New(&plan.Config)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countTargets(perm, filter), (walkStats{visited: 254, skipped: 1}); got != want {
		t.Fatalf("countTargets after reload = %+v, want %+v", got, want)
	}
	if (&targetPlan{}).Filter() != nil {
		t.Fatal("Filter without -b files is not nil")
	}
}

// TestAppendAddrPort checks the IP:PORT formatter of 'targets' against
// netip.AddrPort.String at the edges and over seeded random values.
func TestAppendAddrPort(t *testing.T) {
	vals := []uint32{0, 1, 0x7f000001, 0x0a0b0c0d, 0xc0a80001, 0xfffffffe, 0xffffffff}
	ports := []uint16{0, 1, 9, 10, 99, 100, 445, 9999, 10000, 65535}
	r := rand.New(rand.NewPCG(90, 91))
	for range 10000 {
		vals = append(vals, r.Uint32())
		ports = append(ports, uint16(r.Uint32()))
	}
	for i, a := range vals {
		port := ports[i%len(ports)]
		want := netip.AddrPortFrom(addrFrom(a), port).String()
		if got := string(appendAddrPort([]byte("x"), a, port)); got != "x"+want {
			t.Fatalf("appendAddrPort(%#08x, %d) = %q, want %q", a, port, got, "x"+want)
		}
	}
}
