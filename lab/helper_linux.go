package lab

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"
)

// helperEnv names the environment variable that turns a program importing
// lab into the lab's helper: the lab re-executes its own binary
// (os.Executable) inside a lab namespace with this variable set to a JSON
// helperSpec. This is the reexec pattern (moby/moby pkg/reexec); it works
// for the smbsweep binary and for every test binary that imports lab.
const helperEnv = "SMBSWEEP_LAB_HELPER"

func init() {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	os.Exit(runHelper(spec))
}

// runHelper serves spec until killed. It reports readiness by writing a line
// to file descriptor 3 and closing it.
func runHelper(spec string) int {
	var s helperSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintf(os.Stderr, "lab helper: %v\n", err)
		return 2
	}
	ready := func() {
		if f := os.NewFile(3, "ready"); f != nil {
			_, _ = io.WriteString(f, "ready\n")
			_ = f.Close()
		}
	}
	if s.Wire != nil {
		if err := runWire(*s.Wire, ready); err != nil {
			fmt.Fprintf(os.Stderr, "lab helper: %v\n", err)
			return 1
		}
		return 0
	}
	var wg sync.WaitGroup
	var lns []net.Listener
	for _, p := range s.Listen {
		ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p))
		if err != nil {
			fmt.Fprintf(os.Stderr, "lab helper: %v\n", err)
			return 1
		}
		lns = append(lns, ln)
		wg.Go(func() { serve(ln, func(c net.Conn) { c.Close() }) })
	}
	for _, h := range s.Hostile {
		ln, err := net.Listen("tcp4", h.Addr.String())
		if err != nil {
			fmt.Fprintf(os.Stderr, "lab helper: %v\n", err)
			return 1
		}
		lns = append(lns, ln)
		fn := hostileHandler(h.Kind)
		wg.Go(func() { serve(ln, fn) })
	}
	ready()
	fmt.Fprintf(os.Stderr, "lab helper: serving %d listeners\n", len(lns))
	wg.Wait()
	return 0
}

// serve accepts until the listener fails, handling each conn on its own
// goroutine.
func serve(ln net.Listener, fn func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintf(os.Stderr, "lab helper: accept: %v\n", err)
			return
		}
		go fn(c)
	}
}

// negotiateReply is the start of an SMB2 NEGOTIATE response (MS-SMB2
// §2.2.4) behind a Direct TCP header (MS-SMB2 §2.1) that declares 0x80
// bytes: enough to look like SMB to a prober that reads the first bytes.
var negotiateReply = []byte{
	0x00, 0x00, 0x00, 0x80, // NBSS: zero, 24-bit length
	0xfe, 'S', 'M', 'B', 64, 0, 0, 0, // ProtocolId, StructureSize 64, CreditCharge
	0, 0, 0, 0, 0, 0, 1, 0, // Status, Command NEGOTIATE, CreditResponse 1
	1, 0, 0, 0, 0, 0, 0, 0, // Flags SERVER_TO_REDIR, NextCommand
}

func hostileHandler(kind string) func(net.Conn) {
	switch kind {
	case hostileSlow:
		return func(c net.Conn) {
			defer c.Close()
			for _, b := range negotiateReply {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
			_, _ = io.Copy(io.Discard, c)
		}
	case hostileHuge:
		return func(c net.Conn) {
			defer c.Close()
			// The first byte of the Direct TCP header must be zero (MS-SMB2
			// §2.1); read as a 32-bit length, ff ff ff ff is 4 GiB - 1.
			hdr := []byte{0xff, 0xff, 0xff, 0xff, 0xfe, 'S', 'M', 'B'}
			_, _ = c.Write(append(hdr, make([]byte, 1024)...))
			_, _ = io.Copy(io.Discard, c)
		}
	case hostileGarbage:
		return func(c net.Conn) {
			defer c.Close()
			b := make([]byte, 4096)
			_, _ = rand.Read(b)
			_, _ = c.Write(b)
			// Half-close and drain, so a request left unread does not turn
			// the close into an RST (RFC 2525 §2.17).
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(io.Discard, c)
		}
	case hostileReset:
		return func(c net.Conn) {
			buf := make([]byte, 1024)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Read(buf)
			_, _ = c.Write(negotiateReply[:len(negotiateReply)/2])
			time.Sleep(50 * time.Millisecond)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // Close sends RST (socket(7) SO_LINGER)
			}
			_ = c.Close()
		}
	default: // silent, synproxy
		return func(c net.Conn) {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}
}

// startHelper starts the helper with spec in namespace ns, records it as
// name and waits until it reports ready.
func (l *Lab) startHelper(name, ns string, spec helperSpec) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd, err := startDetached(l.dir, name, ns, []string{exe}, []string{helperEnv + "=" + string(js)},
		l.logPath(name), []*os.File{pw})
	pw.Close()
	if err != nil {
		return err
	}
	l.track(cmd)
	_ = pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 16)
	n, err := pr.Read(b)
	if err != nil || string(b[:n]) != "ready\n" {
		log, _ := os.ReadFile(l.logPath(name))
		return fmt.Errorf("lab: helper %s did not start: %v: %s", name, err, log)
	}
	return nil
}

func (l *Lab) logPath(name string) string { return l.dir + "/log/" + name + ".log" }

// track remembers a started process so Close can reap it.
func (l *Lab) track(cmd *exec.Cmd) {
	l.mu.Lock()
	l.cmds = append(l.cmds, cmd)
	l.mu.Unlock()
	go func() { _ = cmd.Wait() }()
}
