package endtoend

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// TestIntegrationRunQuick runs the section in quick mode: a lab, one run
// of each tool, the section's Markdown. It takes about half a minute, so
// it runs only as root and when SMBSWEEP_BENCH_E2E=1 (the bench harness
// runs the section itself); SMBSWEEP_BENCH_E2E=full runs the full
// section (5 repeats, about 2.5 minutes) and SMBSWEEP_ZGRAB2 names the
// peer's binary.
func TestIntegrationRunQuick(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (lab namespaces, raw sockets)")
	}
	mode := os.Getenv("SMBSWEEP_BENCH_E2E")
	if mode != "1" && mode != "full" {
		t.Skip("set SMBSWEEP_BENCH_E2E=1 to run the end-to-end section (about 30 s)")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "smbsweep")
	build := exec.Command("go", "build", "-o", bin, "./cmd/smbsweep")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	env := &benchkit.Env{
		Root: root, Bin: bin, Zgrab2: os.Getenv("SMBSWEEP_ZGRAB2"), Quick: mode != "full", Repeats: 1,
		Out: t.TempDir(), Logf: t.Logf,
	}
	if mode == "full" {
		env.Repeats = 5
	}
	sec, err := Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%+v", sec.Markdown, sec.Goals)
	if !strings.Contains(sec.Markdown, "| defaults | smbsweep run | **") {
		t.Errorf("no smbsweep row in:\n%s", sec.Markdown)
	}
	if len(sec.Goals) != 2 {
		t.Errorf("%d goals, want 2", len(sec.Goals))
	}
}
