package benchlab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/smbsweep/smbsweep/lab"
)

// Lab is one running lab. Its methods may be called concurrently; Down
// must be called once, also when the section fails.
type Lab struct {
	bin    string
	prefix string
	// Status is the lab as `smbsweep lab status --json` described it
	// after Up.
	Status lab.Status
}

// Up runs `BIN lab down --prefix PREFIX` (leftovers of an interrupted run),
// then `BIN lab up --prefix PREFIX ARGS...`, and reads the lab's status.
// On error the lab is already down.
func Up(ctx context.Context, bin, prefix string, args ...string) (*Lab, error) {
	l := &Lab{bin: bin, prefix: prefix}
	_ = l.Down()
	up := append([]string{"lab", "up", "--prefix", prefix}, args...)
	if out, err := exec.CommandContext(ctx, bin, up...).CombinedOutput(); err != nil {
		_ = l.Down()
		return nil, fmt.Errorf("benchlab: %s %s: %v: %s", bin, strings.Join(up, " "), err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "lab", "status", "--prefix", prefix, "--json").Output()
	if err == nil {
		err = json.Unmarshal(out, &l.Status)
	}
	if err != nil {
		_ = l.Down()
		return nil, fmt.Errorf("benchlab: lab status --prefix %s: %w", prefix, err)
	}
	return l, nil
}

// Down removes the lab: its namespaces, processes and state.
func (l *Lab) Down() error {
	out, err := exec.Command(l.bin, "lab", "down", "--prefix", l.prefix).CombinedOutput()
	if err != nil {
		return fmt.Errorf("benchlab: lab down --prefix %s: %v: %s", l.prefix, err, bytes.TrimSpace(out))
	}
	return nil
}

// Command returns a command that runs name with args inside the lab's
// scanner namespace. `ip netns exec` execs name in place, so the
// command's process is the tool itself (its PID is the one to sample).
//
// The command runs in the system's temporary directory, not the caller's:
// masscan writes its resume file paused.conf into the working directory
// when it is interrupted, and the harness runs from the repository root.
func (l *Lab) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Status.ScannerNamespace, name}, args...)...)
	cmd.Dir = os.TempDir()
	return cmd
}

// Exec runs argv inside the scanner namespace and returns its combined
// output, for setup steps (an address on a sink, a route).
func (l *Lab) Exec(ctx context.Context, argv ...string) error {
	if out, err := l.Command(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("benchlab: in %s: %s: %v: %s", l.Status.ScannerNamespace, strings.Join(argv, " "), err, out)
	}
	return nil
}

// Counter reads one statistics counter (tx_packets, rx_packets, …) of an
// interface of the scanner namespace from sysfs, as mounted for that
// namespace by `ip netns exec`.
func (l *Lab) Counter(ctx context.Context, ifname, counter string) (uint64, error) {
	out, err := l.Command(ctx, "cat", "/sys/class/net/"+ifname+"/statistics/"+counter).Output()
	if err != nil {
		return 0, fmt.Errorf("benchlab: counter %s %s: %w", ifname, counter, err)
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(out)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("benchlab: counter %s %s: %w", ifname, counter, err)
	}
	return n, nil
}

// GroundTruth reads what the lab was built to answer.
func (l *Lab) GroundTruth() (*lab.GroundTruth, error) {
	return lab.ReadGroundTruth(l.Status.GroundTruth)
}

// LastLine is the last line of a tool's output, for error messages: after
// the last newline or carriage return, so a status line redrawn with CR
// gives only its final state.
func LastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// EachLine calls fn with every line of a tool's output r, trimmed, skipping
// empty ones; a line longer than maxLine bytes is an error. fn's error is
// returned with the line number.
func EachLine(r io.Reader, maxLine int, fn func(line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(maxLine, 64<<10)), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}
