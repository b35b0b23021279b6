package micro

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// baselinePath is the previous full run's raw go test output, committed.
const baselinePath = "bench/results/micro-baseline.txt"

// Run runs the benchmarks, compares them with the baseline and, in a
// full run, makes this run the new baseline. It needs no root.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	p := paramsFor(env)
	args := goTestArgs(p)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = env.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	raw := filepath.Join(env.Out, "gotest.txt")
	if werr := os.WriteFile(raw, stdout.Bytes(), 0o644); werr != nil {
		return nil, fmt.Errorf("micro: %w", werr)
	}
	if err != nil {
		return nil, fmt.Errorf("micro: go %s: %v: %s%s", strings.Join(args, " "), err, tailOf(stdout.String()), tailOf(stderr.String()))
	}
	rs, err := parse(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("micro: go test printed no benchmark results")
	}
	baseline := filepath.Join(env.Root, baselinePath)
	var bs, note string
	if _, err := os.Stat(baseline); err == nil {
		c := exec.CommandContext(ctx, "go", "tool", "benchstat", "baseline="+baseline, "this-run="+raw)
		c.Dir = env.Root
		out, err := c.CombinedOutput()
		if err != nil {
			note = fmt.Sprintf("benchstat failed: %v", err)
		} else {
			bs = string(out)
			note = fmt.Sprintf("Against the previous full run (`%s`), by `go tool benchstat baseline=%s this-run=<this run>` (golang.org/x/perf's benchstat; `~` marks differences that are not significant):", baselinePath, baselinePath)
		}
	} else {
		note = fmt.Sprintf("No baseline yet (`%s`): this run is the first; the next full run compares with it.", baselinePath)
	}
	if !env.Quick {
		if err := os.WriteFile(baseline, stdout.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("micro: update baseline: %w", err)
		}
		note += fmt.Sprintf(" This full run is now the baseline (`%s` updated).", baselinePath)
	}
	return render(p, rs, strings.Join(args, " "), bs, note), nil
}

// tailOf is the last few lines of s.
func tailOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-8):], "\n")
}
