package smb

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/lab"
)

// Host sets and labs of the section.
const (
	setAnyIP  = "anyip"  // the first 256 addresses of the AnyIP /24 (one smbd)
	setMatrix = "matrix" // the Samba matrix and impacket, port 445
	setNmap   = "anyip-nmap"

	labStock  = "stock"  // the servers' own listen backlogs (smbd: 50)
	labRaised = "raised" // lab up --listen-backlog 1024
)

// labPrefix names the section's labs.
const labPrefix = "bench-smb-"

// raisedBacklog is the listen backlog of the second lab (`lab up
// --listen-backlog`); smbd's own is 50.
const raisedBacklog = 1024

// labArgs brings up the Samba matrix, impacket and the AnyIP smbd in the
// smallest range that holds them, with no SYN-only listeners.
var labArgs = []string{"--range", "198.18.0.0/22", "--open", "0", "--closed", "0", "--samba"}

// anyIPCount is the AnyIP set's size, as in the issue.
const anyIPCount = 256

// anyIPLimit bounds one tool's pass over the AnyIP hosts (zgrab2 has
// taken a minute on an overloaded smbd); a killed run is reported.
const anyIPLimit = 40 * time.Second

// anyIPGap separates AnyIP runs so that smbd has reaped the last run's
// children.
const anyIPGap = time.Second

// silentProbes is the concurrency for the memory goal.
const silentProbes = 50000

// The tools' names in tables, plots and goals.
const (
	nameSmbsweep      = "smbsweep"
	nameSmbsweepTuned = "smbsweep --workers 64 + zgrab2's timeouts"
	nameShares        = "smbsweep --smb-shares"
	nameNoSMB1        = "smbsweep --no-smb1"
	nameZgrab2        = "zgrab2"
	nameZgrab2Tuned   = "zgrab2 -s 64"
	nameNmap          = "nmap"
)

// nmapScripts is the script list for nmap 7.93.
const nmapScripts = "smb-protocols,smb2-security-mode,smb2-time,smb2-capabilities,smb-os-discovery,smb-security-mode"

// params are the section's knobs for one mode.
type params struct {
	repeats     int
	raised      bool // also measure AnyIP with the raised listen backlog
	nmapHosts   int  // AnyIP hosts nmap probes (a subset: see render)
	silent      bool // run silentbench
	noSMB1      bool // also smbsweep --no-smb1 on AnyIP
	replayN     string
	replayCount int
}

// paramsFor returns the full or quick parameters: quick runs one repeat
// in the stock lab only, nmap on the matrix only, a shorter replay
// benchmark and no silentbench (≤ 45 s); full runs env.Repeats (≥ 3)
// alternating repeats in both labs (≤ 4 min).
func paramsFor(env *benchkit.Env) params {
	if env.Quick {
		return params{repeats: 1, replayN: "500x", replayCount: 1}
	}
	return params{repeats: max(env.Repeats, 3), raised: true, nmapHosts: nmapSubset, silent: true, noSMB1: true, replayN: "2000x", replayCount: 3}
}

// nmapSubset is how many AnyIP hosts nmap probes in the full run: its
// NetBIOS name query and up to 6 connections per host make 256 hosts
// take minutes (bench/results/smbprobe.md), beyond the section's budget.
const nmapSubset = 32

// bins are the section's programs.
type bins struct {
	smbsweep, zgrab2 string // zgrab2 "" when missing
	nmap             bool
	empty            string // an empty blocklist file for zgrab2
}

// config is one tool configuration on one host set in one lab.
type config struct {
	name    string // row label (name* constants)
	tool    string // nameSmbsweep, nameZgrab2 or nameNmap: which parser
	set     string
	lab     string
	argv    []string
	once    bool // measured in the first repeat only (nmap)
	timeout time.Duration
}

func (c config) key() string  { return c.lab + "/" + c.set + "/" + c.name }
func (c config) slug() string { return strings.NewReplacer(" ", "", "--", "-").Replace(c.name) }

// parse reads the configuration's output.
func (c config) parse(out []byte) (map[netip.Addr]facts, error) {
	switch c.tool {
	case nameZgrab2:
		return zgrab2Facts(out)
	case nameNmap:
		return nmapFacts(out)
	}
	return smbsweepFacts(out)
}

// configs lists the configurations of one lab in measuring order, so that
// repeats alternate tools. The tuned worker count (64) is the same for
// both probers; defaults are smbsweep's 256 workers and zgrab2's 1000
// senders.
func configs(which string, p params, b bins) []config {
	var cs []config
	add := func(name, tool, set string, once bool, timeout time.Duration, argv ...string) {
		cs = append(cs, config{name: name, tool: tool, set: set, lab: which, argv: argv, once: once, timeout: timeout})
	}
	zg := func(extra ...string) []string {
		return append([]string{b.zgrab2, "smb", "--setup-session", "-b", b.empty}, extra...)
	}
	add(nameSmbsweep, nameSmbsweep, setAnyIP, false, anyIPLimit, b.smbsweep, "probe")
	if b.zgrab2 != "" {
		add(nameZgrab2, nameZgrab2, setAnyIP, false, anyIPLimit, zg()...)
	}
	// Tuned: 64 workers, and zgrab2's patience (10 s connect, up to a
	// minute per host) instead of our 3 s / 5 s / 10 s, for an smbd
	// that queues connections for seconds.
	add(nameSmbsweepTuned, nameSmbsweep, setAnyIP, false, anyIPLimit, b.smbsweep, "probe", "--workers", "64",
		"--connect-timeout", "10s", "--read-timeout", "30s", "--host-timeout", "60s")
	if b.zgrab2 != "" && which == labStock {
		// The raised lab measures zgrab2's defaults only (budget): its
		// default answered every host in every run here.
		add(nameZgrab2Tuned, nameZgrab2, setAnyIP, false, anyIPLimit, zg("-s", "64")...)
	}
	if which == labRaised {
		return cs
	}
	if p.noSMB1 {
		// One connection per host, as zgrab2: what the SMB1 check costs.
		add(nameNoSMB1, nameSmbsweep, setAnyIP, false, anyIPLimit, b.smbsweep, "probe", "--no-smb1")
	}
	add(nameSmbsweep, nameSmbsweep, setMatrix, false, 30*time.Second, b.smbsweep, "probe")
	add(nameShares, nameSmbsweep, setMatrix, false, 30*time.Second, b.smbsweep, "probe", "--smb-shares")
	if b.zgrab2 != "" {
		add(nameZgrab2, nameZgrab2, setMatrix, false, 30*time.Second, zg()...)
	}
	if b.nmap {
		nmap := []string{"nmap", "-Pn", "-n", "-p445", "-T4", "--min-parallelism", "64", "--script", nmapScripts, "-iL", "-", "-oX", "-"}
		add(nameNmap, nameNmap, setMatrix, true, time.Minute, nmap...)
		if p.nmapHosts > 0 {
			add(nameNmap, nameNmap, setNmap, true, 90*time.Second, nmap...)
		}
	}
	return cs
}

// sample is one run's measurement. NaN fields: not measured.
type sample struct {
	wall     float64 // seconds
	cpuMs    float64 // client CPU (user+sys of the tool's process) per host, ms
	rssMiB   float64 // peak RSS (ru_maxrss)
	answered float64 // hosts with status success
	hosts    int
	note     string // how the run failed or ended, "" if cleanly
}

func failedSample(err error) sample {
	return sample{wall: math.NaN(), cpuMs: math.NaN(), rssMiB: math.NaN(), answered: math.NaN(), note: err.Error()}
}

// matrixResult is one tool's correctness on the matrix (last repeat).
type matrixResult struct {
	name  string
	score score
}

// replayResult is BenchmarkRunReplayTCP's medians.
type replayResult struct {
	cmd       string
	hostsPerS []float64
	cpuUs     []float64
	err       string
}

// silentResult is silentbench's peak RSS.
type silentResult struct {
	cmd     string
	n       int // concurrent probes
	line    string
	peakKiB float64
	err     string
}

// parseBench returns the hosts/s and cpu-µs/host metrics of every result
// line of benchmark name in `go test -bench` output.
func parseBench(out []byte, name string) (hostsPerS, cpuUs []float64, err string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != name && !strings.HasPrefix(f[0], name+"-") {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, perr := strconv.ParseFloat(f[i], 64)
			if perr != nil {
				continue
			}
			switch f[i+1] {
			case "hosts/s":
				hostsPerS = append(hostsPerS, v)
			case "cpu-µs/host":
				cpuUs = append(cpuUs, v)
			}
		}
	}
	if len(hostsPerS) == 0 || len(cpuUs) == 0 {
		return nil, nil, fmt.Sprintf("no %s result with hosts/s and cpu-µs/host", name)
	}
	return hostsPerS, cpuUs, ""
}

// parseSilent returns silentbench's VmHWM in KiB ("VmHWM=581234 kB").
func parseSilent(out []byte) (float64, string) {
	s := string(out)
	i := strings.LastIndex(s, "VmHWM=")
	if i < 0 {
		return math.NaN(), "silentbench printed no VmHWM"
	}
	f := strings.Fields(s[i+len("VmHWM="):])
	if len(f) < 2 || f[1] != "kB" {
		return math.NaN(), "silentbench: unexpected VmHWM " + strings.Join(f[:min(2, len(f))], " ")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return math.NaN(), "silentbench: " + err.Error()
	}
	return v, ""
}

// addrs returns the servers' addresses.
func addrs(ss []lab.Server) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = s.Address
	}
	return out
}
