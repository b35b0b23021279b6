package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan/pipeline"
)

// TestIntegrationRunAdaptive runs --adaptive over the lab's /16 and
// impairs the scanner's link in the middle of the scan: 60 % of the frames
// in each direction are lost, so the hit rate falls to about a sixth of
// what it was. The rate must back off below -r within a few seconds, never
// exceed -r, and climb again once the loss is removed; the run still ends
// by itself with exit 0.
func TestIntegrationRunAdaptive(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 27})
	bin := smbsweepBinary(t)
	dir := t.TempDir()
	status := filepath.Join(dir, "status.jsonl")
	const rate = 10000
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The /16 at 10 kpps is 6.6 s of sending unimpaired; backing off makes
	// it longer, and --max-runtime bounds it.
	args := runArgs("-r", "10000", "--adaptive", "--scan-only", "--max-runtime", "30",
		"--status-file", status, "-o", filepath.Join(dir, "out.json"), l.Status().Ranges[0].String())
	cmd := l.Command(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// read returns the status lines written so far.
	read := func() []pipeline.Status {
		b, _ := os.ReadFile(status)
		var sts []pipeline.Status
		for _, line := range strings.Split(string(b), "\n") {
			var st pipeline.Status
			if json.Unmarshal([]byte(line), &st) == nil {
				sts = append(sts, st)
			}
		}
		return sts
	}
	// waitFor polls the status file until cond holds for its last line.
	waitFor := func(what string, limit time.Duration, cond func(*pipeline.Status) bool) *pipeline.Status {
		t.Helper()
		for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if sts := read(); len(sts) > 0 && cond(&sts[len(sts)-1]) {
				return &sts[len(sts)-1]
			}
			select {
			case err := <-exited:
				t.Fatalf("run ended (%v) while waiting for %s:\n%s", err, what, stderr.String())
			default:
			}
		}
		t.Fatalf("no %s within %v:\n%s", what, limit, stderr.String())
		return nil
	}

	// Two clean intervals give the controller its baseline hit rate.
	waitFor("2.5 s of clean sending", 10*time.Second, func(st *pipeline.Status) bool {
		return st.Elapsed >= 2500*time.Millisecond && st.Scan.Sent > 0
	})
	if err := l.SetLoss(ctx, 0.6); err != nil {
		t.Fatal(err)
	}
	impaired := time.Now()
	low := waitFor("back-off under loss", 5*time.Second, func(st *pipeline.Status) bool {
		return st.RateLimit < 0.75*rate
	})
	t.Logf("backed off to %.0f pps %v after the loss began", low.RateLimit, time.Since(impaired).Round(100*time.Millisecond))
	if err := l.SetLoss(ctx, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("run did not end:\n%s", stderr.String())
	}
	// Recovery is 5 % per clean interval: after the lowest rate, a later
	// interval must run faster.
	sts := read()
	lowest, at := float64(rate), 0
	for i, st := range sts {
		if st.RateLimit > rate {
			t.Errorf("rate %.0f pps at %v: above -r %d", st.RateLimit, st.Elapsed, rate)
		}
		if st.RateLimit < lowest {
			lowest, at = st.RateLimit, i
		}
	}
	recovered := 0.0
	for _, st := range sts[at:] {
		recovered = max(recovered, st.RateLimit)
	}
	if recovered <= lowest {
		t.Errorf("the rate never rose again after the loss ended: lowest %.0f pps", lowest)
	}
	t.Logf("recovered from %.0f to %.0f pps", lowest, recovered)
	if !strings.Contains(stderr.String(), "hit rate fell") {
		t.Errorf("no back-off reason in the log:\n%s", stderr.String())
	}
}
