package smbprobe

import (
	"context"
	"fmt"
	"io"
)

// A dialog is the protocol side of one probe connection, apart from how
// its bytes move: first returns the first request, reply consumes each
// reply frame and returns the next request, or nil when the connection
// has told us all it will. Both transports drive dialogs: the blocking
// session (conn.go) and, on Linux, the reactor (reactor_linux.go). A
// dialog is used by one goroutine at a time; reply frames alias the
// transport's buffer, so a dialog copies what it keeps.
type dialog interface {
	first() ([]byte, error)
	reply(frame []byte) ([]byte, error)
}

// smb2Dialog is connection A: NEGOTIATE (MS-SMB2 §2.2.3/§2.2.4), then
// SESSION_SETUP with an SPNEGO-wrapped NTLM NEGOTIATE (§2.2.5/§2.2.6,
// MS-NLMP §2.2.1.1), reading the CHALLENGE (MS-NLMP §2.2.1.2). No
// AUTHENTICATE is ever sent. It fills smb; stage names the step that is
// running, for the error of a failed one.
type smb2Dialog struct {
	p       *Prober
	addr    string
	netbios bool
	smb     *SMB
	stage   string
	msg     []byte // request buffer, reused for both requests
	cut     bool   // the first reply was given SilentTimeout (silence.go)
}

// first returns the NEGOTIATE; the driver sets stage to stageNegotiate
// once connected.
func (d *smb2Dialog) first() ([]byte, error) {
	var req negotiateRequest
	if _, err := io.ReadFull(d.p.cfg.Rand, req.ClientGUID[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(d.p.cfg.Rand, req.Salt[:]); err != nil {
		return nil, err
	}
	// MS-SMB2 §3.2.4.2.2.2: no 3.1.1 over the NetBIOS transport.
	req.NoSMB311 = d.netbios
	d.msg = appendNegotiateRequest(d.msg[:0], &req)
	return d.msg, nil
}

func (d *smb2Dialog) reply(resp []byte) ([]byte, error) {
	switch d.stage {
	case stageNegotiate:
		if err := d.negotiated(resp); err != nil {
			return nil, err
		}
		d.stage = stageSessionSetup
		d.msg = appendSessionSetupRequest(d.msg[:0], appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
		return d.msg, nil
	case stageSessionSetup:
		return nil, d.challenged(resp)
	}
	return nil, fmt.Errorf("smbprobe: smb2 dialog: reply in stage %q", d.stage)
}

// negotiated records the NEGOTIATE response (MS-SMB2 §2.2.4).
func (d *smb2Dialog) negotiated(resp []byte) error {
	neg, err := parseNegotiateResponse(resp)
	if err != nil {
		return err
	}
	smb := d.smb
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
			d.p.logf("smbprobe: %s: spnego mechTypes: %v", d.addr, err)
		}
	}
	return nil
}

// challenged records the SESSION_SETUP response's NTLM CHALLENGE.
func (d *smb2Dialog) challenged(resp []byte) error {
	ss, err := parseSessionSetupResponse(resp)
	if err != nil {
		return err
	}
	if ss.Status != statusMoreProcessingRequired {
		return fmt.Errorf("%w: session setup status 0x%08x without a challenge", ErrMalformed, ss.Status)
	}
	tok, err := parseNegTokenResp(ss.SecurityBuffer)
	if err != nil {
		return err
	}
	ch, err := parseChallenge(tok)
	if err != nil {
		return err
	}
	d.smb.NTLM = ntlmResult(ch)
	return nil
}

// smb1Dialog is connection B: an SMB_COM_NEGOTIATE offering only
// "NT LM 0.12" (MS-CIFS §2.2.4.52), then, if SMB1 is on, one extended
// security SESSION_SETUP_ANDX (MS-SMB §2.2.4.6) for NativeOS, NativeLanMan
// and PrimaryDomain. Its outcome, errors included, is data in out.
type smb1Dialog struct {
	out        *SMB1
	negotiated bool // the NEGOTIATE response was read
	msg        []byte
}

func (d *smb1Dialog) first() ([]byte, error) {
	d.msg = appendSMB1Negotiate(d.msg[:0])
	return d.msg, nil
}

func (d *smb1Dialog) reply(resp []byte) ([]byte, error) {
	if d.negotiated {
		return nil, d.sessionSetup(resp)
	}
	neg, err := parseSMB1Negotiate(resp)
	if err != nil {
		return nil, err
	}
	d.negotiated = true
	out := d.out
	if neg.DialectIndex == 0xFFFF {
		out.Outcome = "no-dialect"
		return nil, nil
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
	d.msg = appendSMB1SessionSetup(d.msg[:0], appendNegTokenInit(nil, appendNTLMNegotiate(nil)))
	return d.msg, nil
}

// sessionSetup records the SESSION_SETUP_ANDX response. A failure here
// keeps the outcome "negotiated": SMB1 is on either way.
func (d *smb1Dialog) sessionSetup(resp []byte) error {
	out := d.out
	ss, err := parseSMB1SessionSetup(resp)
	if err != nil {
		return err
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
	return nil
}

// fail records how connection B failed: at connect (dial), at the NetBIOS
// session request (netbios), at the NEGOTIATE, or at the session setup.
func (d *smb1Dialog) fail(ctx context.Context, err error, dial, netbios bool) {
	out := d.out
	switch {
	case dial:
		out.Outcome = string(classify(ctx, err, true))
		out.Error = err.Error()
	case netbios:
		out.Outcome = smb1Outcome(ctx, err)
		out.Error = fmt.Sprintf("%s: %v", stageNetBIOS, err)
	case d.negotiated:
		out.Error = fmt.Sprintf("smb1 session setup: %v", err)
	default:
		out.Outcome = smb1Outcome(ctx, err)
		out.Error = err.Error()
	}
}
