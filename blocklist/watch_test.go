package blocklist

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("timed out after 5s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// runWatcher starts w.Run and stops it when the test ends, checking that
// Run returns ctx.Err().
func runWatcher(t *testing.T, w *Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// writeFileAtomic replaces path by renaming a complete temporary file
// over it, as editors and the documented opt-out workflow do.
func writeFileAtomic(t testing.TB, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, text)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// syncLog collects Logf lines from the watcher goroutine.
type syncLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func TestWatcherFollowsFileChanges(t *testing.T) {
	a1 := netip.MustParseAddr("192.0.2.1")
	a2 := netip.MustParseAddr("192.0.2.2")
	tests := []struct {
		name string
		// change edits the file at path, which lists a1 only; afterwards
		// a1 must be absent and a2 present (or, with wantA1, a1 kept).
		change func(t *testing.T, path string)
		wantA1 bool
	}{
		{"rewrite in place, same size", func(t *testing.T, p string) {
			writeFile(t, p, "192.0.2.2\n")
		}, false},
		{"append", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("192.0.2.2 # new opt-out\n"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"replace by rename, as editors do", func(t *testing.T, p string) {
			tmp := p + ".tmp"
			writeFile(t, tmp, "192.0.2.2\n")
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"delete and recreate", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, "192.0.2.2\n")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "optout.conf")
			writeFile(t, path, "192.0.2.1\n")
			var log syncLog
			var reloads sync.Map
			w, err := NewWatcher(&WatcherConfig{
				Files:    []string{path},
				Logf:     log.logf,
				OnReload: func(s *Set) { reloads.Store(s, true) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if !w.Contains(a1) || w.Contains(a2) || w.Generation() != 0 {
				t.Fatalf("initial set %v, generation %d", w.Current(), w.Generation())
			}
			runWatcher(t, w)

			tt.change(t, path)
			took := waitFor(t, "the change to take effect", func() bool { return w.Contains(a2) })
			t.Logf("took effect after %v (default interval %v)", took, DefaultInterval)
			if got := w.Contains(a1); got != tt.wantA1 {
				t.Fatalf("Contains(%v) = %v after the change, want %v", a1, got, tt.wantA1)
			}
			// Usually 1; an in-place write caught mid-way by two polls
			// (a writer stalled for a whole Interval) can add one more.
			if w.Generation() < 1 {
				t.Fatalf("Generation() = %d, want >= 1\nlog:\n%s", w.Generation(), &log)
			}
			if _, ok := reloads.Load(w.Current()); !ok {
				t.Fatalf("OnReload was not called with the published set")
			}
			if !strings.Contains(log.String(), "reloaded 1 file(s)") {
				t.Fatalf("log does not report the reload:\n%s", &log)
			}
		})
	}
}

func TestWatcherBadReloadKeepsOldSet(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.conf")
	other := filepath.Join(dir, "b.conf")
	writeFile(t, good, "192.0.2.1\n")
	writeFile(t, other, "198.51.100.0/24\n")
	var log syncLog
	w, err := NewWatcher(&WatcherConfig{Files: []string{good, other}, Interval: 10 * time.Millisecond, Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	old := w.Current()
	if old.Count() != 257 {
		t.Fatalf("initial union has %d addresses, want 257", old.Count())
	}
	runWatcher(t, w)

	// A bad line: the old set stays, the error names file and line. The
	// write is atomic: at a 10 ms interval an in-place write could be seen
	// half done (empty), which parses and would be published.
	writeFileAtomic(t, other, "198.51.100.0/24\n1.2.3.4/33\n")
	waitFor(t, "the failure to be logged", func() bool { return strings.Contains(log.String(), "reload failed") })
	if w.Current() != old || w.Generation() != 0 {
		t.Fatalf("a failed reload replaced the set (generation %d)", w.Generation())
	}
	wantErr := other + `:2: invalid prefix "1.2.3.4/33"`
	if !strings.Contains(log.String(), wantErr) {
		t.Fatalf("log does not contain %q:\n%s", wantErr, &log)
	}
	if err := w.Reload(); err == nil || err.Error() != wantErr {
		t.Fatalf("Reload() = %v, want %q", err, wantErr)
	}

	// A missing file: same.
	if err := os.Remove(good); err != nil {
		t.Fatal(err)
	}
	if err := w.Reload(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Reload() with a missing file = %v, want os.ErrNotExist", err)
	}
	if w.Current() != old {
		t.Fatal("a failed reload replaced the set")
	}

	// Fixing both files publishes the new union.
	writeFile(t, good, "192.0.2.9\n")
	writeFile(t, other, "203.0.113.7\n")
	waitFor(t, "the fixed files to load", func() bool { return w.Contains(netip.MustParseAddr("203.0.113.7")) })
	if w.Contains(netip.MustParseAddr("198.51.100.1")) {
		t.Fatal("removed entry still present")
	}
	waitFor(t, "the second file to load", func() bool { return w.Contains(netip.MustParseAddr("192.0.2.9")) })
	if w.Generation() == 0 {
		t.Fatal("Generation() = 0 after a successful reload")
	}
}

func TestNewWatcher(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, good, "1.2.3.4\n")
	writeFile(t, bad, "\n\nnope\n")
	tests := []struct {
		name    string
		cfg     *WatcherConfig
		wantErr string
		count   uint64
	}{
		{name: "nil config", cfg: nil, count: 0},
		{name: "one file", cfg: &WatcherConfig{Files: []string{good}}, count: 1},
		{name: "bad file", cfg: &WatcherConfig{Files: []string{good, bad}}, wantErr: bad + `:3: invalid address "nope"`},
		{name: "missing file", cfg: &WatcherConfig{Files: []string{filepath.Join(dir, "x")}},
			wantErr: "blocklist: stat " + filepath.Join(dir, "x") + ": no such file or directory"},
		{name: "negative interval", cfg: &WatcherConfig{Interval: -1}, wantErr: "blocklist: negative WatcherConfig.Interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWatcher(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("NewWatcher error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Current().Count() != tt.count {
				t.Fatalf("Count() = %d, want %d", w.Current().Count(), tt.count)
			}
		})
	}
}

func TestWatcherContainsZeroAllocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "optout.conf")
	writeFile(t, path, genOptout(5, 1000))
	w, err := NewWatcher(&WatcherConfig{Files: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("8.8.8.8")
	var sink bool
	if n := testing.AllocsPerRun(1000, func() { sink = w.Contains(a) }); n != 0 {
		t.Fatalf("Watcher.Contains allocates %v times per call", n)
	}
	_ = sink
}

// TestWatcherConcurrentReads runs readers against reloads; with -race it
// proves the publish path is data-race free.
func TestWatcherConcurrentReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "optout.conf")
	writeFile(t, path, "10.0.0.0/8\n")
	w, err := NewWatcher(&WatcherConfig{Files: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.MustParseAddr("10.1.2.3")
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Every published set contains 10.1.2.3.
				if !w.Contains(a) {
					t.Error("a published set lacks 10.1.2.3")
					return
				}
			}
		}()
	}
	for i := range 50 {
		writeFile(t, path, fmt.Sprintf("10.0.0.0/8\n192.0.2.%d\n", i))
		if err := w.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if w.Generation() != 50 {
		t.Fatalf("Generation() = %d, want 50", w.Generation())
	}
}

// TestWatcherRacyRewrite rewrites a file keeping its inode, size and mtime,
// as a quick edit within one file-system timestamp tick does: only the
// content hash of recently modified files can see it.
func TestWatcherRacyRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "optout.conf")
	// Within racyWindow of now, with a second's margin for a loaded machine.
	mtime := time.Now().Add(time.Second).Truncate(time.Second)
	writeFile(t, path, "192.0.2.1\n")
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(&WatcherConfig{Files: []string{path}, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runWatcher(t, w)
	before, _ := os.Stat(path)
	writeFile(t, path, "192.0.2.2\n")
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) || before.Size() != after.Size() || !before.ModTime().Equal(after.ModTime()) {
		t.Fatal("test setup: stat changed")
	}
	waitFor(t, "the same-stat rewrite to be seen", func() bool { return w.Contains(netip.MustParseAddr("192.0.2.2")) })
}
