package lab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// runner runs the lab's external commands (ip, nft, sysctl) and logs them.
type runner struct {
	logf func(string, ...any)
}

// run runs name with args and returns its error with stderr attached.
func (r runner) run(ctx context.Context, stdin string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	r.logf("lab: %s %s", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: %s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// output runs name with args and returns its stdout.
func (r runner) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lab: %s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// ipBatch runs ip commands, one per line, inside namespace ns ("" for the
// root namespace, which the lab uses only for "netns add" and "netns del").
func (r runner) ipBatch(ctx context.Context, ns string, lines []string) error {
	return r.ipBatchArgs(ctx, ns, lines)
}

// ipBatchForce is ipBatch that goes on after a failed line (ip -force).
func (r runner) ipBatchForce(ctx context.Context, ns string, lines []string) error {
	return r.ipBatchArgs(ctx, ns, lines, "-force")
}

func (r runner) ipBatchArgs(ctx context.Context, ns string, lines []string, extra ...string) error {
	if len(lines) == 0 {
		return nil
	}
	args := append(extra, "-batch", "-")
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	return r.run(ctx, strings.Join(lines, "\n")+"\n", "ip", args...)
}
