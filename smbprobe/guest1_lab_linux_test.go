package smbprobe_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// logonCounts counts, per target, the requests of a probe that go beyond
// the NTLM NEGOTIATE (MS-NLMP §2.2.1.1): SESSION_SETUPs (SMB2 command 1,
// MS-SMB2 §2.2.5; SMB1 SESSION_SETUP_ANDX 0x73, MS-CIFS §2.2.4.53) by the
// NTLM message they carry, tree connects (SMB2 command 3; SMB1 0x75) and
// SMB1 transactions (0x25), as written on the wire.
type logonCounts struct {
	SessionSetups int // SESSION_SETUP requests of either version
	NTLMNegotiate int // NTLM messages of type 1 in them
	NTLMAuth      int // NTLM AUTHENTICATE (type 3) in any request
	TreeConnects  int
	Transactions  int
}

// countingDialer wraps a lab dialer and parses every NBSS frame the probe
// writes (RFC 1002 §4.3.1: type, 3-byte length).
type countingDialer struct {
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
	mu     sync.Mutex
	counts map[string]*logonCounts
}

func (d *countingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, d: d, addr: address}, nil
}

func (d *countingDialer) get(addr string) logonCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.counts[addr]; c != nil {
		return *c
	}
	return logonCounts{}
}

type countingConn struct {
	net.Conn
	d    *countingDialer
	addr string
	buf  []byte
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.buf = append(c.buf, b...)
	for len(c.buf) >= 4 {
		n := int(c.buf[1]&1)<<16 | int(binary.BigEndian.Uint16(c.buf[2:]))
		if len(c.buf) < 4+n {
			break
		}
		if c.buf[0] == 0 { // session message; 0x81 is the port 139 session request
			c.count(c.buf[4 : 4+n])
		}
		c.buf = c.buf[4+n:]
	}
	return c.Conn.Write(b)
}

func (c *countingConn) count(msg []byte) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	k := c.d.counts[c.addr]
	if k == nil {
		k = &logonCounts{}
		c.d.counts[c.addr] = k
	}
	switch {
	case len(msg) >= 14 && string(msg[:4]) == "\xfeSMB":
		switch binary.LittleEndian.Uint16(msg[12:]) {
		case 1:
			k.SessionSetups++
		case 3:
			k.TreeConnects++
		}
	case len(msg) >= 5 && string(msg[:4]) == "\xffSMB":
		switch msg[4] {
		case 0x73:
			k.SessionSetups++
		case 0x75:
			k.TreeConnects++
		case 0x25:
			k.Transactions++
		}
	}
	if i := bytes.Index(msg, []byte("NTLMSSP\x00")); i >= 0 && len(msg) >= i+12 {
		switch binary.LittleEndian.Uint32(msg[i+8:]) {
		case 1:
			k.NTLMNegotiate++
		case 3:
			k.NTLMAuth++
		}
	}
}

// TestIntegrationGuestLab checks the guest facts against the lab's ground
// truth on every Samba configuration and impacket, SMB2 and SMB1-only
// alike: with Config.Shares the share "public" is listed exactly where a
// guest may read it and encryption_required is right; without it the probe
// sends nothing beyond NTLM NEGOTIATE (no AUTHENTICATE, tree connect or
// transaction), counted on the wire. It needs root; labtest skips it
// otherwise. SMBPROBE_LAB_PREFIX, if set, names the lab.
func TestIntegrationGuestLab(t *testing.T) {
	l := labtest.New(t, &lab.Config{
		Prefix: os.Getenv("SMBPROBE_LAB_PREFIX"),
		Range:  netip.MustParsePrefix("198.18.0.0/22"),
		Open:   -1,
		Closed: -1,
		Samba:  true,
	})
	var servers []lab.Server
	for _, s := range l.Status().Servers {
		if !s.Prefix.IsValid() { // not the AnyIP smbd
			servers = append(servers, s)
		}
	}
	if len(servers) < 10 { // 8 Samba configurations (nbt on 2 ports) and impacket
		t.Fatalf("lab has %d servers: %+v", len(servers), servers)
	}
	for _, shares := range []bool{false, true} {
		d := &countingDialer{dial: l.DialContext, counts: map[string]*logonCounts{}}
		p := smbprobe.New(&smbprobe.Config{Dial: d.DialContext, Shares: shares})
		t.Run(fmt.Sprintf("shares=%v", shares), func(t *testing.T) {
			for _, srv := range servers {
				target := netip.AddrPortFrom(srv.Address, srv.Port)
				t.Run(srv.Name+"/"+target.String(), func(t *testing.T) {
					t.Parallel()
					r := p.Probe(context.Background(), target)
					if r.Status != smbprobe.StatusSuccess || r.SMB == nil {
						t.Fatalf("status %q error %q", r.Status, r.Error)
					}
					got := d.get(target.String())
					if !shares {
						checkNoLogon(t, r, srv, got)
						return
					}
					checkGuest(t, r, srv, got)
				})
			}
		})
	}
}

// checkNoLogon: without Config.Shares, one SESSION_SETUP with NTLM
// NEGOTIATE per protocol spoken, nothing after it.
func checkNoLogon(t *testing.T, r *smbprobe.Result, srv lab.Server, got logonCounts) {
	t.Helper()
	n := 0
	if srv.Expect.Dialect != "" {
		n++
	}
	if srv.Expect.SMB1 {
		n++
	}
	want := logonCounts{SessionSetups: n, NTLMNegotiate: n}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests without Config.Shares (-want +got):\n%s", diff)
	}
	if r.SMB.Guest != nil {
		t.Errorf("guest %+v without Config.Shares", r.SMB.Guest)
	}
}

// checkGuest: with Config.Shares, the lab's guest and encryption facts, and
// the SMB1 follow-up on servers without SMB2.
func checkGuest(t *testing.T, r *smbprobe.Result, srv lab.Server, got logonCounts) {
	t.Helper()
	g, ex := r.SMB.Guest, srv.Expect
	if g == nil {
		t.Fatal("no guest result with Config.Shares")
	}
	if j, err := json.Marshal(g); err == nil {
		t.Logf("guest %s", j)
	}
	if public := slices.ContainsFunc(g.Shares, isPublic); public != ex.Guest {
		t.Errorf("guest %+v: public listed %v, want %v", g, public, ex.Guest)
	}
	if g.EncryptionRequired != ex.EncryptionRequired {
		t.Errorf("guest %+v: encryption_required, want %v", g, ex.EncryptionRequired)
	}
	if got.NTLMAuth != 1 {
		t.Errorf("%d NTLM AUTHENTICATE sent, want 1 (the guest logon): %+v", got.NTLMAuth, got)
	}
	if ex.Dialect != "" {
		return // SMB2 path: go-smb2, checked by TestIntegrationLab
	}
	// SMB1 only: the follow-up's logon, IPC$, one RAP transaction and,
	// where RAP fails, two SRVSVC transactions on \srvsvc.
	wantAsGuest := ex.Software == "samba" // impacket accepts any user as itself
	if !g.Allowed || g.AsGuest == nil || *g.AsGuest != wantAsGuest {
		t.Errorf("guest %+v: want allowed, as_guest %v", g, wantAsGuest)
	}
	wantShares, wantTrans := []string{"IPC$"}, 1
	if ex.Guest {
		wantShares = []string{"public", "IPC$"}
	}
	if ex.Software == "impacket" {
		// impacket 0.10.0 refuses RAP NetShareEnum (its handler fails under
		// Python 3), SRVSVC lists the share the lab names PUBLIC, which
		// a guest can read (share names are case-insensitive).
		wantShares, wantTrans = []string{"IPC$", "PUBLIC"}, 3
	}
	if diff := cmp.Diff(wantShares, g.Shares); diff != "" || g.Error != "" {
		t.Errorf("guest %+v: shares (-want +got):\n%s", g, diff)
	}
	if got.TreeConnects != 1 || got.Transactions != wantTrans {
		t.Errorf("requests %+v: want 1 tree connect and %d transactions", got, wantTrans)
	}
}

// isPublic reports whether a share name is the lab's guest-readable share
// "public"; share names are case-insensitive (impacket's is "PUBLIC").
func isPublic(name string) bool { return strings.EqualFold(name, "public") }
