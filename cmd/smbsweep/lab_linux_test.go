package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIntegrationLabCLI runs 'lab up', 'lab status --json' and 'lab down'
// (twice: down is idempotent) as a user would, with a state directory of
// its own.
func TestIntegrationLabCLI(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	prefix := fmt.Sprintf("cli%d-", os.Getpid())
	state := t.TempDir()
	common := []string{"--prefix", prefix, "--state-dir", state}
	run := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := runLab(append(args, common...), &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}
	t.Cleanup(func() { run("down") })

	out, code := run("up", "--size", "/20", "--open", "2%", "--hostile", "--loss", "1%")
	if code != exitOK {
		t.Fatalf("lab up: exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "ip netns exec "+prefix+"scan") {
		t.Errorf("lab up does not say how to use the lab:\n%s", out)
	}
	out, code = run("status", "--json")
	if code != exitOK {
		t.Fatalf("lab status: exit %d:\n%s", code, out)
	}
	var st struct {
		ScannerNamespace string   `json:"scanner_namespace"`
		Ranges           []string `json:"ranges"`
		GroundTruth      string   `json:"ground_truth"`
		Processes        []struct {
			Name string `json:"name"`
		} `json:"processes"`
		Impairment string `json:"impairment"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status JSON: %v:\n%s", err, out)
	}
	if st.ScannerNamespace != prefix+"scan" || len(st.Ranges) != 1 || st.Ranges[0] != "198.18.0.0/20" ||
		filepath.Dir(st.GroundTruth) != filepath.Join(state, prefix) || len(st.Processes) != 2 || !strings.Contains(st.Impairment, "loss 1%") {
		t.Errorf("unexpected status: %+v", st)
	}
	for range 2 {
		if out, code := run("down"); code != exitOK {
			t.Fatalf("lab down: exit %d:\n%s", code, out)
		}
	}
	if _, err := os.Stat("/run/netns/" + prefix + "scan"); err == nil {
		t.Errorf("namespace %sscan left after down", prefix)
	}
	if out, code := run("status"); code != exitFailure {
		t.Errorf("lab status after down: exit %d, want %d:\n%s", code, exitFailure, out)
	}
}
