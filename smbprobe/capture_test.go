package smbprobe

import (
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCapture records a server's raw replies as testdata fixtures. It does
// nothing unless -capture.dir is given, and is meant to be run from a test
// binary inside a throwaway network namespace (see testdata/README.md):
//
//	go test -c -o /tmp/smbprobe.test ./smbprobe
//	ip netns exec NS /tmp/smbprobe.test -test.run TestCapture \
//	    -capture.dir smbprobe/testdata/resp/CONFIG -capture.addr 127.0.0.1:445
var (
	captureDir  = flag.String("capture.dir", "", "directory to write captured replies to (enables TestCapture)")
	captureAddr = flag.String("capture.addr", "127.0.0.1:445", "server to capture from (inside the test's network namespace)")
	captureNBT  = flag.Bool("capture.netbios", false, "send a NetBIOS session request first (port 139)")
)

func TestCapture(t *testing.T) {
	if *captureDir == "" {
		t.Skip("no -capture.dir")
	}
	if err := os.MkdirAll(*captureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var notes []string
	save := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(*captureDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", *captureAddr, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if *captureNBT {
			if _, err := c.Write(appendSessionRequest(nil, "*SMBSERVER", "SMBSWEEP")); err != nil {
				t.Fatal(err)
			}
			var h [4]byte
			if _, err := io.ReadFull(c, h[:]); err != nil {
				t.Fatal(err)
			}
			save("nbss-session-response.bin", h[:])
		}
		return c
	}
	roundTrip := func(c net.Conn, msg []byte) ([]byte, error) {
		if _, err := c.Write(append(appendFrame(nil, len(msg)), msg...)); err != nil {
			return nil, err
		}
		return readFrame(c, make([]byte, 1<<16))
	}

	// Connection A: SMB2 NEGOTIATE, then SESSION_SETUP with NTLM NEGOTIATE.
	var req negotiateRequest
	rand.Read(req.ClientGUID[:])
	rand.Read(req.Salt[:])
	req.NoSMB311 = *captureNBT
	c := dial()
	if resp, err := roundTrip(c, appendNegotiateRequest(nil, &req)); err != nil {
		notes = append(notes, fmt.Sprintf("smb2-negotiate: %v", err))
	} else {
		save("smb2-negotiate.bin", resp)
		if _, err := parseNegotiateResponse(resp); err != nil {
			notes = append(notes, fmt.Sprintf("smb2-negotiate: %v", err))
		} else if resp, err := roundTrip(c, appendSessionSetupRequest(nil, appendNegTokenInit(nil, appendNTLMNegotiate(nil)))); err != nil {
			notes = append(notes, fmt.Sprintf("smb2-session-setup: %v", err))
		} else {
			save("smb2-session-setup.bin", resp)
		}
	}
	c.Close()

	// Connection B: SMB1 NEGOTIATE (NT LM 0.12 only), then SESSION_SETUP_ANDX.
	c = dial()
	if resp, err := roundTrip(c, appendSMB1Negotiate(nil)); err != nil {
		notes = append(notes, fmt.Sprintf("smb1-negotiate: %v", err))
	} else {
		save("smb1-negotiate.bin", resp)
		if n, err := parseSMB1Negotiate(resp); err != nil || n.DialectIndex != 0 {
			notes = append(notes, fmt.Sprintf("smb1-negotiate: index 0x%04x err %v", n.DialectIndex, err))
		} else if resp, err := roundTrip(c, appendSMB1SessionSetup(nil, appendNegTokenInit(nil, appendNTLMNegotiate(nil)))); err != nil {
			notes = append(notes, fmt.Sprintf("smb1-session-setup: %v", err))
		} else {
			save("smb1-session-setup.bin", resp)
		}
	}
	c.Close()
	out := ""
	for _, n := range notes {
		out += n + "\n"
	}
	save("outcome.txt", []byte(out))
	t.Logf("captured into %s; notes:\n%s", *captureDir, out)
}
