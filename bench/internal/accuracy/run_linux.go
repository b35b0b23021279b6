package accuracy

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
)

// labPrefix names the section's labs.
const labPrefix = "bench-accuracy-"

// runTimeout bounds one tool's run: a scan of the /16 takes 1–5 s (one
// second of it cooldown) on a loaded machine; a run over this is failed
// (masscan --retries 1 at unlimited rate sometimes is).
const runTimeout = 15 * time.Second

// Run measures the section. It needs root; the labs are removed on
// return.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	p := paramsFor(env)
	var notes []string
	empty := filepath.Join(env.Out, "empty.conf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return nil, fmt.Errorf("accuracy: %w", err)
	}
	have := map[string]bool{}
	for _, t := range []string{"zmap", "masscan"} {
		if _, err := exec.LookPath(t); err != nil {
			notes = append(notes, fmt.Sprintf("**%s missing** (not on PATH): its rows are absent.", t))
			continue
		}
		have[t] = true
	}
	var (
		rows []row
		open int
	)
	for _, cond := range []string{clean, lossy} {
		args := []string{"--range", "198.18.0.0/16", "--open", "1%", "--closed", "1%", "--seed", "1"}
		if cond == lossy {
			args = append(args, "--loss", "5%")
		}
		rs, n, err := runCondition(ctx, env, p, cond, args, empty, have)
		if err != nil {
			return nil, err
		}
		rows, open = append(rows, rs...), n
	}
	return render(p, rows, open, notes, strings.NewReplacer(env.Bin, "smbsweep", empty, "EMPTY")), nil
}

// runCondition brings up one lab and runs every scanner in it, round-robin
// over the repeats.
func runCondition(ctx context.Context, env *benchkit.Env, p params, cond string, args []string, empty string, have map[string]bool) ([]row, int, error) {
	l, err := benchlab.Up(ctx, env.Bin, labPrefix, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("accuracy: %w", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			env.Logf("accuracy: %v", err)
		}
	}()
	gt, err := l.GroundTruth()
	if err != nil {
		return nil, 0, fmt.Errorf("accuracy: %w", err)
	}
	open := gt.Open[445]
	st := l.Status
	lk := link{ifname: st.Interface, srcIP: st.SourceIP.String(), srcMAC: st.SourceMAC, gwMAC: st.GatewayMAC, target: gt.Range.String()}
	ss := scanners(p, cond, lk, env.Bin, empty, have["zmap"], have["masscan"])
	rows := make([]row, len(ss))
	for i, s := range ss {
		rows[i].scanner = s
	}
	for rep := range p.repeats {
		for i := range rows {
			if err := ctx.Err(); err != nil {
				return nil, 0, fmt.Errorf("accuracy: %w", err)
			}
			o := runOne(ctx, l, &rows[i].scanner, env.Out, open)
			if o.err != nil {
				env.Logf("accuracy: %s %s %s: %v", cond, rows[i].tool, rateName(rows[i].rate), o.err)
			}
			rows[i].runs = append(rows[i].runs, o)
		}
		env.Logf("accuracy: %s: repeat %d/%d done", cond, rep+1, p.repeats)
	}
	return rows, len(open), nil
}

// runOne runs one scanner to completion and scores its output.
func runOne(ctx context.Context, l *benchlab.Lab, s *scanner, dir string, open []netip.Addr) outcome {
	out := filepath.Join(dir, "out.txt")
	_ = os.Remove(out)
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	argv := s.argv(out)
	cmd := l.Command(ctx, argv[0], argv[1:]...)
	w := &watcher{marker: s.done, seen: make(chan struct{})}
	cmd.Stderr = w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return outcome{err: err}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var (
		err     error
		stopped bool
	)
	wall := time.Duration(0)
	select {
	case err = <-exited:
		wall = time.Since(start)
	case <-w.seen:
		wall, stopped = time.Since(start), true
		err = finish(ctx, l, cmd, exited)
	}
	if err != nil {
		return outcome{err: fmt.Errorf("%s: %v: %s", argv[0], err, benchlab.LastLine(w.String()))}
	}
	f, err := os.Open(out)
	if err != nil {
		return outcome{err: err}
	}
	defer f.Close()
	got, err := s.parse(f)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{score: scoreOf(got, open), wall: wall, stopped: stopped}
}

// finish ends a tool that printed its done marker, gently enough that it
// writes its whole output: masscan's receive thread waits in pcap for one
// more frame before it sees that the scan is over, so after a grace
// period one TCP connection attempt from the scanner namespace to the
// lab's gateway (answered by an RST on the scanner's interface) wakes it;
// then SIGINT; then SIGKILL, and the run counts as failed because the
// output may be cut short.
func finish(ctx context.Context, l *benchlab.Lab, cmd *exec.Cmd, exited <-chan error) error {
	wait := func() (error, bool) {
		select {
		case err := <-exited:
			return err, true
		case <-time.After(exitGrace):
			return nil, false
		}
	}
	if err, ok := wait(); ok {
		return err
	}
	gw := l.Status.GatewayIP.String()
	_ = l.Command(ctx, "timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/"+gw+"/9").Run()
	if err, ok := wait(); ok {
		return err
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if _, ok := wait(); ok {
		return fmt.Errorf("did not exit after its wait until SIGINT; output may be cut short")
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("did not exit after its wait, nor on SIGINT; killed")
}

// watcher keeps the start of a tool's stderr and closes seen the first
// time marker appears in it. Written by one goroutine (exec's copier).
type watcher struct {
	marker string
	seen   chan struct{}
	buf    bytes.Buffer // the first maxKeep bytes
	last   []byte       // the end of the previous write, for a marker split across writes
	closed bool
}

// maxKeep bounds the stderr a watcher keeps.
const maxKeep = 64 << 10

func (w *watcher) Write(p []byte) (int, error) {
	if room := maxKeep - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	if w.marker == "" || w.closed {
		return len(p), nil
	}
	joined := append(w.last, p...)
	if bytes.Contains(joined, []byte(w.marker)) {
		w.closed = true
		close(w.seen)
	}
	w.last = append(w.last[:0], joined[max(0, len(joined)-len(w.marker)):]...)
	return len(p), nil
}

func (w *watcher) String() string { return w.buf.String() }
