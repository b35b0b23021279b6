package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/proc"
)

// machine is what RESULTS.md records of the run's machine and software.
type machine struct {
	Date       time.Time
	Commit     string // git describe of the tree under test
	CPU        string // lscpu "Model name"
	Cores      string // nproc
	RAM        string // MemTotal
	Kernel     string
	Debian     string
	Go         string
	Tools      []string // "zmap 2.1.1", …
	LoadBefore string
	LoadAfter  string
	Elapsed    time.Duration
	Mode       string
}

// recordMachine collects the machine's description; a field that cannot be
// read is "?".
func recordMachine(ctx context.Context, root, zgrab2 string) *machine {
	m := &machine{
		Date:       time.Now().UTC(),
		Commit:     first(runOut(ctx, root, "git", "describe", "--always", "--dirty")),
		CPU:        lscpuModel(runOut(ctx, root, "lscpu")),
		Cores:      first(runOut(ctx, root, "nproc")),
		RAM:        memTotal(readFile("/proc/meminfo")),
		Kernel:     first(runOut(ctx, root, "uname", "-r")),
		Debian:     first(readFile("/etc/debian_version")),
		Go:         runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		LoadBefore: proc.LoadAvg(),
	}
	m.Tools = append(m.Tools,
		first(runOut(ctx, root, "zmap", "--version")),
		"masscan "+version(runOut(ctx, root, "masscan", "--version")),
		"nmap "+version(runOut(ctx, root, "nmap", "--version")),
		first(runOut(ctx, root, "gcc", "--version")),
	)
	if zgrab2 != "" {
		m.Tools = append(m.Tools, "zgrab2 "+zgrab2Version+" (built from the Go module proxy)")
	} else {
		m.Tools = append(m.Tools, "zgrab2: missing")
	}
	return m
}

// runOut is a command's standard output, "" on error.
func runOut(ctx context.Context, dir string, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// first is the first non-empty line of s, "?" if none.
func first(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return "?"
}

// lscpuModel is the "Model name" of lscpu's output.
func lscpuModel(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// memTotal is /proc/meminfo's MemTotal in GiB.
func memTotal(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
			var kib float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib); err == nil {
				return fmt.Sprintf("%.1f GiB", kib/(1<<20))
			}
		}
	}
	return "?"
}

var versionRE = regexp.MustCompile(`[Vv]ersion\s+([0-9][0-9.]*)`)

// version is the first "version X.Y" of s.
func version(s string) string {
	if m := versionRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "?"
}
