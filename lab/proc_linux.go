package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A pid file (STATEDIR/PREFIX/pids/NAME) holds "PID STARTTIME": the start
// time (proc(5), /proc/PID/stat field 22) guards Down against killing a
// recycled PID.

// startDetached starts argv inside namespace ns (through ip netns exec) in a
// session of its own, with stdout and stderr appended to logPath, records
// its pid file in dir and returns the command. The caller reaps it with
// Wait, or leaves it running when the lab outlives the process.
func startDetached(dir, name, ns string, argv, env []string, logPath string, extra []*os.File) (*exec.Cmd, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = extra
	cmd.Dir = "/"
	// Setsid: smbd signals its whole process group on SIGTERM
	// (smb-protocol notes §4, pitfall 2), and the lab must survive the CLI.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	if err := writePID(dir, name, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return cmd, nil
}

func writePID(dir, name string, pid int) error {
	st, err := startTime(pid)
	if err != nil {
		return err
	}
	p := filepath.Join(dir, "pids", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, fmt.Appendf(nil, "%d %d\n", pid, st), 0o644)
}

// readPIDs returns the live processes recorded in dir whose start time
// still matches.
func readPIDs(dir string) []Process {
	ents, _ := os.ReadDir(filepath.Join(dir, "pids"))
	var ps []Process
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, "pids", e.Name()))
		if err != nil {
			continue
		}
		var pid int
		var st uint64
		if _, err := fmt.Sscan(string(b), &pid, &st); err != nil || pid <= 1 {
			continue
		}
		if got, err := startTime(pid); err == nil && got == st {
			ps = append(ps, Process{Name: e.Name(), PID: pid})
		}
	}
	return ps
}

// startTime is field 22 of /proc/PID/stat (proc(5)), in clock ticks since
// boot.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("lab: malformed /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, errors.New("lab: short /proc/PID/stat")
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// killAll sends SIGKILL to each pid and its process group, then waits up to
// timeout for all of them to be gone (zombies count as gone).
func killAll(pids []int, timeout time.Duration) error {
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(timeout)
	for {
		var alive []int
		for _, pid := range pids {
			if running(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: processes %v survived SIGKILL", alive)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "State:"); ok {
			return !strings.Contains(v, "Z")
		}
	}
	return false
}
