package smbprobe

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Config configures a Prober. A nil *Config means all defaults. No field
// needs privileges: the prober uses the kernel's TCP stack through Dial.
type Config struct {
	// Dial opens TCP connections. Nil means a net.Dialer bounded by
	// ConnectTimeout, in the caller's network namespace. Tests and the lab
	// pass a dialer that creates its sockets inside a lab namespace.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Socket, if not nil and Dial is nil, opens the sockets of the Linux
	// reactor: an unconnected, nonblocking, close-on-exec TCP socket of the
	// given family (unix.AF_INET or AF_INET6), for example one created
	// inside a lab namespace. Nil means socket(2) in the caller's network
	// namespace. With Dial set, or off Linux, it is unused.
	Socket func(family int) (fd int, err error)
	// ConnectTimeout bounds each TCP handshake. Default 3 s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds each wait for a reply. Default 5 s. A reply that
	// trickles in too slowly to be complete by then ends as soon as that is
	// certain (trickle.go).
	ReadTimeout time.Duration
	// HostTimeout bounds the whole probe of one host, both connections and
	// the optional guest follow-up included. Default 10 s.
	HostTimeout time.Duration
	// MaxMessageSize caps the NBSS length a peer may claim. Default 64 KiB.
	MaxMessageSize int
	// Workers is the number of concurrent probes in Run. Default 256.
	Workers int
	// SubnetProbes is the most probes Run has in flight at once to one
	// subnet (a /24, or a /64 for IPv6: see Subnet), so that one server
	// answering a whole subnet (AnyIP, a NAT, a SYN proxy) gets no more
	// connections than its listen backlog holds. 0 means
	// DefaultSubnetProbes; negative means no bound. Probe ignores it.
	SubnetProbes int
	// SilentProbes is how many probes of one subnet (Subnet) must wait the
	// whole ReadTimeout for their first reply, with no probe of the subnet
	// answering, before the subnet is judged silent (a SYN proxy, a
	// tarpit): its other hosts then get SilentTimeout for their first reply,
	// those already waiting included (silence.go). 0 means
	// DefaultSilentProbes; negative means never.
	SilentProbes int
	// SilentTimeout bounds the first reply of a host in a subnet judged
	// silent. Default DefaultSilentTimeout, and never more than ReadTimeout.
	SilentTimeout time.Duration
	// SkipSMB1 skips connection B, the SMB1-only NEGOTIATE.
	SkipSMB1 bool
	// Shares enables the guest follow-up: a logon as user "guest" with an
	// empty password and a share listing. Off by default, because it logs
	// on to someone else's system.
	Shares bool
	// Rand supplies ClientGuid and preauth salt bytes. Default crypto/rand.
	Rand io.Reader
	// Logf, if not nil, receives one line per failed probe step.
	Logf func(format string, args ...any)
}

// Prober probes SMB servers. It is safe for concurrent use; Run is the
// bounded worker pool around Probe.
type Prober struct {
	cfg     Config
	bufs    sync.Pool // *[]byte of cfg.MaxMessageSize+nbssHeaderLen, taken once a reply arrives
	ownDial bool      // cfg.Dial is ours: its sockets got dialControl's options
	react   *reactor  // nil: every probe runs as blocking sessions
	silence *silence  // nil: Config.SilentProbes < 0
}

// New returns a Prober; cfg nil means defaults.
func New(cfg *Config) *Prober {
	if cfg == nil {
		cfg = &Config{}
	}
	p := &Prober{cfg: *cfg}
	c := &p.cfg
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 3 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 5 * time.Second
	}
	if c.HostTimeout <= 0 {
		c.HostTimeout = 10 * time.Second
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 64 << 10
	}
	if c.Workers <= 0 {
		c.Workers = 256
	}
	if c.SilentProbes == 0 {
		c.SilentProbes = DefaultSilentProbes
	}
	if c.SilentTimeout <= 0 {
		c.SilentTimeout = DefaultSilentTimeout
	}
	c.SilentTimeout = min(c.SilentTimeout, c.ReadTimeout)
	if c.SilentProbes > 0 {
		p.silence = newSilence(c.SilentProbes)
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Dial == nil && c.Socket != nil {
		c.Dial = socketDial(c.Socket) // nil off Linux
		p.ownDial = c.Dial != nil
	}
	if c.Dial == nil {
		// No TCP keepalives: a probe lives seconds, and each keepalive
		// option costs setsockopt calls per connection. dialControl
		// (sockopt_linux.go) saves the handshake's last ACK and makes
		// close send a RST.
		d := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: -1, ControlContext: dialControl}
		c.Dial = d.DialContext
		p.ownDial = true
	}
	// Room for a whole frame, header included: the reactor reads a
	// reply in one call.
	n := c.MaxMessageSize + nbssHeaderLen
	p.bufs.New = func() any { b := make([]byte, n); return &b }
	if p.ownDial {
		p.react = newReactor(p)
	}
	return p
}

func (p *Prober) logf(format string, args ...any) {
	if p.cfg.Logf != nil {
		p.cfg.Logf(format, args...)
	}
}

// Probe asks one host what it is, over two parallel connections (MS-SMB2
// over connection A, SMB1 over connection B), and returns the result. It
// never returns later than HostTimeout after it was called. On port 139 both
// connections start with a NetBIOS session request and 3.1.1 is not offered.
//
// On Linux, without a caller's Config.Dial, both connections of a port-445
// probe run on the Prober's reactor (reactor_linux.go): nonblocking sockets
// under one epoll, driven by one goroutine for all probes in flight, so a
// probe costs its caller one wait instead of a goroutine and a netpoller
// wake-up per reply. Every other probe runs both connections as blocking
// sessions, B on its own goroutine.
func (p *Prober) Probe(ctx context.Context, target netip.AddrPort) *Result {
	pd := p.begin(ctx, target)
	var err error
	if pd.onReactor() {
		err = p.react.probe(ctx, pd.target, pd.deadline, pd.a, pd.b)
	} else {
		err = p.probeBlocking(ctx, pd.addr, pd.deadline, pd.netbios, pd.a, pd.b)
	}
	return pd.finish(err)
}

// pending is a Probe under way: its target, deadline and dialogs, and the
// Result they will fill.
type pending struct {
	p        *Prober
	ctx      context.Context
	target   netip.AddrPort // unmapped
	r        *Result
	deadline time.Time
	addr     string
	netbios  bool
	smb      *SMB
	a        *smb2Dialog
	b        *smb1Dialog // nil with SkipSMB1
}

// begin prepares a probe of target.
func (p *Prober) begin(ctx context.Context, target netip.AddrPort) *pending {
	start := time.Now()
	r := &Result{IP: target.Addr().Unmap(), Port: target.Port(), Timestamp: start.UTC()}
	pd := &pending{
		p:        p,
		ctx:      ctx,
		target:   netip.AddrPortFrom(r.IP, r.Port),
		r:        r,
		deadline: start.Add(p.cfg.HostTimeout),
		netbios:  r.Port == 139,
		smb:      &SMB{},
	}
	pd.addr = pd.target.String()
	pd.a = &smb2Dialog{p: p, addr: pd.addr, netbios: pd.netbios, smb: pd.smb, msg: make([]byte, 0, 256)}
	if !p.cfg.SkipSMB1 {
		pd.b = &smb1Dialog{out: &SMB1{}, msg: make([]byte, 0, 256)}
	}
	return pd
}

// onReactor reports whether both connections run on the Prober's reactor.
func (pd *pending) onReactor() bool {
	return pd.p.react != nil && !pd.netbios
}

// finish fills the Result from the dialogs and err, connection A's error,
// and runs the guest follow-up if Config.Shares asks for it (blocking).
func (pd *pending) finish(err error) *Result {
	p, ctx, r, smb, addr := pd.p, pd.ctx, pd.r, pd.smb, pd.addr
	stage := pd.a.stage
	if pd.b != nil {
		smb.SMB1 = pd.b.out
	}

	switch {
	case err == nil:
		r.Status = StatusSuccess
	case stage == stageNegotiate && smb.SMB1 != nil && smb.SMB1.Enabled:
		// An SMB1-only server (Samba: EOF; impacket: STATUS_NOT_SUPPORTED).
		r.Status = StatusSuccess
		smb.SMB2Error = stageError(stage, err)
	default:
		r.Status = classify(ctx, err, stage == stageConnect)
		r.Error = stageError(stage, err)
		p.logf("smbprobe: %s: %s", addr, r.Error)
	}
	if stage == stageConnect && err != nil && !(smb.SMB1 != nil && smb.SMB1.Enabled) && smb.NetBIOS == nil {
		return r // nothing learned
	}
	if p.cfg.Shares && ctx.Err() == nil {
		hctx, cancel := context.WithDeadline(ctx, pd.deadline)
		smb.Guest = p.guestFollowUp(hctx, addr, r.IP.String(), pd.deadline, pd.netbios, smb)
		cancel()
	}
	r.SMB = smb
	r.Flags = fingerprint(smb)
	if pd.a.cut {
		r.Flags = append(r.Flags, FlagSilentSubnet)
	}
	return r
}

// probeBlocking runs connection A on the calling goroutine and B, if
// asked, on another, each as a blocking session, and returns A's error
// (a.stage names where it failed).
func (p *Prober) probeBlocking(ctx context.Context, addr string, deadline time.Time, netbios bool, a *smb2Dialog, b *smb1Dialog) error {
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	if b != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.probeSMB1(hctx, addr, deadline, netbios, b)
		}()
	}
	err := p.probeSMB2(hctx, addr, deadline, netbios, a)
	wg.Wait()
	return err
}

// stageError prefixes err with the stage unless it names its operation.
func stageError(stage string, err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return err.Error()
	}
	return stage + ": " + err.Error()
}

// Probe stages, named in Result.Error.
const (
	stageConnect      = "connect"
	stageNetBIOS      = "netbios session request"
	stageNegotiate    = "smb2 negotiate"
	stageSessionSetup = "smb2 session setup"
)

// probeSMB2 runs connection A (smb2Dialog) as a blocking session. It
// fills the dialog's SMB and returns the failed stage's error.
func (p *Prober) probeSMB2(ctx context.Context, addr string, deadline time.Time, netbios bool, d *smb2Dialog) (err error) {
	d.stage = stageConnect
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		return err
	}
	defer func() {
		d.cut = s.wasCut()
		s.close()
		judgeSilence(p.silence, p.react, s.subnet, s.silentEnd(err) && ctx.Err() != context.Canceled, false)
	}()
	if netbios {
		d.stage = stageNetBIOS
		nb, err := s.netbiosSession()
		if nb.Response != "" {
			d.smb.NetBIOS = &nb
		}
		if err != nil {
			return err
		}
	}
	d.stage = stageNegotiate
	return s.converse(d)
}

// probeSMB1 runs connection B (smb1Dialog) as a blocking session.
func (p *Prober) probeSMB1(ctx context.Context, addr string, deadline time.Time, netbios bool, d *smb1Dialog) {
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		d.fail(ctx, err, true, false)
		return
	}
	defer s.close()
	if netbios {
		if _, err := s.netbiosSession(); err != nil {
			d.fail(ctx, err, false, true)
			return
		}
	}
	if err := s.converse(d); err != nil {
		d.fail(ctx, err, false, false)
	}
}

// smb1Outcome names how connection B ended when SMB1 was not negotiated.
// Windows without SMB1 disconnects (MS-SMB2 §3.3.5.3.2), often with a RST.
func smb1Outcome(ctx context.Context, err error) string {
	if errors.Is(err, syscall.ECONNRESET) {
		return "connection-reset"
	}
	var se *StatusError
	if errors.As(err, &se) {
		return "error-status"
	}
	return string(classify(ctx, err, false))
}

// classify maps an error to a Status. dial marks errors of the TCP connect.
func classify(ctx context.Context, err error, dial bool) Status {
	var se *StatusError
	switch {
	case ctx.Err() == context.Canceled || errors.Is(err, context.Canceled):
		return StatusCanceled
	case dial && errors.Is(err, syscall.ECONNREFUSED):
		return StatusConnectionRefused
	case dial && (errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)):
		return StatusUnreachable
	case dial && isTimeout(err):
		return StatusConnectionTimeout
	case dial:
		return StatusUnknownError
	case isTimeout(err):
		return StatusIOTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return StatusConnectionClosed
	case errors.Is(err, ErrNotSMB):
		return StatusNotSMB
	case errors.Is(err, ErrNetBIOSRefused):
		return StatusNetBIOSRefused
	case errors.Is(err, ErrTooLong), errors.Is(err, ErrTruncated), errors.Is(err, ErrMalformed), errors.As(err, &se):
		return StatusProtocolError
	}
	return StatusUnknownError
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
