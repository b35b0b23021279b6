package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const reportSample = "../../smbprobe/report/testdata/sample.jsonl"

func TestReportCommand(t *testing.T) {
	sample, err := os.ReadFile(reportSample)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string // {{dir}} is replaced by a temporary directory
		stdin      string
		wantCode   int
		wantStdout []string
		wantStderr []string
		wantHTML   string // file under {{dir}} that must hold a page
	}{
		{
			name:       "file, flags first",
			args:       []string{"-o", "{{dir}}/r.html", "-top", "3", reportSample},
			wantStdout: []string{"smbsweep report: sample.jsonl", "records                19 (malformed lines skipped: 3; line 20, 21, 22)", "198.18.0.0/16"},
			wantStderr: []string{"malformed lines skipped: 3 (first: line 20)", "wrote {{dir}}/r.html"},
			wantHTML:   "r.html",
		},
		{
			name:       "flags after the file (the issue's spelling)",
			args:       []string{reportSample, "-o", "{{dir}}/after.html", "--top", "2"},
			wantStdout: []string{"SMB hosts              15"},
			wantHTML:   "after.html",
		},
		{
			name:       "stdin",
			args:       []string{"-o", "{{dir}}/stdin.html", "-"},
			stdin:      string(sample),
			wantStdout: []string{"smbsweep report: stdin", "records                19"},
			wantHTML:   "stdin.html",
		},
		{
			name:       "no page",
			args:       []string{"-o", "", reportSample},
			wantStdout: []string{"records                19"},
		},
		{
			name:       "no file",
			args:       []string{"-o", "{{dir}}/x.html"},
			wantCode:   exitUsage,
			wantStderr: []string{"want one results file (or -), got 0", "Usage: smbsweep report"},
		},
		{
			name:       "two files",
			args:       []string{reportSample, reportSample},
			wantCode:   exitUsage,
			wantStderr: []string{"got 2"},
		},
		{
			name:       "bad top",
			args:       []string{"-top", "0", reportSample},
			wantCode:   exitUsage,
			wantStderr: []string{"must be positive"},
		},
		{
			name:       "missing file",
			args:       []string{"-o", "{{dir}}/x.html", "{{dir}}/nonexistent.jsonl"},
			wantCode:   exitFailure,
			wantStderr: []string{"no such file"},
		},
		{
			name:       "unwritable page",
			args:       []string{"-o", "{{dir}}/no/such/dir/r.html", reportSample},
			wantCode:   exitFailure,
			wantStderr: []string{"no such file or directory"},
		},
		{
			name:     "help",
			args:     []string{"-h"},
			wantCode: exitOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fill := func(s string) string { return strings.ReplaceAll(s, "{{dir}}", dir) }
			var args []string
			for _, a := range tt.args {
				args = append(args, fill(a))
			}
			var stdout, stderr bytes.Buffer
			code := reportMain(args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), fill(w)) {
					t.Errorf("stdout lacks %q:\n%s", fill(w), stdout.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), fill(w)) {
					t.Errorf("stderr lacks %q:\n%s", fill(w), stderr.String())
				}
			}
			if tt.wantHTML != "" {
				page, err := os.ReadFile(filepath.Join(dir, tt.wantHTML))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("</html>")) {
					t.Errorf("%s is not a whole page", tt.wantHTML)
				}
			}
			// No temporary files are left behind.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
}
