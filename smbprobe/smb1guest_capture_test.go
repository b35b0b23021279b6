package smbprobe

import (
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// smb1GuestFiles names the replies of the SMB1 guest follow-up's round
// trips, in order (6 to 8 only when RAP failed), as captured into testdata/resp/CONFIG/.
var smb1GuestFiles = []string{
	"smb1guest-1-negotiate.bin",
	"smb1guest-2-session-setup.bin",
	"smb1guest-3-session-auth.bin",
	"smb1guest-4-tree-connect.bin",
	"smb1guest-5-transaction.bin",
	"smb1guest-6-nt-create.bin",
	"smb1guest-7-bind-ack.bin",
	"smb1guest-8-share-enum.bin",
}

// TestCaptureSMB1Guest records the replies of the SMB1 guest follow-up
// (smb1GuestExchange) as testdata fixtures, and the Guest result as
// smb1guest-result.json. Like TestCapture it does nothing without
// -capture.dir and runs inside a throwaway namespace (testdata/README.md,
// CAPTURE_RUN=TestCaptureSMB1Guest capture.sh CONFIG...).
func TestCaptureSMB1Guest(t *testing.T) {
	if *captureDir == "" {
		t.Skip("no -capture.dir")
	}
	if err := os.MkdirAll(*captureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", *captureAddr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if *captureNBT {
		if _, err := c.Write(appendSessionRequest(nil, "*SMBSERVER", "SMBSWEEP")); err != nil {
			t.Fatal(err)
		}
		if _, err := readSessionResponse(c); err != nil {
			t.Fatal(err)
		}
	}
	host, _, err := net.SplitHostPort(*captureAddr)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	rt := func(msg []byte) ([]byte, error) {
		if _, err := c.Write(append(appendFrame(nil, len(msg)), msg...)); err != nil {
			return nil, err
		}
		resp, err := readFrame(c, make([]byte, 1<<16))
		if err != nil {
			return nil, err
		}
		if i < len(smb1GuestFiles) {
			if err := os.WriteFile(filepath.Join(*captureDir, smb1GuestFiles[i]), resp, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		i++
		return resp, nil
	}
	g := &Guest{}
	smb1GuestExchange(rt, host, rand.Reader, time.Now(), g)
	out, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*captureDir, "smb1guest-result.json"), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d replies captured into %s; result %s", i, *captureDir, out)
}
