package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunUsageErrors checks the refusals that come before any socket is
// opened: each exits 2 with a message naming the problem.
func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	nonEmpty := filepath.Join(dir, "out.json")
	if err := os.WriteFile(nonEmpty, []byte("{\"ip\":\"198.18.0.1\",\"port\":445}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SMBSWEEP_TEST_SHARD", "x")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"--yes"}, "no TARGET given"},
		{"reserved", []string{"--yes", "198.18.0.0/16"}, "--allow-reserved"},
		{"resume without checkpoint", []string{"--yes", "--resume", "-o", nonEmpty, "192.0.2.0/24"}, "--resume needs --checkpoint"},
		{"resume to stdout", []string{"--yes", "--resume", "--checkpoint", filepath.Join(dir, "c"), "192.0.2.0/24"}, "--resume needs -o FILE"},
		{"dry run", []string{"--yes", "--dry-run", "1.2.3.0/24"}, "'scan' flags"},
		{"all", []string{"--yes", "--all", "1.2.3.0/24"}, "'scan' flags"},
		{"bad shard env", []string{"--yes", "--shards", "2", "--seed", "1", "--shard-from-env", "SMBSWEEP_TEST_SHARD", "1.2.3.0/24"}, `"x" is not a shard index`},
		{"shards without seed", []string{"--yes", "--shards", "2", "1.2.3.0/24"}, "needs --seed"},
		{"output exists", []string{"--yes", "-o", nonEmpty, "1.2.3.0/24"}, "exists and is not empty"},
		{"format", []string{"--yes", "-O", "xml", "1.2.3.0/24"}, "unknown output format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runRun(tt.args, &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("run %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runRun([]string{"-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("run -h: exit %d: %s", code, stderr.String())
	}
	for _, flag := range []string{"-scan-only", "-checkpoint", "-resume", "-metrics-addr", "-shard-from-env", "-adaptive", "-contact", "-status-file", "-metadata", "-sender-threads", "-rate"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("run -h does not list %s", flag)
		}
	}
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte("{\"ip\":\"198.18.0.1\",\"port\":445}\n{\"ip\":\"198.18.0.2\",\"port\":445}\n"), 0o644)
	os.WriteFile(b, []byte("{\"ip\":\"198.18.0.2\",\"port\":445}\n{\"ip\":\"198.18.0.3\",\"port\":445}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := runMerge([]string{a, b}, &stdout, &stderr); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, stderr.String())
	}
	want := "{\"ip\":\"198.18.0.1\",\"port\":445}\n{\"ip\":\"198.18.0.2\",\"port\":445}\n{\"ip\":\"198.18.0.3\",\"port\":445}\n"
	if stdout.String() != want || !strings.Contains(stderr.String(), "3 hosts from 2 files, 1 duplicates dropped") {
		t.Errorf("merge: stdout %q stderr %q", stdout.String(), stderr.String())
	}
	if code := runMerge(nil, &stdout, &stderr); code != exitUsage {
		t.Errorf("merge without files: exit %d, want %d", code, exitUsage)
	}
}
