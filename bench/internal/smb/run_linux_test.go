package smb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// TestIntegrationRun runs the whole section (minutes, two labs) and keeps
// its Markdown in SMB_BENCH_OUT. It runs only when asked, as root:
//
//	SMB_BENCH_BIN=/tmp/smbsweep SMB_BENCH_ZGRAB2=/tmp/zgrab2 SMB_BENCH_OUT=/tmp/smb \
//	  [SMB_BENCH_QUICK=1] [SMB_BENCH_REPEATS=3] go test -run TestIntegrationRun -timeout 10m ./bench/internal/smb
func TestIntegrationRun(t *testing.T) {
	bin := os.Getenv("SMB_BENCH_BIN")
	if bin == "" || os.Geteuid() != 0 {
		t.Skip("needs root and SMB_BENCH_BIN (a CGO_ENABLED=0 smbsweep build)")
	}
	out := os.Getenv("SMB_BENCH_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	env := &benchkit.Env{Root: root, Bin: bin, Zgrab2: os.Getenv("SMB_BENCH_ZGRAB2"), Quick: os.Getenv("SMB_BENCH_QUICK") != "",
		Repeats: 3, Out: out, Logf: t.Logf}
	if n, err := strconv.Atoi(os.Getenv("SMB_BENCH_REPEATS")); err == nil {
		env.Repeats = n
	}
	sec, err := run(context.Background(), env, "h3-bsmb-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "section.md"), []byte(sec.Markdown), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(sec.Goals) < 5 {
		t.Errorf("%d goal rows, want ≥ 5", len(sec.Goals))
	}
	for _, g := range sec.Goals {
		t.Logf("goal %q: %s (met %v)", g.Goal, g.Measured, g.Met)
	}
}
