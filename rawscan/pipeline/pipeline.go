package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// Defaults of Config fields left zero.
const (
	DefaultWorkers        = 4096
	DefaultHoldDense      = 4
	DefaultHoldMax        = 30 * time.Second
	DefaultDenseProbes    = 16
	DefaultQueueSize      = 1 << 16
	DefaultStatusInterval = time.Second
	DefaultStopTimeout    = 30 * time.Second
)

// epochRing is the number of checkpoint epochs whose outstanding hits are
// tracked; at the default interval it spans 5.7 hours of a stuck probe
// queue before checkpoints stop advancing (they stay correct).
const epochRing = 4096

// ErrConfig is wrapped by every configuration error from New.
var ErrConfig = errors.New("pipeline: invalid configuration")

// Config configures a Pipeline. Fields marked required have no default.
type Config struct {
	// Scan is the scanner's configuration with its connections already
	// opened (Tx, Rx) in the namespace of the caller's choosing. The
	// pipeline sets Targets, Senders and Results; everything else is
	// passed to rawscan.New as is. Required.
	Scan rawscan.Config
	// Permutation is the target order of this shard, fresh or resumed
	// (target.Resume with Checkpoint.Rewound). Its Threads are the
	// senders. Required.
	Permutation *target.Permutation
	// Prober probes every hit; nil means scan-only output. Its dialer
	// decides the namespace of the probes' TCP connections.
	Prober *smbprobe.Prober
	// Workers is the most probes in flight at once; 0 means
	// DefaultWorkers, lowered to what the process's open-file limit
	// allows (each probe holds up to two sockets). Workers are started
	// only when a hit finds none idle, so a pool that never fills costs
	// nothing; a probe in flight costs about 14 KB.
	Workers int
	// HoldDense is how many hits of one /24 (/64 for IPv6) are probed
	// while the scan is still sending before the subnet may count as
	// dense: once it has more hits than that, and its share of the scan's
	// hits is at least 8 times its share of the targets, its later hits
	// wait until sending has ended, or HoldMax, whichever comes first. A
	// whole subnet answering is often one machine (a middlebox, a tarpit, a load balancer, the
	// lab's AnyIP smbd) whose accept queue the probes would fill, making
	// it drop the scan's own SYNs to the rest of the subnet, and whose
	// forks compete with the sender for the scan host's CPUs. A busy but
	// ordinary subnet is never held. 0 means DefaultHoldDense; negative
	// means never hold.
	HoldDense int
	// HoldMax bounds how long a held hit waits; 0 means DefaultHoldMax.
	// A subnet is dense for the hits of one HoldMax.
	HoldMax time.Duration
	// DenseProbes is the most probes in flight at once to a dense
	// subnet's held hits once released, if a probe of that subnet got
	// an answer (a server, which a burst would overflow); the others
	// queue. Subnets that never answered (SYN proxies, tarpits) are not
	// paced: their probes only wait out their own timeouts; nor is one
	// whose paced probe timed out (an overloaded server: its hosts would
	// queue behind its timeouts). The pace doubles whenever the queue
	// would take more than about a read timeout (5 s) to drain at the
	// probe time seen so far. 0 means DefaultDenseProbes.
	DenseProbes int
	// QueueSize is the number of hits held in memory before spilling;
	// 0 means DefaultQueueSize.
	QueueSize int
	// SpillDir is where the spill file goes; "" means os.TempDir().
	SpillDir string
	// Output receives one record per host. Required.
	Output *Output
	// Seen holds hosts already in the output (LoadSeen); they are
	// skipped. Nil means none. The pipeline adds every hit to it.
	Seen *Seen
	// CheckpointPath, if not empty, is where a checkpoint is committed
	// every CheckpointInterval (0 means DefaultCheckpointInterval) and at
	// the end.
	CheckpointPath     string
	CheckpointInterval time.Duration
	// StatusInterval is how often OnStatus is called; 0 means
	// DefaultStatusInterval.
	StatusInterval time.Duration
	// OnStatus, if not nil, receives a Status every StatusInterval and a
	// last one at the end, on the monitor goroutine.
	OnStatus func(*Status)
	// StopTimeout bounds how long queued and in-flight probes may run
	// after a graceful Stop's cooldown; the rest are abandoned (counted,
	// not written; the checkpoint keeps them for a resume). 0 means
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// Adaptive, if not nil, lowers and restores the rate from the
	// receiver's drops and the hit rate, never above Scan.Rate.
	Adaptive *AdaptiveConfig
	// Logf, if not nil, receives progress messages.
	Logf func(format string, args ...any)
}

// A Pipeline is one run: scan, probe, write. Its methods are safe for
// concurrent use; Run may be called once.
type Pipeline struct {
	cfg     Config
	scanner *rawscan.Scanner
	perm    *target.Permutation
	cursors []*cursor
	stop    atomic.Bool // graceful stop: the cursors end
	q       *queue
	seen    *Seen
	total   uint64
	spread  float64 // a whole /24's share of the targets (Pipeline.dense); 0: unknown

	start     time.Time
	phase     atomic.Value // string
	hits      atomic.Uint64
	resumed   atomic.Uint64
	inFlight  atomic.Int64
	probed    atomic.Uint64
	written   atomic.Uint64
	aband     atomic.Uint64
	heldTotal atomic.Uint64 // hits of dense subnets held while sending
	silentCut atomic.Uint64 // probes flagged smbprobe.FlagSilentSubnet
	byStatus  map[smbprobe.Status]*atomic.Uint64

	epoch       atomic.Uint32
	outstanding [epochRing]atomic.Int64
	lastCkpt    atomic.Int64 // UnixNano of the last commit
	snaps       []snap       // taken, not yet committed; monitor goroutine
	low         uint32       // lowest epoch that may have outstanding hits

	latency prometheus.Histogram

	errMu sync.Mutex
	err   error
	fail  context.CancelFunc

	mu   sync.Mutex // guards prev, the last status for rates
	prev *Status
}

// New checks cfg and prepares a Pipeline. It opens nothing.
func New(cfg *Config) (*Pipeline, error) {
	if cfg == nil || cfg.Permutation == nil || cfg.Output == nil {
		return nil, fmt.Errorf("%w: Permutation and Output are required", ErrConfig)
	}
	c := *cfg
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Workers > maxWorkers() {
		c.Workers = maxWorkers()
	}
	if c.HoldDense == 0 {
		c.HoldDense = DefaultHoldDense
	}
	if c.HoldMax <= 0 {
		c.HoldMax = DefaultHoldMax
	}
	if c.DenseProbes <= 0 {
		c.DenseProbes = DefaultDenseProbes
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Scan.Cooldown == 0 {
		c.Scan.Cooldown = rawscan.DefaultCooldown
	}
	p := &Pipeline{
		cfg:      c,
		perm:     c.Permutation,
		q:        newQueue(c.QueueSize, c.SpillDir),
		seen:     c.Seen,
		byStatus: make(map[smbprobe.Status]*atomic.Uint64, len(Statuses)),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "smbsweep", Name: "probe_duration_seconds",
			Help:    "Time to probe one host for SMB facts.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}),
	}
	if p.seen == nil {
		p.seen = NewSeen()
	}
	for _, s := range Statuses {
		p.byStatus[s] = new(atomic.Uint64)
	}
	p.phase.Store(PhaseSending)
	threads := p.perm.Threads()
	for t := range threads {
		it := p.perm.Iterator(t)
		cu := &cursor{it: it, stop: &p.stop}
		cu.pos.Store(it.Position())
		cu.emitted.Store(it.Emitted())
		p.cursors = append(p.cursors, cu)
	}
	p.total = p.perm.Count() / uint64(max(p.layout().Shards, 1))
	if n := p.perm.Count(); n > 0 {
		p.spread = 256 * float64(len(p.perm.Ports())) / float64(n)
	}
	if m := p.layout().MaxTargets; m > 0 {
		p.total = min(p.total, m/uint64(max(p.layout().Shards, 1)))
	}
	sc := c.Scan
	sc.Senders = threads
	sc.Targets = func(t int) rawscan.Targets { return p.cursors[t] }
	sc.Results = p.receive
	s, err := rawscan.New(&sc)
	if err != nil {
		return nil, err
	}
	p.scanner = s
	return p, nil
}

// layout returns the permutation's State at its starting positions.
func (p *Pipeline) layout() target.State {
	its := make([]*target.Iterator, p.perm.Threads())
	for t := range its {
		its[t] = p.perm.Iterator(t)
	}
	st, _ := p.perm.State(its)
	return st
}

// A cursor is a sender's target iterator, with its position readable from
// other goroutines and an end on graceful stop. One sender owns it.
type cursor struct {
	it           *target.Iterator
	pos, emitted atomic.Uint64
	stop         *atomic.Bool
	exhausted    atomic.Bool // the iterator itself ended (not a stop)
}

// Next implements rawscan.Targets.
func (c *cursor) Next() (netip.Addr, uint16, bool) {
	if c.stop.Load() {
		return netip.Addr{}, 0, false
	}
	a, port, ok := c.it.Next()
	c.pos.Store(c.it.Position())
	c.emitted.Store(c.it.Emitted())
	if !ok {
		c.exhausted.Store(true)
	}
	return a, port, ok
}

// FillAddrs implements rawscan.BatchTargets: the sender draws a batch at a
// time. The position is published per batch.
func (c *cursor) FillAddrs(addrs []uint32, ports []uint16) int {
	if c.stop.Load() {
		return 0
	}
	k := c.it.FillAddrs(addrs, ports)
	c.pos.Store(c.it.Position())
	c.emitted.Store(c.it.Emitted())
	if k == 0 {
		c.exhausted.Store(true)
	}
	return k
}

// exhausted reports whether every iterator reached its end.
func (p *Pipeline) exhausted() bool {
	for _, c := range p.cursors {
		if !c.exhausted.Load() {
			return false
		}
	}
	return true
}

// Scanner returns the underlying scanner, for its live Rate.
func (p *Pipeline) Scanner() *rawscan.Scanner { return p.scanner }

// Stop ends the run gracefully: sending stops, the cooldown runs, queued
// and in-flight probes finish (within Config.StopTimeout), the output is
// flushed and a last checkpoint written; Run then returns nil.
func (p *Pipeline) Stop() { p.stop.Store(true) }

// Stopped reports whether Stop was called.
func (p *Pipeline) Stopped() bool { return p.stop.Load() }

func (p *Pipeline) logf(format string, args ...any) {
	if p.cfg.Logf != nil {
		p.cfg.Logf(format, args...)
	}
}

// setErr records the pipeline's first fatal error and stops it.
func (p *Pipeline) setErr(err error) {
	p.errMu.Lock()
	if p.err == nil {
		p.err = err
		if p.fail != nil {
			p.fail()
		}
	}
	p.errMu.Unlock()
}

// firstErr returns the first fatal error, nil if none.
func (p *Pipeline) firstErr() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// receive is rawscan's Results hook, on the receiver goroutine: resume
// dedup, then the queue. It never blocks on the prober.
func (p *Pipeline) receive(r *rawscan.Result) {
	if r.Kind != rawscan.KindSynAck {
		return
	}
	ap := netip.AddrPortFrom(r.Addr, r.Port)
	if !p.seen.Add(ap) {
		p.resumed.Add(1)
		return
	}
	e := p.epoch.Load()
	p.outstanding[e%epochRing].Add(1)
	p.hits.Add(1)
	if err := p.q.push(hitFrom(r, e)); err != nil {
		p.setErr(err)
	}
}

// Run runs the pipeline until the scan, its cooldown and every probe are
// done, Stop was called and the stop completed, or ctx is canceled (a hard
// stop: probes are cut off and their hits abandoned, the last committed
// checkpoint stays). It returns the final Status.
func (p *Pipeline) Run(ctx context.Context) (*Status, error) {
	p.start = time.Now()
	runCtx, fail := context.WithCancel(ctx)
	defer fail()
	p.errMu.Lock()
	p.fail = fail
	p.errMu.Unlock()
	// Probes get their own context: a graceful stop cancels it only
	// after StopTimeout.
	probeCtx, cancelProbes := context.WithCancel(runCtx)
	defer cancelProbes()

	stopRefill := make(chan struct{})
	var refillWG sync.WaitGroup
	refillWG.Go(func() {
		if err := p.q.refill(stopRefill); err != nil {
			p.setErr(err)
		}
	})
	records := make(chan *Record, 4096)
	var workers sync.WaitGroup
	if p.cfg.Prober == nil {
		workers.Go(func() {
			for h := range p.q.out {
				records <- recordFrom(&h, nil)
			}
		})
	} else {
		workers.Go(func() { p.dispatch(probeCtx, p.q.out, records) })
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		p.write(records)
	}()
	p.Status() // the first reference for the rates
	monitorCtx, stopMonitor := context.WithCancel(context.Background())
	var monitor sync.WaitGroup
	monitor.Go(func() { p.monitor(monitorCtx) })

	scanErr := p.scanner.Run(runCtx)
	if scanErr != nil {
		p.setErr(scanErr)
	}
	p.phase.Store(PhaseProbing)
	p.q.close()
	if p.stop.Load() && runCtx.Err() == nil {
		t := time.AfterFunc(p.cfg.StopTimeout, func() {
			p.logf("pipeline: stop timeout (%v): abandoning the probes left", p.cfg.StopTimeout)
			cancelProbes()
		})
		defer t.Stop()
	}
	if runCtx.Err() != nil {
		// Hard stop: do not wait for the spill.
		close(stopRefill)
	}
	workers.Wait()
	close(records)
	<-writerDone
	if runCtx.Err() == nil {
		close(stopRefill)
	}
	refillWG.Wait()
	// Whatever is still queued was never probed.
	for range p.q.out {
		p.aband.Add(1)
	}
	p.aband.Add(uint64(max(p.q.pending.Load(), 0)))
	p.phase.Store(PhaseDone)
	stopMonitor()
	monitor.Wait()

	if err := p.cfg.Output.Sync(); err != nil {
		p.setErr(err)
	}
	if err := p.checkpoint(true); err != nil {
		p.setErr(err)
	}
	err := p.firstErr()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	st := p.Status()
	st.Complete = err == nil && st.Abandoned == 0 && p.exhausted()
	if p.cfg.OnStatus != nil {
		p.cfg.OnStatus(st)
	}
	return st, err
}

// write is the output writer: the only goroutine writing the output.
func (p *Pipeline) write(in <-chan *Record) {
	for r := range in {
		if err := p.cfg.Output.Write(r); err != nil {
			p.setErr(err)
			continue // keep draining so the workers finish
		}
		p.written.Add(1)
		p.outstanding[r.epoch%epochRing].Add(-1)
	}
}
