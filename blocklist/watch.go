package blocklist

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a Watcher polls its files when
// WatcherConfig.Interval is zero.
const DefaultInterval = 250 * time.Millisecond

// WatcherConfig configures a Watcher. A nil *WatcherConfig means the zero
// value: no files (an always-empty set) and the defaults below.
type WatcherConfig struct {
	// Files are the opt-out files to watch, in ZMap's format; the
	// published set is their union. Each must parse when NewWatcher is
	// called.
	Files []string

	// Interval is how often Run compares the files' size, modification
	// time and identity (device and inode) with what it last loaded, and
	// the contents of files modified in the last 2 s (see racyWindow).
	// A change is reloaded once it has been stable for one Interval, so
	// it takes effect within about 2×Interval plus the parse time.
	// Default DefaultInterval (250 ms); negative values are an error.
	Interval time.Duration

	// Logf, if not nil, receives one line per reload and per reload
	// failure. It is called from the goroutine that reloads.
	Logf func(format string, args ...any)

	// OnReload, if not nil, is called with each newly published set after
	// a successful reload (not for the initial load), from the goroutine
	// that reloaded, with the reload lock held: it must not block for long
	// (Run waits for it) and must not call Reload (it would deadlock).
	OnReload func(*Set)
}

// A Watcher holds the current union of a list of opt-out files and
// reloads it while a scan runs: on SIGHUP, on a change to any file seen by
// Run, or when Reload is called. Each successful reload publishes a new
// immutable Set with one atomic pointer store, so Contains, the per-target
// check on the send path, never locks or allocates and always sees either
// the old or the new set in full. A reload that fails (a bad line, a
// missing file) keeps the old set.
//
// Replace opt-out files atomically (write a temporary file, then rename it
// over the old one), as most editors do. A file rewritten in place is read
// once it has looked the same for one Interval; a writer that stalls
// mid-write for longer than that can have its partial file published until
// the next poll sees the rest.
//
// A Watcher is safe for concurrent use: any number of goroutines may call
// Contains and Current while one runs Run and others call Reload.
type Watcher struct {
	cur atomic.Pointer[Set]
	gen atomic.Uint64

	files    []string
	interval time.Duration
	logf     func(format string, args ...any)
	onReload func(*Set)

	seed maphash.Seed // for content hashes

	mu     sync.Mutex  // serializes reloads and guards stamps
	stamps []fileStamp // what the last reload attempt read, hashed
}

// racyWindow is how recent a file's modification time must be for a poll
// to hash its contents: a rewrite that keeps the size and lands within the
// same file-system timestamp tick as the last load leaves size, mtime and
// inode unchanged. 2 s covers the coarsest common granularity (FAT). Git
// handles its "racily clean" index entries the same way.
const racyWindow = 2 * time.Second

// fileStamp identifies one version of a file: its stat result and, when
// hashed, a hash of its contents. A missing file has a nil info and the
// stat error.
type fileStamp struct {
	info   os.FileInfo
	err    error
	sum    uint64
	hashed bool
}

// same reports whether a and b describe the same version of a file: same
// identity (device and inode, so replacing the file by rename counts as a
// change), size and modification time, and same contents when both were
// hashed.
func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil && errString(a.err) == errString(b.err)
	}
	if !os.SameFile(a.info, b.info) || a.info.Size() != b.info.Size() ||
		!a.info.ModTime().Equal(b.info.ModTime()) {
		return false
	}
	return !a.hashed || !b.hashed || a.sum == b.sum
}

// errString returns err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// NewWatcher parses every file in cfg.Files and returns a Watcher that
// publishes their union. It fails if any file fails to parse. Call Run to
// follow changes.
func NewWatcher(cfg *WatcherConfig) (*Watcher, error) {
	if cfg == nil {
		cfg = &WatcherConfig{}
	}
	if cfg.Interval < 0 {
		return nil, errNegativeInterval
	}
	w := &Watcher{
		files:    append([]string(nil), cfg.Files...),
		interval: cfg.Interval,
		logf:     cfg.Logf,
		onReload: cfg.OnReload,
	}
	if w.interval == 0 {
		w.interval = DefaultInterval
	}
	w.seed = maphash.MakeSeed()
	s, stamps, err := w.load()
	w.stamps = stamps
	if err != nil {
		return nil, err
	}
	w.cur.Store(s)
	return w, nil
}

// errNegativeInterval is returned by NewWatcher for a negative Interval.
var errNegativeInterval = errors.New("blocklist: negative WatcherConfig.Interval")

// Current returns the set published by the last successful load.
func (w *Watcher) Current() *Set {
	return w.cur.Load()
}

// Contains reports whether a is in the current set. It is one atomic load
// plus Set.Contains: no locks, no allocations.
func (w *Watcher) Contains(a netip.Addr) bool {
	return w.cur.Load().Contains(a)
}

// Generation returns the number of successful reloads since NewWatcher;
// the initial load is generation 0.
func (w *Watcher) Generation() uint64 {
	return w.gen.Load()
}

// Reload parses all the files again and, if every one parses, publishes
// their union. On failure it keeps the current set, logs the error and
// returns it.
func (w *Watcher) Reload() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reloadLocked()
}

// reloadLocked reloads with w.mu held. The stamps record what was read,
// even on failure, so a broken file is not re-read until it changes again.
func (w *Watcher) reloadLocked() error {
	s, stamps, err := w.load()
	w.stamps = stamps
	if err != nil {
		w.log("blocklist: reload failed, keeping generation %d: %v", w.gen.Load(), err)
		return err
	}
	w.cur.Store(s)
	gen := w.gen.Add(1)
	w.log("blocklist: reloaded %d file(s): %d ranges, %d addresses (generation %d)",
		len(w.files), s.Len(), s.Count(), gen)
	if w.onReload != nil {
		w.onReload(s)
	}
	return nil
}

// load reads and parses every file and returns their union with one
// hashed stamp per file. Each file is stat'ed before it is read, so a write
// that lands between the two makes the stamp differ from the next poll.
func (w *Watcher) load() (*Set, []fileStamp, error) {
	stamps := make([]fileStamp, len(w.files))
	var spans []span
	var firstErr error
	for i, f := range w.files {
		fi, err := os.Stat(f)
		stamps[i] = fileStamp{info: fi, err: err}
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("blocklist: %w", err))
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("blocklist: %w", err))
			continue
		}
		stamps[i].sum, stamps[i].hashed = maphash.Bytes(w.seed, data), true
		s, err := Parse(bytes.NewReader(data), f)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		spans = append(spans, s.spans()...)
	}
	if firstErr != nil {
		return nil, stamps, firstErr
	}
	return fromSpans(normalize(spans)), stamps, nil
}

// poll stats every file and hashes those modified within racyWindow.
func (w *Watcher) poll() []fileStamp {
	out := make([]fileStamp, len(w.files))
	for i, f := range w.files {
		fi, err := os.Stat(f)
		out[i] = fileStamp{info: fi, err: err}
		if err == nil && time.Since(fi.ModTime()) < racyWindow {
			if data, err := os.ReadFile(f); err == nil {
				out[i].sum, out[i].hashed = maphash.Bytes(w.seed, data), true
			}
		}
	}
	return out
}

// changed reports whether any stamp in a differs from b.
func changed(a, b []fileStamp) bool {
	for i := range a {
		if !a[i].same(b[i]) {
			return true
		}
	}
	return false
}

func (w *Watcher) log(format string, args ...any) {
	if w.logf != nil {
		w.logf(format, args...)
	}
}

// Run follows the files until ctx is done and then returns ctx.Err().
// It reloads at once on SIGHUP (where the OS has it; the signal is
// caught only while Run runs) and, every Interval, polls the files; a
// change is reloaded once the files have looked the same for one more
// poll, so a write in progress is normally not published (see Watcher for
// the limits of this). Editors that replace
// the file by rename are seen as a change of identity. Reload failures are
// logged and do not stop Run. Run must not be called twice at once.
func (w *Watcher) Run(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	if sigs := reloadSignals(); len(sigs) > 0 {
		signal.Notify(hup, sigs...)
		defer signal.Stop(hup)
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()

	var pending []fileStamp // stamps of a change waiting to settle
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-hup:
			w.log("blocklist: SIGHUP: reloading")
			_ = w.Reload() // logged; the old set stays
			pending = nil
		case <-t.C:
			now := w.poll()
			w.mu.Lock()
			switch {
			case pending != nil && !changed(pending, now):
				_ = w.reloadLocked() // logged; the old set stays
				pending = nil
			case changed(w.stamps, now):
				pending = now
			default:
				pending = nil
			}
			w.mu.Unlock()
		}
	}
}
