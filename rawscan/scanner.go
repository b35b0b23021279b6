package rawscan

// Stage diagram of a scan (Run):
//
//	Config.Targets(0) ─► sender 0 ─► TxConn 0 ─┐
//	Config.Targets(1) ─► sender 1 ─► TxConn 1 ─┼─► wire
//	        …                                 ─┘
//	wire ─► RxConn ─► receiver: decode ─► validate (cookie) ─► opt-out
//	                  ─► dedup ─► classify (SYN-proxy flags) ─► Config.Results
//
// Senders are goroutines locked to their OS threads. Each walks its own
// disjoint share of the permutation, stamps probes into its own batch of
// frames and paces itself per batch; they share no lock, only the Rate and
// the atomic counters, which they touch once per batch. The receiver runs
// from before the first send until Cooldown after the last; Run then closes
// the RxConn to stop it.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCooldown is how long the receiver keeps listening after the last
// probe when Config.Cooldown is zero, as in ZMap.
const DefaultCooldown = 8 * time.Second

// DefaultProbeSpacing is the time between probes to one target when
// Config.Probes > 1 and Config.ProbeSpacing is zero.
const DefaultProbeSpacing = time.Second

// defaultWindow is the size of the dedup window of multi-port scans.
const defaultWindow = 1 << 18

// rxBufSize is the size of each receive buffer: an Ethernet frame of a
// 1500-byte MTU plus slack. Longer frames are truncated, which does not
// matter: only headers are read.
const rxBufSize = 2048

// ErrConfig is wrapped by every configuration error from New.
var ErrConfig = errors.New("rawscan: invalid configuration")

// Config configures a Scanner. Fields marked required have no default.
type Config struct {
	// Targets returns the target iterator of sender thread i, 0 ≤ i <
	// Senders. The iterators must cover disjoint targets. Required.
	Targets func(thread int) Targets
	// Senders is the number of sender goroutines (-T); 0 means 1.
	Senders int
	// Rate is the total send rate in packets per second (-r); 0 means
	// unlimited. The command line's default is 10,000, as ZMap's.
	// Scanner.Rate changes it while running.
	Rate float64
	// Probes is the number of SYNs per target (-P), spaced ProbeSpacing
	// apart; 0 means 1, at most 16.
	Probes int
	// ProbeSpacing is the time between the probes of one target at the
	// configured rate; 0 means DefaultProbeSpacing. At unlimited rate the
	// spacing is 65,536 probes.
	ProbeSpacing time.Duration
	// MaxTargets stops the scan after this many targets in total (-n);
	// 0 means no limit.
	MaxTargets uint64
	// MaxRuntime stops sending after this long (-t); 0 means no limit.
	MaxRuntime time.Duration
	// Cooldown is how long to keep receiving after the last send (-c);
	// 0 means DefaultCooldown, negative means none.
	Cooldown time.Duration

	// Key is the cookie key; nil means a random key for this scan.
	Key *[KeySize]byte
	// Source is the IPv4 source address. Required.
	Source netip.Addr
	// SourceMAC and GatewayMAC are the Ethernet addresses of the
	// interface and the next hop. Required.
	SourceMAC, GatewayMAC net.HardwareAddr
	// SourcePorts is the source-port range; zero means
	// DefaultSourcePorts. The caller checks it against the kernel's
	// ephemeral range (EphemeralPorts).
	SourcePorts PortRange
	// TTL is the probes' IPv4 TTL; 0 means DefaultTTL.
	TTL uint8
	// SinglePort selects the paged-bitmap dedup, exact for scans of one
	// port; otherwise a window of the last DedupWindow results is used.
	SinglePort bool
	// DedupWindow is the window size of multi-port dedup; 0 means 2^18.
	DedupWindow int

	// OptOut, if not nil, is checked per target before sending and per
	// reply on receipt.
	OptOut OptOut

	// Tx opens the TxConn of sender thread i. It is called on the
	// sender's goroutine after it has locked its OS thread. Run closes
	// every TxConn it opens. Required; OpenTx builds one on Linux.
	Tx func(thread int) (TxConn, error)
	// Rx is the receiving connection, opened before Run so no reply is
	// missed. Run closes it when the cooldown ends. Required.
	Rx RxConn

	// Results receives every unique validated result, on the receiver
	// goroutine; the Result is reused after the call returns. It should
	// not block: while it does, replies queue in the kernel and may be
	// dropped. Nil discards results.
	Results func(*Result)
	// Logf, if not nil, receives progress messages.
	Logf func(format string, args ...any)
}

// A Scanner runs one stateless SYN scan. Its methods are safe for
// concurrent use; Run may be called once.
type Scanner struct {
	cfg    Config
	tmpl   *Template
	cookie *Cookie
	rate   Rate
	st     counters
	// closing is set just before Run closes the RxConn, so the receiver
	// tells its expected end from a failure.
	closing atomic.Bool

	mu      sync.Mutex
	suspect []netip.Prefix
}

// New checks cfg and prepares a Scanner. It opens nothing.
func New(cfg *Config) (*Scanner, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := *cfg
	if c.Targets == nil || c.Tx == nil || c.Rx == nil {
		return nil, fmt.Errorf("%w: Targets, Tx and Rx are required", ErrConfig)
	}
	if c.Senders == 0 {
		c.Senders = 1
	}
	if c.Probes == 0 {
		c.Probes = 1
	}
	if c.Senders < 0 || c.Probes < 0 || c.Probes > maxProbes {
		return nil, fmt.Errorf("%w: %d senders, %d probes (want ≥ 1 and 1–%d)", ErrConfig, c.Senders, c.Probes, maxProbes)
	}
	if c.SourcePorts == (PortRange{}) {
		c.SourcePorts = DefaultSourcePorts
	}
	if c.SourcePorts.Size() == 0 || c.SourcePorts.First == 0 {
		return nil, fmt.Errorf("%w: source ports %v", ErrConfig, c.SourcePorts)
	}
	if c.ProbeSpacing == 0 {
		c.ProbeSpacing = DefaultProbeSpacing
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCooldown
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = defaultWindow
	}
	tmpl, err := NewTemplate(&TemplateConfig{SourceMAC: c.SourceMAC, GatewayMAC: c.GatewayMAC, Source: c.Source, TTL: c.TTL})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var key [KeySize]byte
	if c.Key != nil {
		key = *c.Key
	} else if key, err = RandomKey(); err != nil {
		return nil, err
	}
	s := &Scanner{cfg: c, tmpl: tmpl, cookie: NewCookie(key)}
	s.rate.Set(c.Rate)
	return s, nil
}

// Rate returns the scan's live rate: Set and Scale take effect at the next
// batch of every sender.
func (s *Scanner) Rate() *Rate { return &s.rate }

// Stats returns a snapshot of the counters, reading the kernel's drop
// count from the RxConn. It may be called at any time.
func (s *Scanner) Stats() Stats {
	if d, err := s.cfg.Rx.Drops(); err == nil {
		s.st.drops.Store(d)
	}
	st := s.st.snapshot()
	s.mu.Lock()
	st.SuspectNets = append([]netip.Prefix(nil), s.suspect...)
	s.mu.Unlock()
	return st
}

func (s *Scanner) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// Run sends every probe, listens for Cooldown after the last, and returns.
// Canceling ctx stops sending and skips the cooldown. Run returns the first
// error of a sender or the receiver; results already delivered stand.
func (s *Scanner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	rxDone := make(chan error, 1)
	go func() { rxDone <- s.receive() }()

	sendCtx := ctx
	if s.cfg.MaxRuntime > 0 {
		var c context.CancelFunc
		sendCtx, c = context.WithTimeout(ctx, s.cfg.MaxRuntime)
		defer c()
	}
	s.st.sendStart.Store(time.Now().UnixNano())
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		sendErr error
	)
	for i := range s.cfg.Senders {
		quota := ^uint64(0)
		if s.cfg.MaxTargets > 0 {
			quota = s.cfg.MaxTargets / uint64(s.cfg.Senders)
			if uint64(i) < s.cfg.MaxTargets%uint64(s.cfg.Senders) {
				quota++
			}
		}
		wg.Go(func() {
			if err := s.send(sendCtx, i, quota); err != nil {
				errOnce.Do(func() { sendErr = err; cancel() })
			}
		})
	}
	wg.Wait()
	end := s.st.lastFrame.Load()
	if end == 0 {
		end = time.Now().UnixNano()
	}
	s.st.sendEnd.Store(end)
	s.logf("rawscan: sending done, cooling down for %v", max(s.cfg.Cooldown, 0))

	if s.cfg.Cooldown > 0 && sendErr == nil {
		t := time.NewTimer(s.cfg.Cooldown)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case err := <-rxDone:
			// The receiver failed early; report it below.
			rxDone <- err
		}
	}
	if d, err := s.cfg.Rx.Drops(); err == nil {
		s.st.drops.Store(d)
	}
	s.closing.Store(true)
	closeErr := s.cfg.Rx.Close()
	rxErr := <-rxDone
	return errors.Join(sendErr, rxErr, closeErr)
}

// send is one sender goroutine.
func (s *Scanner) send(ctx context.Context, thread int, quota uint64) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tx, err := s.cfg.Tx(thread)
	if err != nil {
		return fmt.Errorf("rawscan: opening sender %d: %w", thread, err)
	}
	defer func() { err = errors.Join(err, tx.Close()) }()
	// Sending ends when the last sender has handed its last frame to the
	// kernel, before it closes its socket: closing an AF_PACKET socket
	// waits for an RCU grace period (packet_release, synchronize_net),
	// which on a loaded host takes up to a few hundred milliseconds.
	defer func() { s.st.endSend(time.Now()) }()

	share := 1 / float64(s.cfg.Senders)
	p := &pacer{rate: &s.rate, share: share, clk: realClock{}}
	gap := 65536
	if r := s.rate.Get() * share; r > 0 {
		gap = max(int(r*s.cfg.ProbeSpacing.Seconds()), 1)
	}
	sched := newSchedule(s.cfg.Targets(thread), s.cfg.OptOut, quota, s.cfg.Probes, gap)
	cookie := s.cookie.Clone()
	ports := s.cfg.SourcePorts
	frames := make([][]byte, BatchSize)
	for i := range frames {
		frames[i] = s.tmpl.Frame(make([]byte, FrameLen))
	}
	for done := false; !done; {
		if ctx.Err() != nil {
			return nil
		}
		want := p.batchFor()
		n, cost := 0, 0
		for cost < want {
			pr, ok, empty := sched.next()
			if !ok {
				done = true
				break
			}
			cost++
			if empty {
				continue
			}
			v := cookie.Sum(s.cfg.Source, pr.addr, pr.port)
			s.tmpl.Stamp(frames[n], pr.addr, pr.port, sourcePort(ports, v, pr.k), v.Seq, v.IPID)
			n++
		}
		s.st.targets.Add(sched.drawn)
		s.st.skippedOptOut.Add(sched.skipped)
		sched.drawn, sched.skipped = 0, 0
		if cost == 0 {
			break
		}
		p.wait(cost)
		for off := 0; off < n; {
			m, err := tx.WriteBatch(frames[off:n])
			off += m
			s.st.sent.Add(uint64(m))
			if err != nil {
				return fmt.Errorf("rawscan: sender %d: %w", thread, err)
			}
		}
	}
	return nil
}

// receive is the receiver goroutine. It returns nil once Run has closed the
// RxConn.
func (s *Scanner) receive() error {
	bufs := make([][]byte, BatchSize)
	for i := range bufs {
		bufs[i] = make([]byte, rxBufSize)
	}
	sizes := make([]int, BatchSize)
	v := NewValidator(s.cookie.Clone(), s.cfg.Source, s.cfg.SourcePorts, s.cfg.Probes)
	// The dedup structure is made on the first valid reply: the window's
	// map is sized up front (tens of MiB) and a scan may get no reply.
	var dd dedup
	proxy := newProxyDetector()
	defer func() {
		s.mu.Lock()
		s.suspect = proxy.suspects()
		s.mu.Unlock()
	}()
	var (
		r   Reply
		res Result
	)
	for {
		n, err := s.cfg.Rx.ReadBatch(bufs, sizes)
		if err != nil {
			if s.closing.Load() {
				// Closed by Run after the cooldown.
				return nil
			}
			return fmt.Errorf("rawscan: receiver: %w", err)
		}
		now := time.Now()
		s.st.received.Add(uint64(n))
		for i := range n {
			if r.Decode(bufs[i][:sizes[i]]) != nil {
				s.st.undecodable.Add(1)
				continue
			}
			switch v.Check(&r, &res) {
			case Stray:
				s.st.stray.Add(1)
				continue
			case Forged:
				s.st.forged.Add(1)
				continue
			}
			s.st.valid.Add(1)
			if s.cfg.OptOut != nil && s.cfg.OptOut.Contains(res.Addr) {
				s.st.optOutReplies.Add(1)
				continue
			}
			if dd == nil {
				if s.cfg.SinglePort {
					dd = new(bitmap)
				} else {
					dd = newWindow(s.cfg.DedupWindow)
				}
			}
			if dd.seen(res.Addr, res.Port) {
				s.st.duplicates.Add(1)
				continue
			}
			res.Time, res.Flags = now, 0
			switch res.Kind {
			case KindSynAck:
				s.st.synack.Add(1)
				if proxy.observe(&res) {
					res.Flags |= FlagSuspectProxy
					s.st.suspect.Add(1)
				}
			case KindRST:
				s.st.rst.Add(1)
			case KindICMPUnreach:
				s.st.icmp.Add(1)
			}
			if s.cfg.Results != nil {
				s.cfg.Results(&res)
			}
		}
	}
}
