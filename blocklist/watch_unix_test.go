//go:build unix

package blocklist

import (
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWatcherSIGHUP(t *testing.T) {
	// Catch SIGHUP in the test too, so a signal sent before Run has
	// installed its handler cannot kill the test binary.
	guard := make(chan os.Signal, 16)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	path := filepath.Join(t.TempDir(), "optout.conf")
	writeFile(t, path, "192.0.2.1\n")
	// An hour-long interval: only the signal can cause the reload.
	w, err := NewWatcher(&WatcherConfig{Files: []string{path}, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	runWatcher(t, w)
	writeFile(t, path, "192.0.2.2\n")
	a := netip.MustParseAddr("192.0.2.2")
	waitFor(t, "SIGHUP to reload", func() bool {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return w.Contains(a)
	})
	if w.Contains(netip.MustParseAddr("192.0.2.1")) {
		t.Fatal("old entry still present after SIGHUP reload")
	}
}
