package pipeline

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
	"github.com/smbsweep/smbsweep/rawscan/target"
	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

var (
	testRange = netip.MustParsePrefix("198.19.0.0/16")
	srcAddr   = netip.MustParseAddr("192.0.2.2")
	srcMAC    = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	gwMAC     = net.HardwareAddr{2, 0, 0, 0, 0, 1}
)

// isOpen is the fake internet: every 97th address of testRange is open.
func isOpen(a netip.Addr) bool {
	b := a.As4()
	return (uint32(b[2])<<8|uint32(b[3]))%97 == 0
}

func openHosts() []netip.AddrPort {
	var out []netip.AddrPort
	for a := testRange.Addr(); testRange.Contains(a); a = a.Next() {
		if isOpen(a) {
			out = append(out, netip.AddrPortFrom(a, 445))
		}
	}
	return out
}

// fakeRun is one pipeline over the in-memory network and SMB server.
type fakeRun struct {
	threads   int
	rate      float64
	queue     int
	workers   int
	scanOnly  bool
	format    Format
	resume    *Checkpoint // start from here
	stopAfter uint64      // Stop once this many hits were written
	out       string      // output path; a temp file if empty
	ckpt      string
	onStatus  func(*Pipeline, *Status)
	abortAt   uint64 // cancel Run's context once this many were written
	dialDelay time.Duration
	adaptive  bool
	txDrop    *atomic.Bool // while set, the fake wire loses every probe

	p *Pipeline // set by run
}

func (fr *fakeRun) run(t testing.TB) (*Status, []netip.AddrPort) {
	t.Helper()
	dir := t.TempDir()
	if fr.out == "" {
		fr.out = filepath.Join(dir, "out")
	}
	perm := fr.perm(t)
	nw := rawscantest.New(&rawscantest.Config{
		Hosts: func(a netip.Addr, port uint16) rawscantest.Behavior {
			if isOpen(a) && port == 445 {
				return rawscantest.Open
			}
			return rawscantest.Silent
		},
		Queue: 1 << 18,
	})
	seen, _, err := LoadSeen(fr.out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(fr.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := NewOutput(f, fr.format)
	if err != nil {
		t.Fatal(err)
	}
	var prober *smbprobe.Prober
	if !fr.scanOnly {
		rep, err := smbprobetest.Load("../../smbprobe/testdata/resp/nt1")
		if err != nil {
			t.Fatal(err)
		}
		srv := &smbprobetest.Server{Replies: rep}
		t.Cleanup(srv.Close)
		dial := srv.Dial
		if d := fr.dialDelay; d > 0 {
			dial = func(ctx context.Context, network, address string) (net.Conn, error) {
				time.Sleep(d)
				return srv.Dial(ctx, network, address)
			}
		}
		prober = smbprobe.New(&smbprobe.Config{Dial: dial, HostTimeout: 5 * time.Second})
	}
	var p *Pipeline
	var stopped atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err = New(&Config{
		Scan: rawscan.Config{
			Rate:     fr.rate,
			Cooldown: 200 * time.Millisecond,
			Source:   srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
			SinglePort: true,
			Tx: func(int) (rawscan.TxConn, error) {
				if fr.txDrop != nil {
					return &lossyTx{TxConn: nw.Tx(), drop: fr.txDrop}, nil
				}
				return nw.Tx(), nil
			},
			Rx: nw,
		},
		Permutation:        perm,
		Prober:             prober,
		Workers:            fr.workers,
		QueueSize:          fr.queue,
		SpillDir:           dir,
		Output:             o,
		Seen:               seen,
		CheckpointPath:     fr.ckpt,
		CheckpointInterval: 100 * time.Millisecond,
		StatusInterval:     50 * time.Millisecond,
		Adaptive:           adaptiveConfig(fr.adaptive),
		OnStatus: func(st *Status) {
			if fr.stopAfter > 0 && st.Written >= fr.stopAfter && !stopped.Swap(true) {
				p.Stop()
			}
			if fr.onStatus != nil {
				fr.onStatus(p, st)
			}
			if fr.abortAt > 0 && st.Written >= fr.abortAt {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fr.p = p
	st, err := p.Run(ctx)
	if err != nil && !(fr.abortAt > 0 && errors.Is(err, context.Canceled)) {
		t.Fatalf("Run: %v", err)
	}
	rf, err := os.Open(fr.out)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	var hosts []netip.AddrPort
	if _, err := ReadHosts(rf, func(ap netip.AddrPort) { hosts = append(hosts, ap) }); err != nil {
		t.Fatal(err)
	}
	return st, hosts
}

func (fr *fakeRun) perm(t testing.TB) *target.Permutation {
	t.Helper()
	cfg := &target.Config{Allowed: blocklist.FromPrefixes(testRange), Seed: 7, Threads: max(fr.threads, 1)}
	if fr.resume != nil {
		p, err := target.Resume(cfg, fr.resume.Rewound())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := target.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sorted returns the hosts as sorted strings, for cmp.Diff.
func sorted(h []netip.AddrPort) []string {
	h = slices.Clone(h)
	slices.SortFunc(h, func(a, b netip.AddrPort) int { return a.Compare(b) })
	s := make([]string, len(h))
	for i, ap := range h {
		s[i] = ap.String()
	}
	return s
}

func TestPipelineEveryOpenHostOnce(t *testing.T) {
	tests := []struct {
		name string
		fr   fakeRun
	}{
		{"probe", fakeRun{threads: 2, workers: 32}},
		{"scan-only", fakeRun{scanOnly: true}},
		{"csv", fakeRun{threads: 3, workers: 16, format: CSV}},
		// A queue of 4 with 2 workers: nearly every hit goes through
		// the spill file.
		{"spill", fakeRun{queue: 4, workers: 2}},
	}
	want := openHosts()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, got := tt.fr.run(t)
			if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
				t.Errorf("hosts in the output (-want +got):\n%s", diff)
			}
			if len(got) != len(want) {
				t.Errorf("%d records for %d hosts", len(got), len(want))
			}
			if st.Written != uint64(len(want)) || st.Hits != uint64(len(want)) || st.Abandoned != 0 {
				t.Errorf("status: written %d, hits %d, abandoned %d; want %d, %d, 0", st.Written, st.Hits, st.Abandoned, len(want), len(want))
			}
			if !tt.fr.scanOnly && st.ByStatus["success"] != uint64(len(want)) {
				t.Errorf("status: %d successes, want %d (%v)", st.ByStatus["success"], len(want), st.ByStatus)
			}
			if tt.name == "spill" && st.SpilledTotal == 0 {
				t.Errorf("status: nothing spilled through a queue of 4")
			}
			if st.Spilled != 0 || st.Queue != 0 || st.InFlight != 0 {
				t.Errorf("status at the end: spilled %d, queue %d, in flight %d; want 0", st.Spilled, st.Queue, st.InFlight)
			}
		})
	}
}

// TestPipelineStopResume stops a rate-limited run part way, resumes it
// from its checkpoint into the same output, and checks that the output
// then has every open host exactly once.
func TestPipelineStopResume(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out.json"), filepath.Join(dir, "ckpt.json")
	first := fakeRun{threads: 2, rate: 40000, workers: 16, out: out, ckpt: ckpt, stopAfter: 150}
	st1, got1 := first.run(t)
	want := openHosts()
	if len(got1) == 0 || len(got1) >= len(want) {
		t.Fatalf("first run wrote %d of %d hosts; the test needs a partial run", len(got1), len(want))
	}
	c, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Done {
		t.Fatalf("checkpoint of a stopped run says done")
	}
	t.Logf("first run: %d hosts, status %s; checkpoint positions %v", len(got1), st1.Line(), c.State.Positions)
	second := fakeRun{threads: 2, rate: 0, workers: 16, out: out, ckpt: ckpt, resume: c}
	st2, got := second.run(t)
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Errorf("hosts after resume (-want +got):\n%s", diff)
	}
	if len(got) != len(want) {
		t.Errorf("%d records for %d hosts: duplicates", len(got), len(want))
	}
	if st2.Resumed == 0 {
		t.Errorf("the rewound resume re-found no host already written; the rewind did nothing")
	}
	c2, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Done {
		t.Errorf("final checkpoint of a complete run is not done")
	}
}

// TestPipelineHardStopResume cancels a run while most hits are still
// queued: they are abandoned (counted, not written), the checkpoint stays
// before them, and a resume writes every open host exactly once.
func TestPipelineHardStopResume(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out.json"), filepath.Join(dir, "ckpt.json")
	// 400 hits/s arrive, one worker probes 50/s: the queue grows.
	first := fakeRun{threads: 2, rate: 40000, workers: 1, dialDelay: 20 * time.Millisecond, out: out, ckpt: ckpt, abortAt: 60}
	st1, got1 := first.run(t)
	want := openHosts()
	if st1.Abandoned == 0 || len(got1) >= len(want) {
		t.Fatalf("abort left %d abandoned, %d of %d written; the test needs a cut-off run", st1.Abandoned, len(got1), len(want))
	}
	if st1.Written+st1.Abandoned+uint64(st1.InFlight) < st1.Hits {
		t.Errorf("hits unaccounted for: %d hits, %d written, %d abandoned", st1.Hits, st1.Written, st1.Abandoned)
	}
	// Aborted before the first commit there is no checkpoint: the
	// resume then starts from the beginning, skipping the hosts written.
	c, err := LoadCheckpoint(ckpt)
	if errors.Is(err, os.ErrNotExist) {
		c = nil
	} else if err != nil {
		t.Fatal(err)
	} else if c.Done {
		t.Fatalf("checkpoint of an aborted run says done")
	}
	second := fakeRun{threads: 2, workers: 16, out: out, ckpt: ckpt, resume: c}
	_, got := second.run(t)
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Errorf("hosts after abort + resume (-want +got):\n%s", diff)
	}
	if len(got) != len(want) {
		t.Errorf("%d records for %d hosts: duplicates", len(got), len(want))
	}
	if c == nil {
		t.Errorf("no checkpoint committed in a run aborted after %d records", st1.Written)
	}
	t.Logf("abort: %d written, %d abandoned; checkpoint %v", st1.Written, st1.Abandoned, c != nil)
}

func adaptiveConfig(on bool) *AdaptiveConfig {
	if !on {
		return nil
	}
	return &AdaptiveConfig{}
}

// lossyTx loses every frame while drop is set, as a congested path would.
type lossyTx struct {
	rawscan.TxConn
	drop *atomic.Bool
}

func (l *lossyTx) WriteBatch(frames [][]byte) (int, error) {
	if l.drop.Load() {
		return len(frames), nil
	}
	return l.TxConn.WriteBatch(frames)
}

// TestPipelineAdaptive loses every probe for half a second of a
// rate-limited scan: --adaptive must back off while the hit rate is gone,
// recover afterwards, and never exceed the configured rate.
func TestPipelineAdaptive(t *testing.T) {
	var drop atomic.Bool
	const max = 40000
	var (
		rates    []float64
		lossFrom time.Time
	)
	fr := fakeRun{threads: 1, rate: max, scanOnly: true, adaptive: true, txDrop: &drop}
	fr.onStatus = func(p *Pipeline, st *Status) {
		rates = append(rates, st.RateLimit)
		switch {
		case lossFrom.IsZero() && st.Elapsed > 500*time.Millisecond:
			lossFrom = time.Now()
			drop.Store(true)
		case drop.Load() && time.Since(lossFrom) > 500*time.Millisecond:
			drop.Store(false)
		}
	}
	fr.run(t)
	low, recovered := float64(max), false
	for i, r := range rates {
		if r > max {
			t.Fatalf("status %d: rate %v above the maximum %v", i, r, max)
		}
		if r < low {
			low = r
		} else if low < max && r > low {
			recovered = true
		}
	}
	if low > 0.75*max {
		t.Errorf("the rate never backed off during the loss (lowest %v of %v): %v", low, max, rates)
	}
	if !recovered {
		t.Errorf("the rate never recovered after the loss: %v", rates)
	}
	t.Logf("rate limits: %v", rates)
}
