package smbprobe

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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
	// ConnectTimeout bounds each TCP handshake. Default 3 s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds each wait for a reply. Default 5 s.
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
	bufs    sync.Pool // *[]byte of cfg.MaxMessageSize, taken once a reply arrives
	ownDial bool      // cfg.Dial is ours: its sockets got dialControl's options
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
	if c.Rand == nil {
		c.Rand = rand.Reader
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
	n := c.MaxMessageSize
	p.bufs.New = func() any { b := make([]byte, n); return &b }
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
func (p *Prober) Probe(ctx context.Context, target netip.AddrPort) *Result {
	start := time.Now()
	r := &Result{IP: target.Addr().Unmap(), Port: target.Port(), Timestamp: start.UTC()}
	deadline := start.Add(p.cfg.HostTimeout)
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	addr := netip.AddrPortFrom(r.IP, r.Port).String()
	netbios := r.Port == 139

	var b *SMB1
	var wg sync.WaitGroup
	if !p.cfg.SkipSMB1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b = p.probeSMB1(hctx, addr, deadline, netbios)
		}()
	}
	smb := &SMB{}
	stage, err := p.probeSMB2(hctx, addr, deadline, netbios, smb)
	wg.Wait()
	smb.SMB1 = b

	switch {
	case err == nil:
		r.Status = StatusSuccess
	case stage == stageNegotiate && b != nil && b.Enabled:
		// An SMB1-only server (Samba: EOF; impacket: STATUS_NOT_SUPPORTED).
		r.Status = StatusSuccess
		smb.SMB2Error = stageError(stage, err)
	default:
		r.Status = classify(ctx, err, stage == stageConnect)
		r.Error = stageError(stage, err)
		p.logf("smbprobe: %s: %s", addr, r.Error)
	}
	if stage == stageConnect && err != nil && !(b != nil && b.Enabled) && smb.NetBIOS == nil {
		return r // nothing learned
	}
	if p.cfg.Shares && ctx.Err() == nil {
		smb.Guest = p.guestFollowUp(hctx, addr, r.IP.String(), deadline, netbios, smb)
	}
	r.SMB = smb
	r.Flags = fingerprint(smb)
	return r
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

// probeSMB2 runs connection A: NEGOTIATE (MS-SMB2 §2.2.3/§2.2.4), then
// SESSION_SETUP with an SPNEGO-wrapped NTLM NEGOTIATE (§2.2.5/§2.2.6,
// MS-NLMP §2.2.1.1), reading the CHALLENGE (MS-NLMP §2.2.1.2). No
// AUTHENTICATE is ever sent. It fills smb and returns the failed stage.
func (p *Prober) probeSMB2(ctx context.Context, addr string, deadline time.Time, netbios bool, smb *SMB) (string, error) {
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		return stageConnect, err
	}
	defer s.close()
	if netbios {
		nb, err := s.netbiosSession()
		if nb.Response != "" {
			smb.NetBIOS = &nb
		}
		if err != nil {
			return stageNetBIOS, err
		}
	}
	var req negotiateRequest
	if _, err := io.ReadFull(p.cfg.Rand, req.ClientGUID[:]); err != nil {
		return stageNegotiate, err
	}
	if _, err := io.ReadFull(p.cfg.Rand, req.Salt[:]); err != nil {
		return stageNegotiate, err
	}
	// MS-SMB2 §3.2.4.2.2.2: no 3.1.1 over the NetBIOS transport.
	req.NoSMB311 = netbios
	msg := appendNegotiateRequest(make([]byte, 0, 256), &req)
	resp, err := s.roundTrip(msg)
	if err != nil {
		return stageNegotiate, err
	}
	neg, err := parseNegotiateResponse(resp)
	if err != nil {
		return stageNegotiate, err
	}
	smb.Dialect = dialectName(neg.Dialect)
	smb.Signing = &Signing{Enabled: neg.SecurityMode&smb2SecSigEn != 0, Required: neg.SecurityMode&smb2SecSigRq != 0}
	smb.Capabilities = capabilityNames(neg.Capabilities)
	smb.serverGUID = neg.ServerGUID
	smb.ServerGUID = guidString(neg.ServerGUID)
	smb.SystemTime = filetime(neg.SystemTime)
	smb.ServerStartTime = filetime(neg.ServerStartTime)
	smb.MaxReadSize, smb.MaxWriteSize, smb.MaxTransactSize = neg.MaxReadSize, neg.MaxWriteSize, neg.MaxTransactSize
	smb.Contexts = decodeContexts(neg.Contexts)
	if len(neg.SecurityBuffer) > 0 {
		// A bad SPNEGO blob loses only the mech list.
		mechs, err := parseNegTokenInit(neg.SecurityBuffer)
		smb.SPNEGOMechs = mechs
		if err != nil {
			p.logf("smbprobe: %s: spnego mechTypes: %v", addr, err)
		}
	}

	msg = appendSessionSetupRequest(msg[:0], appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
	resp, err = s.roundTrip(msg)
	if err != nil {
		return stageSessionSetup, err
	}
	ss, err := parseSessionSetupResponse(resp)
	if err != nil {
		return stageSessionSetup, err
	}
	if ss.Status != statusMoreProcessingRequired {
		return stageSessionSetup, fmt.Errorf("%w: session setup status 0x%08x without a challenge", ErrMalformed, ss.Status)
	}
	tok, err := parseNegTokenResp(ss.SecurityBuffer)
	if err != nil {
		return stageSessionSetup, err
	}
	ch, err := parseChallenge(tok)
	if err != nil {
		return stageSessionSetup, err
	}
	smb.NTLM = ntlmResult(ch)
	return "", nil
}

// probeSMB1 runs connection B: an SMB_COM_NEGOTIATE offering only
// "NT LM 0.12" (MS-CIFS §2.2.4.52), then, if SMB1 is on, one extended
// security SESSION_SETUP_ANDX (MS-SMB §2.2.4.6) for NativeOS, NativeLanMan
// and PrimaryDomain.
func (p *Prober) probeSMB1(ctx context.Context, addr string, deadline time.Time, netbios bool) *SMB1 {
	out := &SMB1{}
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		out.Outcome = string(classify(ctx, err, true))
		out.Error = err.Error()
		return out
	}
	defer s.close()
	if netbios {
		if _, err := s.netbiosSession(); err != nil {
			out.Outcome = smb1Outcome(ctx, err)
			out.Error = fmt.Sprintf("%s: %v", stageNetBIOS, err)
			return out
		}
	}
	msg := appendSMB1Negotiate(make([]byte, 0, 256))
	resp, err := s.roundTrip(msg)
	if err != nil {
		out.Outcome = smb1Outcome(ctx, err)
		out.Error = err.Error()
		return out
	}
	neg, err := parseSMB1Negotiate(resp)
	if err != nil {
		out.Outcome = smb1Outcome(ctx, err)
		out.Error = err.Error()
		return out
	}
	if neg.DialectIndex == 0xFFFF {
		out.Outcome = "no-dialect"
		return out
	}
	out.Enabled = true
	out.Outcome = "negotiated"
	sm := neg.SecurityMode
	out.SecurityMode = &sm
	// SecurityMode bits, MS-CIFS §2.2.4.52.2: 0x04 signatures enabled,
	// 0x08 signatures required.
	out.Signing = &Signing{Enabled: sm&0x04 != 0, Required: sm&0x08 != 0}
	out.Capabilities = neg.Capabilities
	out.MaxBufferSize = neg.MaxBufferSize
	out.MaxMpxCount = neg.MaxMpxCount
	out.SystemTime = filetime(neg.SystemTime)
	tz := neg.TimeZone
	out.TimeZone = &tz
	if neg.HasExtSecurity {
		out.serverGUID = neg.ServerGUID
		out.ServerGUID = guidString(neg.ServerGUID)
	}

	msg = appendSMB1SessionSetup(msg[:0], appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
	resp, err = s.roundTrip(msg)
	if err != nil {
		out.Error = fmt.Sprintf("smb1 session setup: %v", err)
		return out
	}
	ss, err := parseSMB1SessionSetup(resp)
	if err != nil {
		out.Error = fmt.Sprintf("smb1 session setup: %v", err)
		return out
	}
	out.NativeOS, out.NativeLanMan, out.Domain = ss.NativeOS, ss.NativeLanMan, ss.PrimaryDomain
	if len(ss.SecurityBlob) > 0 {
		tok, err := parseNegTokenResp(ss.SecurityBlob)
		if err == nil {
			var ch challenge
			if ch, err = parseChallenge(tok); err == nil {
				out.NTLM = ntlmResult(ch)
			}
		}
		if err != nil {
			out.Error = fmt.Sprintf("smb1 session setup: %v", err)
		}
	}
	return out
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
