package smbprobe

import (
	"context"
	"errors"
	"os"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"
)

// guestFollowUp runs the opt-in guest follow-up (Config.Shares) that fits
// the server: over SMB2 through go-smb2 when SMB2 was negotiated, else over
// SMB1 (smb1guest.go) when SMB1 is on. It returns nil when neither is.
func (p *Prober) guestFollowUp(ctx context.Context, addr, host string, deadline time.Time, netbios bool, smb *SMB) *Guest {
	switch {
	case smb.Dialect != "":
		return p.guest(ctx, addr, deadline, netbios)
	case smb.SMB1 != nil && smb.SMB1.Enabled:
		return p.guestSMB1(ctx, addr, host, deadline, netbios)
	}
	return nil
}

// guest is the opt-in follow-up (Config.Shares) on a third connection: a
// logon as user "guest" with an empty password through go-smb2 v1.1.0, then
// NetrShareEnum through IPC$ for the share names.
//
// go-smb2 refuses anonymous logons (client.go: "Anonymous account is not
// supported yet"), so a guest logon is what it can do; against Samba's
// "map to guest = Bad User" an unknown user "guest" becomes the guest
// account. go-smb2 hides the SESSION_SETUP SessionFlags (MS-SMB2 §2.2.6),
// so EncryptionRequired is inferred: a guest cannot encrypt, and a server
// that requires encryption answers a guest logon with STATUS_ACCESS_DENIED
// (Samba 4.17 with "server smb encrypt = required", observed).
func (p *Prober) guest(ctx context.Context, addr string, deadline time.Time, netbios bool) *Guest {
	g := &Guest{}
	s, err := p.dial(ctx, addr, deadline)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	defer s.close()
	if netbios {
		if _, err := s.netbiosSession(); err != nil {
			g.Error = err.Error()
			return g
		}
	}
	s.conn.SetDeadline(deadline)
	d := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: "guest"}}
	if netbios {
		d.Negotiator.SpecifiedDialect = dialect302 // no 3.1.1 over NetBIOS
	}
	sess, err := d.DialContext(ctx, s.conn)
	if err != nil {
		// go-smb2 turns STATUS_ACCESS_DENIED into os.ErrPermission
		// (conn.go accept); other statuses stay *smb2.ResponseError.
		var re *smb2.ResponseError
		if errors.Is(err, os.ErrPermission) || errors.As(err, &re) && re.Code == statusAccessDenied {
			g.EncryptionRequired = true
		}
		g.Error = err.Error()
		return g
	}
	defer sess.Logoff()
	g.Allowed = true
	names, err := sess.WithContext(ctx).ListSharenames()
	if err != nil {
		g.Error = err.Error()
		return g
	}
	g.Shares = names
	return g
}
