package main

// Privileged tests of 'smbsweep run': the built binary runs as a whole
// process in a lab's scanner namespace (lab.Command, ip netns exec), so
// every socket it opens, raw or TCP, is inside the lab. They skip without
// root (labtest.New).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan/pipeline"
)

// smbsweepBinary builds the command into the test's temporary directory
// (the build cache makes every build after the first a link), statically
// (CGO_ENABLED=0, as released: the capability drop needs it).
func smbsweepBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "smbsweep")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// record is the part of an output line the tests read.
type record struct {
	IP     netip.Addr `json:"ip"`
	Port   uint16     `json:"port"`
	Status string     `json:"status"`
	Flags  []string   `json:"flags"`
	Scan   struct {
		TTL    uint8     `json:"ttl"`
		Window uint16    `json:"window"`
		Time   time.Time `json:"time"`
	} `json:"scan"`
	SMB *struct {
		Dialect string `json:"dialect"`
		SMB1    *struct {
			Enabled bool `json:"enabled"`
		} `json:"smb1"`
		Signing *struct {
			Required bool `json:"required"`
		} `json:"signing"`
	} `json:"smb"`
}

func readRecords(t *testing.T, paths ...string) []record {
	t.Helper()
	var out []record
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: line %q: %v", p, sc.Text(), err)
			}
			out = append(out, r)
		}
	}
	return out
}

// hostSet returns the records' hosts, failing on a host written twice.
func hostSet(t *testing.T, recs []record) map[netip.Addr]record {
	t.Helper()
	m := make(map[netip.Addr]record, len(recs))
	for _, r := range recs {
		if _, dup := m[r.IP]; dup {
			t.Errorf("host %v written twice", r.IP)
		}
		m[r.IP] = r
	}
	return m
}

// expectedOpen is every address the lab answers with a SYN-ACK on 445.
func expectedOpen(gt *lab.GroundTruth) map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, a := range gt.Open[445] {
		m[a] = true
	}
	add := func(a netip.Addr, p netip.Prefix) {
		if !p.IsValid() {
			m[a] = true
			return
		}
		for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
			m[a] = true
		}
	}
	for _, s := range gt.Servers {
		if s.Port == 445 {
			add(s.Address, s.Prefix)
		}
	}
	for _, h := range gt.Hostile {
		if h.Port == 445 || h.Port == 0 {
			add(h.Address, h.Prefix)
		}
	}
	return m
}

func diffHosts(t *testing.T, what string, want map[netip.Addr]bool, got map[netip.Addr]record) {
	t.Helper()
	var missing, extra []netip.Addr
	for a := range want {
		if _, ok := got[a]; !ok {
			missing = append(missing, a)
		}
	}
	for a := range got {
		if !want[a] {
			extra = append(extra, a)
		}
	}
	slices.SortFunc(missing, netip.Addr.Compare)
	slices.SortFunc(extra, netip.Addr.Compare)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("%s: %d of %d hosts missing (first %v), %d extra (first %v)", what, len(missing), len(want), head(missing), len(extra), head(extra))
	}
}

func head(a []netip.Addr) []netip.Addr { return a[:min(len(a), 5)] }

// runArgs are the flags every lab run uses: the lab range is reserved
// (RFC 2544), and the probe timeouts are short so hostile hosts end fast.
func runArgs(extra ...string) []string {
	return append([]string{"run", "--yes", "--allow-reserved", "-c", "2",
		"--connect-timeout", "2s", "--read-timeout", "2s", "--host-timeout", "3s", "--workers", "32"}, extra...)
}

func runIn(t *testing.T, l *lab.Lab, bin string, timeout time.Duration, args ...string) (stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var eb bytes.Buffer
	cmd := l.Command(ctx, bin, args...)
	cmd.Stderr = &eb
	if err := cmd.Run(); err != nil {
		t.Fatalf("smbsweep %s: %v\n%s", strings.Join(args, " "), err, eb.String())
	}
	return eb.String()
}

// TestIntegrationRun runs over a /16 with the Samba matrix and the hostile
// hosts: every host that answers SYN-ACK on 445 is written once with its
// scan facts, every Samba server with the SMB facts the lab promises;
// /metrics, scraped during the run through the lab namespace, parses as
// Prometheus text and never exceeds the metadata's final counts, which
// equal the last status-file line's.
func TestIntegrationRun(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 21, Samba: true, Hostile: true})
	bin := smbsweepBinary(t)
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, meta, status := filepath.Join(dir, "out.json"), filepath.Join(dir, "meta.json"), filepath.Join(dir, "status.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := runArgs("-r", "50000", "--seed", "9", "-o", out, "--metadata", meta, "--status-file", status,
		"--metrics-addr", "127.0.0.1:0", "--contact", "lab@example.org", "--silent-timeout", "500ms", gt.Range.String())
	cmd := l.Command(ctx, bin, args...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		stderr     bytes.Buffer
		scrapers   sync.WaitGroup
		readerDone = make(chan struct{})
	)
	scrapes := make(chan map[string]float64, 64)
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`metrics on http://(\S+)/metrics`)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				scrapers.Go(func() { scrapeLoop(t, l, m[1], scrapes) })
			}
		}
	}()
	err = cmd.Wait()
	pw.Close()
	// Close scrapes only once nothing can send on it: the reader has seen
	// the end of stderr (no new scraper starts) and every scraper has
	// returned (its GET failed once the process exited).
	<-readerDone
	scrapers.Wait()
	close(scrapes)
	var samples []map[string]float64
	for s := range scrapes {
		samples = append(samples, s)
	}
	if err != nil {
		t.Fatalf("smbsweep run: %v\n%s", err, stderr.String())
	}

	got := hostSet(t, readRecords(t, out))
	// The AnyIP smbd answers a whole /24 with one process and a listen
	// backlog of 50: while the probes load it, it may drop some of the
	// scan's SYNs, so its hosts are checked for recall only.
	want, anyip := expectedOpen(gt), map[netip.Addr]bool{}
	for _, s := range gt.Servers {
		if s.Prefix.IsValid() {
			for a := s.Prefix.Masked().Addr(); s.Prefix.Contains(a); a = a.Next() {
				delete(want, a)
				anyip[a] = true
			}
		}
	}
	strict := map[netip.Addr]record{}
	found := 0
	for a, r := range got {
		if anyip[a] {
			found++
		} else {
			strict[a] = r
		}
	}
	diffHosts(t, "open hosts", want, strict)
	if found < len(anyip)/2 {
		t.Errorf("only %d of the AnyIP smbd's %d hosts found", found, len(anyip))
	}
	for a, r := range got {
		if r.Port != 445 || r.Scan.TTL == 0 || r.Scan.Window == 0 || r.Scan.Time.IsZero() || r.Status == "" {
			t.Errorf("%v: incomplete record %+v", a, r)
			break
		}
	}
	for _, s := range gt.Servers {
		if s.Port != 445 || s.Prefix.IsValid() {
			continue
		}
		r, ok := got[s.Address]
		if !ok {
			continue // reported above
		}
		if r.Status != "success" || r.SMB == nil {
			t.Errorf("server %s (%v): status %q", s.Name, s.Address, r.Status)
			continue
		}
		gotFacts := fmt.Sprintf("dialect %q smb1 %v", r.SMB.Dialect, r.SMB.SMB1 != nil && r.SMB.SMB1.Enabled)
		wantFacts := fmt.Sprintf("dialect %q smb1 %v", s.Expect.Dialect, s.Expect.SMB1)
		if s.Expect.Dialect != "" {
			gotFacts += fmt.Sprintf(" signing required %v", r.SMB.Signing != nil && r.SMB.Signing.Required)
			wantFacts += fmt.Sprintf(" signing required %v", s.Expect.SigningRequired)
		}
		if gotFacts != wantFacts {
			t.Errorf("server %s (%v): %s, want %s", s.Name, s.Address, gotFacts, wantFacts)
		}
	}
	for _, h := range gt.Hostile {
		if r, ok := got[h.Address]; ok && r.Status == "success" {
			t.Errorf("hostile host %s (%v) reported as a success", h.Name, h.Address)
		}
	}
	// The SYN-proxy /24 is judged silent once 4 of its probes have sat out
	// the read timeout: its other hosts, most of them held until sending
	// ended and waiting by then, are cut short and flagged. No other host
	// is.
	var proxy netip.Prefix
	for _, h := range gt.Hostile {
		if h.Prefix.IsValid() {
			proxy = h.Prefix
		}
	}
	silent, inProxy := 0, 0
	for a, r := range got {
		cut := slices.Contains(r.Flags, "silent-subnet")
		switch {
		case !proxy.Contains(a):
			if cut {
				t.Errorf("%v, outside the SYN-proxy range %v: flagged silent-subnet", a, proxy)
			}
			continue
		case r.Status != "io-timeout":
			t.Errorf("SYN-proxy host %v: status %q, want io-timeout", a, r.Status)
		}
		inProxy++
		if cut {
			silent++
		}
	}
	if size := 1 << (proxy.Addr().BitLen() - proxy.Bits()); !proxy.IsValid() || inProxy != size || silent < size*3/4 {
		t.Errorf("SYN-proxy range %v: %d hosts found, %d of them flagged silent-subnet; want all %d, and most flagged", proxy, inProxy, silent, size)
	}
	t.Logf("SYN-proxy range %v: %d hosts, %d flagged silent-subnet", proxy, inProxy, silent)

	var m pipeline.Metadata
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Completed || m.Written != uint64(len(got)) || m.Hits != uint64(len(got)) || m.Contact != "lab@example.org" || m.Seed != 9 {
		t.Errorf("metadata: completed %v, %d written, %d hits for %d hosts, contact %q, seed %d", m.Completed, m.Written, m.Hits, len(got), m.Contact, m.Seed)
	}
	last := lastStatus(t, status)
	var fromStatus pipeline.Metadata
	fromStatus.Finish(last, nil)
	if m.SilentSubnet != uint64(silent) {
		t.Errorf("metadata: %d probes cut short by a silent subnet, %d records flagged silent-subnet", m.SilentSubnet, silent)
	}
	if fromStatus.PacketsSent != m.PacketsSent || fromStatus.Hits != m.Hits || fromStatus.Probed != m.Probed || fromStatus.SMB["success"] != m.SMB["success"] ||
		fromStatus.SilentSubnet != m.SilentSubnet {
		t.Errorf("last status line and metadata disagree: %+v vs %+v", fromStatus, m)
	}
	if len(samples) == 0 {
		t.Fatalf("no /metrics scrape succeeded during the run\n%s", stderr.String())
	}
	final := map[string]float64{
		"smbsweep_packets_sent_total":         float64(m.PacketsSent),
		"smbsweep_hits_total":                 float64(m.Hits),
		"smbsweep_probes_total":               float64(m.Probed),
		"smbsweep_records_written_total":      float64(m.Written),
		"smbsweep_synack_total":               float64(m.SynAck),
		"smbsweep_probes_silent_subnet_total": float64(m.SilentSubnet),
	}
	for i, s := range samples {
		for name, max := range final {
			v, ok := s[name]
			if !ok {
				t.Fatalf("scrape %d has no %s", i, name)
			}
			if v > max {
				t.Errorf("scrape %d: %s = %v, above the final %v", i, name, v, max)
			}
		}
	}
	t.Logf("%d hosts (AnyIP smbd: %d of %d), %d SMB successes, %d scrapes during the run", len(got), found, len(anyip), m.SMB["success"], len(samples))
}

// scrapeLoop GETs /metrics at addr inside the lab's scanner namespace every
// 200 ms until it fails (the process has exited), parsing each answer.
func scrapeLoop(t *testing.T, l *lab.Lab, addr string, out chan<- map[string]float64) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: l.DialContext}}
	for {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			return
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Errorf("/metrics is not Prometheus text: %v", err)
			return
		}
		s := map[string]float64{}
		for name, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if m.Counter != nil {
					s[name] += m.GetCounter().GetValue()
				}
			}
		}
		select {
		case out <- s:
		default:
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func lastStatus(t *testing.T, path string) *pipeline.Status {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var st pipeline.Status
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != pipeline.PhaseDone {
		t.Errorf("last status line is in phase %q, want done", st.Phase)
	}
	return &st
}

// TestIntegrationRunResume kills a run with SIGKILL at a random moment,
// resumes it from its checkpoint into the same output, and compares the
// hosts with an uninterrupted run's: same set, none twice. Then the same
// with SIGINT, which must stop gracefully with exit 0.
func TestIntegrationRunResume(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 22})
	bin := smbsweepBinary(t)
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "full.json")
	runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "30000", "--seed", "77", "-o", full, gt.Range.String())...)
	want := hostSet(t, readRecords(t, full))

	out, ckpt := filepath.Join(dir, "out.json"), filepath.Join(dir, "ckpt.json")
	args := runArgs("-q", "-r", "20000", "--seed", "77", "-o", out, "--checkpoint", ckpt, "--checkpoint-interval", "300ms", gt.Range.String())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := l.Command(ctx, bin, args...)
	var eb bytes.Buffer
	cmd.Stderr = &eb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// 65,536 targets at 20 kpps take 3.3 s: kill somewhere in the scan.
	kill := time.Duration(800+rand.IntN(2200)) * time.Millisecond
	time.Sleep(kill)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := readRecords(t, out)
	c, err := pipeline.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatalf("no checkpoint after %v: %v\n%s", kill, err, eb.String())
	}
	t.Logf("killed after %v: %d records, checkpoint positions %v", kill, len(before), c.State.Positions)

	runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "30000", "-o", out, "--checkpoint", ckpt, "--resume", gt.Range.String())...)
	got := hostSet(t, readRecords(t, out))
	wantSet := map[netip.Addr]bool{}
	for a := range want {
		wantSet[a] = true
	}
	diffHosts(t, "killed + resumed vs uninterrupted", wantSet, got)

	// SIGINT: a graceful stop exits 0 after the cooldown with a
	// checkpoint that is not done and metadata that says so; a resume
	// completes it.
	out2, ckpt2, meta2 := filepath.Join(dir, "out2.json"), filepath.Join(dir, "ckpt2.json"), filepath.Join(dir, "meta2.json")
	cmd = l.Command(ctx, bin, runArgs("-q", "-r", "20000", "--seed", "77", "-o", out2, "--checkpoint", ckpt2, "--metadata", meta2, gt.Range.String())...)
	eb.Reset()
	cmd.Stderr = &eb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v, want exit 0\n%s", err, eb.String())
	}
	c2, err := pipeline.LoadCheckpoint(ckpt2)
	if err != nil {
		t.Fatal(err)
	}
	var m2 pipeline.Metadata
	if b, err := os.ReadFile(meta2); err != nil || json.Unmarshal(b, &m2) != nil {
		t.Fatalf("metadata after SIGINT: %v", err)
	}
	if c2.Done || m2.Completed || m2.Abandoned != 0 {
		t.Errorf("after SIGINT: checkpoint done %v, metadata completed %v, %d abandoned; want false, false, 0", c2.Done, m2.Completed, m2.Abandoned)
	}
	runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "30000", "-o", out2, "--checkpoint", ckpt2, "--resume", gt.Range.String())...)
	diffHosts(t, "SIGINT + resumed vs uninterrupted", wantSet, hostSet(t, readRecords(t, out2)))

	// The merge of the two halves is the same (and idempotent).
	merged := filepath.Join(dir, "merged.json")
	var so, se bytes.Buffer
	if code := runMerge([]string{"-q", "-o", merged, out, full}, &so, &se); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, se.String())
	}
	diffHosts(t, "merge(resumed, full)", wantSet, hostSet(t, readRecords(t, merged)))
}

// TestIntegrationRunOptOut adds a /17 to the -b opt-out file half a second
// into the sending of a scan and checks in the lab's egress capture that no frame went
// to it from one second after the edit on, while some did before.
func TestIntegrationRunOptOut(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 23})
	bin := smbsweepBinary(t)
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	optout := filepath.Join(dir, "optout.conf")
	if err := os.WriteFile(optout, []byte("# nothing yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "egress.pcap")
	capture, err := l.Capture(pcap)
	if err != nil {
		t.Fatal(err)
	}
	blocked := netip.MustParsePrefix("198.18.128.0/17")
	status := filepath.Join(dir, "status.jsonl")
	var edit time.Time
	done := make(chan struct{})
	go func() {
		// Edit half a second after the first status line that shows
		// frames sent.
		defer close(done)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			b, _ := os.ReadFile(status)
			if bytes.Contains(b, []byte(`"sent":`)) && !bytes.Contains(b, []byte(`"sent":0,`)) {
				break
			}
		}
		time.Sleep(500 * time.Millisecond)
		edit = time.Now()
		if err := os.WriteFile(optout, []byte(blocked.String()+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}()
	out := filepath.Join(dir, "out.json")
	// Without the qdisc bypass, so the egress capture (a packet tap)
	// sees every frame.
	runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "15000", "--qdisc-bypass=false", "--scan-only", "-b", optout, "--status-file", status, "-o", out, gt.Range.String())...)
	<-done
	if _, err := capture.Stop(); err != nil {
		t.Fatal(err)
	}
	before, after := framesTo(t, pcap, blocked, edit.Add(time.Second))
	if before < 1000 {
		t.Fatalf("only %d frames to %v before the edit: the test cannot tell", before, blocked)
	}
	if after != 0 {
		t.Errorf("%d frames to %v more than 1 s after it was opted out (%d before)", after, blocked, before)
	}
	for _, r := range readRecords(t, out) {
		if blocked.Contains(r.IP) && r.Scan.Time.After(edit.Add(time.Second)) {
			t.Errorf("opted-out %v reported at %v", r.IP, r.Scan.Time)
		}
	}
	t.Logf("frames to %v: %d before edit+1s, %d after", blocked, before, after)
}

// framesTo counts the IPv4 TCP frames of a pcap to p before and after t.
func framesTo(t *testing.T, path string, p netip.Prefix, at time.Time) (before, after int) {
	t.Helper()
	err := lab.ReadCapture(path, func(data []byte, ci gopacket.CaptureInfo) error {
		if len(data) < 34 || layers.EthernetType(uint16(data[12])<<8|uint16(data[13])) != layers.EthernetTypeIPv4 || data[23] != 6 {
			return nil
		}
		dst := netip.AddrFrom4([4]byte(data[30:34]))
		if !p.Contains(dst) {
			return nil
		}
		if ci.Timestamp.After(at) {
			after++
		} else {
			before++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return before, after
}

// TestIntegrationRunShards runs --shards 3 as three concurrent processes
// and compares the union of their outputs with a single run's.
func TestIntegrationRunShards(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 24})
	bin := smbsweepBinary(t)
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	single := filepath.Join(dir, "single.json")
	runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "30000", "--seed", "5", "-o", single, gt.Range.String())...)
	want := map[netip.Addr]bool{}
	for a := range hostSet(t, readRecords(t, single)) {
		want[a] = true
	}
	var wg sync.WaitGroup
	outs := make([]string, 3)
	for i := range outs {
		outs[i] = filepath.Join(dir, "shard-"+strconv.Itoa(i)+".json")
		wg.Go(func() {
			runIn(t, l, bin, 60*time.Second, runArgs("-q", "-r", "10000", "--seed", "5", "--shards", "3", "--shard", strconv.Itoa(i), "-o", outs[i], gt.Range.String())...)
		})
	}
	wg.Wait()
	per := make([]int, 3)
	union := map[netip.Addr]record{}
	for i, o := range outs {
		for _, r := range readRecords(t, o) {
			if _, dup := union[r.IP]; dup {
				t.Errorf("%v in two shards", r.IP)
			}
			union[r.IP] = r
			per[i]++
		}
	}
	diffHosts(t, "union of 3 shards vs single run", want, union)
	t.Logf("single run %d hosts; shards %v", len(want), per)
	if len(want) != len(expectedOpen(gt)) {
		t.Errorf("single run found %d hosts, the lab has %d open", len(want), len(expectedOpen(gt)))
	}
}

// TestIntegrationRunCapabilities runs the binary as a throwaway
// unprivileged user: without file capabilities it must fail with the
// setcap hint; with cap_net_raw,cap_net_admin+ep it must scan, and its
// effective capabilities must be empty once its sockets are open.
func TestIntegrationRunCapabilities(t *testing.T) {
	for _, tool := range []string{"useradd", "userdel", "setcap", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	l := labtest.New(t, &lab.Config{Seed: 25})
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	user := fmt.Sprintf("smbsw%d", os.Getpid()%100000)
	if out, err := exec.Command("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", user).CombinedOutput(); err != nil {
		t.Skipf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", user).Run() })
	dir, err := os.MkdirTemp("", "smbsweep-caps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "smbsweep")
	src, err := os.ReadFile(smbsweepBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	asUser := func(ctx context.Context, args ...string) *exec.Cmd {
		return l.Command(ctx, "setpriv", append([]string{"--reuid", user, "--regid", "nogroup", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all,+net_raw,+net_admin", bin}, args...)...)
	}
	out := filepath.Join(dir, "out.json")
	args := runArgs("-q", "-r", "20000", "--scan-only", "-o", out, gt.Range.String())

	t.Run("without", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b, err := asUser(ctx, args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
			t.Fatalf("without capabilities: err %v, want exit %d\n%s", err, exitFailure, b)
		}
		if !strings.Contains(string(b), "CAP_NET_RAW") || !strings.Contains(string(b), "setcap cap_net_raw,cap_net_admin+ep") {
			t.Errorf("message does not name the capability and setcap:\n%s", b)
		}
	})
	t.Run("with", func(t *testing.T) {
		os.Remove(out)
		if b, err := exec.Command("setcap", "cap_net_raw,cap_net_admin+ep", bin).CombinedOutput(); err != nil {
			t.Skipf("setcap: %v: %s (file system without security xattrs?)", err, b)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := asUser(ctx, args...)
		var eb bytes.Buffer
		cmd.Stderr = &eb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// ip netns exec and setpriv exec in place: the pid becomes
		// smbsweep's. Its effective set must go from some to none.
		sawCaps, sawNone := false, false
		for range 300 {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			if err != nil {
				break
			}
			if !strings.Contains(string(b), "Name:\tsmbsweep") {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
					if strings.Trim(strings.TrimSpace(v), "0") == "" {
						sawNone = true
					} else {
						sawCaps = true
					}
				}
			}
			if sawNone {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("with file capabilities: %v\n%s", err, eb.String())
		}
		if !sawNone {
			t.Errorf("effective capabilities never dropped to none while running (saw some: %v)", sawCaps)
		}
		want := map[netip.Addr]bool{}
		for _, a := range gt.Open[445] {
			want[a] = true
		}
		diffHosts(t, "unprivileged run with file capabilities", want, hostSet(t, readRecords(t, out)))
	})
}

// TestIntegrationRunSteering changes a running scan's rate through the
// control endpoint and SIGUSR1/SIGUSR2, and reloads through POST /reload
// and SIGHUP, reading the effect back from GET /status.
func TestIntegrationRunSteering(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 26})
	bin := smbsweepBinary(t)
	dir := t.TempDir()
	optout := filepath.Join(dir, "optout.conf")
	os.WriteFile(optout, []byte("# empty\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A /17 at 4000 pps: 8 s of sending to steer in.
	args := runArgs("-r", "4000", "--scan-only", "-b", optout, "--metrics-addr", "127.0.0.1:0", "--control",
		"-o", filepath.Join(dir, "out.json"), "198.18.0.0/17")
	cmd := l.Command(ctx, bin, args...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	var addr string
	var log strings.Builder
	re := regexp.MustCompile(`metrics on http://(\S+)/metrics`)
	for addr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("run ended before serving metrics:\n%s", log.String())
			}
			log.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
		case <-ctx.Done():
			t.Fatal("no metrics address")
		}
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: l.DialContext}}
	rate := func() float64 {
		t.Helper()
		resp, err := client.Get("http://" + addr + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st pipeline.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.RateLimit
	}
	post := func(path string) string {
		t.Helper()
		resp, err := client.Post("http://"+addr+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	approx := func(what string, got, want float64) {
		t.Helper()
		if got < want*0.999 || got > want*1.001 {
			t.Errorf("%s: rate %v, want %v", what, got, want)
		}
	}
	approx("start", rate(), 4000)
	post("/rate?pps=6000")
	approx("POST /rate", rate(), 6000)
	cmd.Process.Signal(syscall.SIGUSR1)
	waitRate := func(want float64) float64 {
		var r float64
		for range 50 {
			if r = rate(); r > want*0.999 && r < want*1.001 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return r
	}
	approx("SIGUSR1", waitRate(6600), 6600)
	cmd.Process.Signal(syscall.SIGUSR2)
	approx("SIGUSR2", waitRate(6000), 6000)
	if got := post("/reload"); !strings.Contains(got, "reloaded") {
		t.Errorf("POST /reload: %q", got)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	pw.Close()
	for line := range lines {
		log.WriteString(line + "\n")
	}
	if !strings.Contains(log.String(), "SIGHUP: reloading the -b opt-out files") {
		t.Errorf("SIGHUP not acknowledged:\n%s", log.String())
	}
}
