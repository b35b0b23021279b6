package rawscan

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// nextOnly hides an iterator's FillAddrs, so that the schedule draws one
// target at a time with Next.
type nextOnly struct{ Targets }

// schedStep is one call of schedule.next, comparable.
type schedStep struct {
	Addr     netip.Addr
	Port     uint16
	K        uint32
	OK, Empt bool
}

// runSchedule returns every step of a schedule until it finishes, and its
// drawn and skipped totals.
func runSchedule(s *schedule) (steps []schedStep, drawn, skipped uint64) {
	for {
		p, ok, empty := s.next()
		steps = append(steps, schedStep{p.addr, p.port, p.k, ok, empty})
		drawn, skipped = drawn+s.drawn, skipped+s.skipped
		s.drawn, s.skipped = 0, 0
		if !ok {
			return steps, drawn, skipped
		}
	}
}

// TestScheduleBatchMatchesNext checks that a schedule drawing batches
// through FillAddrs emits exactly the probes, in the same order, of one
// drawing with Next, and leaves the iterator at the same place: over
// seeded random sets, opt-out sets, ports, probe counts, gaps, quotas,
// shards and threads.
func TestScheduleBatchMatchesNext(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(80, 81))
	for i := range 40 {
		base := 0xc6120000 + r.Uint32N(1<<16) // inside 198.18.0.0/15
		var allow, opt []blocklist.Range
		for range 1 + r.IntN(20) {
			lo := base + r.Uint32N(1<<12)
			allow = append(allow, blocklist.Range{First: addr4(lo), Last: addr4(lo + r.Uint32N(1<<9))})
		}
		for range r.IntN(10) {
			lo := base + r.Uint32N(1<<12)
			opt = append(opt, blocklist.Range{First: addr4(lo), Last: addr4(lo + r.Uint32N(1<<6))})
		}
		cfg := target.Config{
			Allowed: blocklist.NewSet(allow...),
			Ports:   [][]uint16{{445}, {445}, {445, 139}}[i%3],
			Seed:    r.Uint64(),
			Shards:  1 + r.IntN(2),
			Threads: 1 + r.IntN(3),
		}
		cfg.Shard = r.IntN(cfg.Shards)
		var optOut OptOut
		if len(opt) > 0 {
			optOut = blocklist.NewSet(opt...)
		}
		quota := ^uint64(0)
		if r.IntN(2) == 0 {
			quota = r.Uint64N(cfg.Allowed.Count() + 10)
		}
		probes, gap := 1+r.IntN(3), 1+r.IntN(300)
		t.Run(fmt.Sprintf("%d probes=%d gap=%d quota=%d", i, probes, gap, quota), func(t *testing.T) {
			p, err := target.New(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			for th := range p.Threads() {
				ref, it := p.Iterator(th), p.Iterator(th)
				want, wantDrawn, wantSkipped := runSchedule(newSchedule(nextOnly{ref}, optOut, quota, probes, gap))
				s := newSchedule(it, optOut, quota, probes, gap)
				if s.batch == nil {
					t.Fatal("the schedule does not see the iterator's FillAddrs")
				}
				got, drawn, skipped := runSchedule(s)
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
					t.Fatalf("thread %d: batch schedule differs from Next's (-want +got):\n%s", th, diff)
				}
				if drawn != wantDrawn || skipped != wantSkipped {
					t.Fatalf("thread %d: drew %d, skipped %d; want %d, %d", th, drawn, skipped, wantDrawn, wantSkipped)
				}
				if it.Position() != ref.Position() || it.Emitted() != ref.Emitted() {
					t.Fatalf("thread %d: iterator left at position %d, emitted %d; want %d, %d", th, it.Position(), it.Emitted(), ref.Position(), ref.Emitted())
				}
			}
		})
	}
}

// TestScheduleBatchAllocatesNothing checks the batch draw with an opt-out
// set and retries: no allocation per probe.
func TestScheduleBatchAllocatesNothing(t *testing.T) {
	p, err := target.New(&target.Config{Allowed: blocklist.All().Subtract(blocklist.Reserved()), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := newSchedule(p.Iterator(0), blocklist.Reserved(), ^uint64(0), 2, 1000)
	if n := testing.AllocsPerRun(100000, func() { s.next() }); n != 0 {
		t.Fatalf("schedule.next allocates %v times per probe, want 0", n)
	}
}

// listTargets yields a fixed list of targets with Next only;
// listBatchTargets adds FillAddrs.
type listTargets struct {
	ts []slot
	i  int
}

func (l *listTargets) Next() (netip.Addr, uint16, bool) {
	if l.i == len(l.ts) {
		return netip.Addr{}, 0, false
	}
	l.i++
	return l.ts[l.i-1].ip(), l.ts[l.i-1].port, true
}

type listBatchTargets struct{ listTargets }

func (l *listBatchTargets) FillAddrs(addrs []uint32, ports []uint16) int {
	k := 0
	for ; k < min(len(addrs), len(ports)) && l.i < len(l.ts); k++ {
		addrs[k], ports[k] = l.ts[l.i].addr, l.ts[l.i].port
		l.i++
	}
	return k
}

// modelSchedule is the schedule's contract written out: the targets not
// opted out, up to the quota, are drawn one per step; at step i the
// schedule emits probe k of the target drawn at step i−k·gap for k =
// probes−1 down to 1, then probe 0 of the target drawn at step i; after the
// last target it keeps stepping (a step with nothing to send is one empty
// result) until the last retry is due; then it reports the end.
func modelSchedule(ts []slot, optOut OptOut, quota uint64, probes, gap int) []schedStep {
	var drawn []slot
	for _, t := range ts {
		if uint64(len(drawn)) == quota {
			break
		}
		if optOut == nil || !optOut.Contains(t.ip()) {
			drawn = append(drawn, t)
		}
	}
	d, last := len(drawn), len(drawn)+(probes-1)*gap
	var steps []schedStep
	for i := 0; i <= last; i++ {
		n := len(steps)
		for k := probes - 1; k >= 0; k-- {
			if at := i - k*gap; at >= 0 && at < d {
				steps = append(steps, schedStep{drawn[at].ip(), drawn[at].port, uint32(k), true, false})
			}
		}
		if len(steps) == n {
			steps = append(steps, schedStep{OK: i != last, Empt: true})
			if i == last {
				return steps
			}
		}
	}
	return append(steps, schedStep{})
}

// TestScheduleMatchesModel checks the schedule, drawing with Next and
// drawing batches, against modelSchedule over seeded random target lists,
// opt-out sets, quotas, probe counts and gaps.
func TestScheduleMatchesModel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(82, 83))
	for i := range 300 {
		ts := make([]slot, r.IntN(3*drawBatch))
		for j := range ts {
			ts[j] = slot{addr: 0xc6120000 + r.Uint32N(1<<12), port: uint16(1 + r.IntN(3)), valid: true}
		}
		var optOut OptOut
		if r.IntN(2) == 0 {
			optOut = blocklist.NewSet(blocklist.Range{First: addr4(0xc6120000), Last: addr4(0xc6120000 + r.Uint32N(1<<11))})
		}
		quota := ^uint64(0)
		if r.IntN(2) == 0 {
			quota = r.Uint64N(uint64(len(ts)) + 2)
		}
		probes, gap := 1+r.IntN(4), 1+r.IntN(50)
		want := modelSchedule(ts, optOut, quota, probes, gap)
		for _, batch := range []bool{false, true} {
			var tg Targets = &listTargets{ts: ts}
			if batch {
				tg = &listBatchTargets{listTargets{ts: ts}}
			}
			got, _, _ := runSchedule(newSchedule(tg, optOut, quota, probes, gap))
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Fatalf("case %d (%d targets, quota %d, probes %d, gap %d, batch %v): schedule differs from the model (-want +got):\n%s", i, len(ts), quota, probes, gap, batch, diff)
			}
		}
	}
}

// TestScheduleGatedOptOut checks that a GatedOptOut gives the schedule the
// same answers as calling its Contains per target, before and after a
// reload that adds addresses mid-scan: the two schedules run in lockstep
// over one Watcher.
func TestScheduleGatedOptOut(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "optout.conf")
	if err := os.WriteFile(file, []byte("198.18.0.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := blocklist.NewWatcher(&blocklist.WatcherConfig{Files: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	var ts []slot
	for i := range uint32(1024) {
		ts = append(ts, slot{addr: 0xc6120000 + i, port: 445, valid: true})
	}
	for _, probes := range []int{1, 2} {
		gated := newSchedule(&listBatchTargets{listTargets{ts: ts}}, gatedOptOut{w}, ^uint64(0), probes, 7)
		plain := newSchedule(&listBatchTargets{listTargets{ts: ts}}, struct{ OptOut }{gatedOptOut{w}}, ^uint64(0), probes, 7)
		if gated.gate == nil || plain.gate != nil {
			t.Fatal("the schedule does not tell a GatedOptOut from a plain OptOut")
		}
		var skipped uint64
		for step := 0; ; step++ {
			if step == 300 {
				// Opt out the next /24 too; the schedules have drawn targets
				// ahead of it.
				if err := os.WriteFile(file, []byte("198.18.0.0/24\n198.18.2.0/24\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := w.Reload(); err != nil {
					t.Fatal(err)
				}
			}
			p1, ok1, e1 := gated.next()
			p2, ok2, e2 := plain.next()
			if p1 != p2 || ok1 != ok2 || e1 != e2 {
				t.Fatalf("probes=%d step %d: gated schedule gave %v %v %v, plain %v %v %v", probes, step, p1, ok1, e1, p2, ok2, e2)
			}
			if !ok1 {
				break
			}
			if w.Generation() > 0 && (p1.addr.As4()[2] == 2) {
				t.Fatalf("probes=%d step %d: sent to %v after it was opted out", probes, step, p1.addr)
			}
			skipped += gated.skipped
			gated.skipped = 0
		}
		if skipped == 0 {
			t.Fatalf("probes=%d: nothing skipped after the reload", probes)
		}
	}
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
