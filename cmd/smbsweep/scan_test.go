package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

func TestScanUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // substring of the one-line reason
	}{
		{"unknown flag", []string{"--bogus", "192.0.2.1"}, "flag provided but not defined: -bogus"},
		{"rate and bandwidth", []string{"-r", "5", "-B", "1M", "1.2.3.4"}, "-r and -B both set"},
		{"bad bandwidth", []string{"-B", "fast", "1.2.3.4"}, "not a positive bandwidth"},
		{"negative rate", []string{"-r", "-1", "1.2.3.4"}, "negative"},
		{"too many probes", []string{"-P", "17", "1.2.3.4"}, "-P: 17 probes"},
		{"bad format", []string{"-O", "xml", "1.2.3.4"}, "unknown output format"},
		{"bad tx", []string{"--tx", "pcap", "1.2.3.4"}, "unknown back end"},
		{"bad rx", []string{"--rx", "pcap", "1.2.3.4"}, "--rx: unknown back end"},
		{"source ports overlap ephemeral", []string{"--source-port", "40000-50000", "1.2.3.4"}, "overlaps the kernel's ephemeral range"},
		{"bad source ports", []string{"--source-port", "9-1", "1.2.3.4"}, "--source-port"},
		{"bad source IP", []string{"-S", "nope", "1.2.3.4"}, "-S"},
		{"bad gateway MAC", []string{"-G", "zz", "1.2.3.4"}, "-G"},
		{"reserved without allow", []string{"198.18.0.0/24"}, "use --allow-reserved"},
		{"no targets", []string{"-r", "5"}, "no TARGET"},
		{"bad target", []string{"1.2.3.400"}, "target"},
		{"shard out of range", []string{"--shards", "2", "--shard", "2", "--seed", "1", "1.2.3.4"}, "--shard"},
		{"negative cooldown", []string{"-c", "-1", "1.2.3.4"}, "must not be negative"},
	}
	// A case that needs the absence of --dry-run goes through planScan
	// only: runScan would go on to open sockets if the check regressed.
	t.Run("dry-run frames without dry run", func(t *testing.T) {
		f, targets, err := parseScanArgs([]string{"--dry-run-frames", "3", "1.2.3.4"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := planScan(f, targets); err == nil || !strings.Contains(err.Error(), "--dry-run-frames without --dry-run") {
			t.Fatalf("planScan error %v", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runScan(append([]string{"--dry-run"}, tt.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout not empty on a usage error: %q", stdout.String())
			}
		})
	}
}

func TestScanDryRun(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/ipv4/ip_local_port_range"); err != nil {
		t.Skip("needs Linux's ip_local_port_range")
	}
	block := filepath.Join(t.TempDir(), "optout.conf")
	if err := os.WriteFile(block, []byte("198.18.0.0/26 # opted out\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runScan([]string{"--dry-run", "--allow-reserved", "-b", block, "-S", "198.18.255.1", "--source-mac", "02:00:00:00:00:01",
		"-G", "02:00:00:00:00:02", "-i", "lo", "-T", "2", "-P", "2", "-r", "1000", "--seed", "7", "--dry-run-frames", "3", "198.18.0.0/24"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"dry run: nothing sent, no socket opened",
		"targets 192 (192 addresses × 1 ports; 256 requested, 0 reserved, 64 opted out), seed 7",
		"built 384 frames for 192 targets",
		"02:00:00:00:00:01 > 02:00:00:00:00:02  198.18.255.1:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "  SYN seq="); n != 3 {
		t.Errorf("%d frames shown, want 3:\n%s", n, out)
	}
}

// TestIntegrationScanCommand runs the built binary in a lab's scanner
// namespace (ip netns exec), so every socket it opens is inside the lab.
func TestIntegrationScanCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux")
	}
	l := labtest.New(t, &lab.Config{Seed: 11})
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "smbsweep")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"json open only", []string{"-r", "50000", "--tx", "ring"}},
		{"json all sendmmsg 2 threads", []string{"-r", "0", "-T", "2", "--tx", "sendmmsg", "--all"}},
		{"json all rx ring 2 probes", []string{"-r", "100000", "-P", "2", "--rx", "ring", "--all"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first scan runs under an egress capture: with the
			// default flags every SYN must be visible to it (qdisc
			// bypass would hide them) and in the lab's range.
			var capture *lab.Capture
			capPath := filepath.Join(t.TempDir(), "egress.pcap")
			if i == 0 {
				if capture, err = l.Capture(capPath); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := append([]string{"scan", "--yes", "-q", "--allow-reserved", "-c", "2"}, tt.args...)
			args = append(args, gt.Range.String())
			var stdout, stderr bytes.Buffer
			cmd := l.Command(ctx, bin, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("smbsweep %v: %v\n%s", args, err, stderr.String())
			}
			all := strings.Contains(strings.Join(tt.args, " "), "--all")
			want := map[string]string{}
			for _, a := range gt.Open[445] {
				want[a.String()] = "success"
			}
			if all {
				for _, a := range gt.Closed[445] {
					want[a.String()] = "connection-refused"
				}
			}
			got := map[string]string{}
			sc := bufio.NewScanner(&stdout)
			for sc.Scan() {
				var r struct {
					IP        netip.Addr `json:"ip"`
					Port      int        `json:"port"`
					Status    string     `json:"status"`
					Timestamp time.Time  `json:"timestamp"`
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("output line %q: %v", sc.Text(), err)
				}
				if r.Port != 445 || r.Timestamp.IsZero() {
					t.Fatalf("incomplete line %q", sc.Text())
				}
				got[r.IP.String()] = r.Status
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("results (-want +got):\n%s", diff)
			}
			if capture != nil {
				if _, err := capture.Stop(); err != nil {
					t.Fatal(err)
				}
				syns, outside := countSYNs(t, capPath, gt.Range)
				if outside != 0 || float64(syns) < 0.95*float64(int(1)<<(32-gt.Range.Bits())) {
					t.Fatalf("egress capture: %d SYNs seen (want ≈ %d), %d frames outside %v", syns, 1<<(32-gt.Range.Bits()), outside, gt.Range)
				}
			}
		})
	}
}

// countSYNs reads a pcap of Ethernet frames and counts the TCP SYNs (no ACK)
// and the IPv4 frames addressed outside scope.
func countSYNs(t *testing.T, path string, scope netip.Prefix) (syns, outside int) {
	t.Helper()
	err := lab.ReadCapture(path, func(b []byte, _ gopacket.CaptureInfo) error {
		if len(b) < 34 || b[12] != 0x08 || b[13] != 0x00 {
			return nil
		}
		if dst := netip.AddrFrom4([4]byte(b[30:34])); !scope.Contains(dst) {
			outside++
		}
		ihl := int(b[14]&0x0f) * 4
		if b[23] == 6 && len(b) >= 14+ihl+14 && b[14+ihl+13]&0x12 == 0x02 {
			syns++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return syns, outside
}
