package lab_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirochachacha/go-smb2"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

// smb2Negotiate builds an SMB2 NEGOTIATE (MS-SMB2 §2.2.3) offering
// 2.0.2 to 3.1.1 with the mandatory PREAUTH context (§2.2.3.1.1) behind a
// Direct TCP header (§2.1). It is the test's own, independent of smbprobe.
func smb2Negotiate() []byte {
	m := make([]byte, 64, 160)
	copy(m, "\xfeSMB")
	binary.LittleEndian.PutUint16(m[4:], 64) // StructureSize
	binary.LittleEndian.PutUint16(m[14:], 1) // CreditRequest
	body := make([]byte, 36)
	binary.LittleEndian.PutUint16(body[0:], 36)   // StructureSize
	binary.LittleEndian.PutUint16(body[2:], 5)    // DialectCount
	binary.LittleEndian.PutUint16(body[4:], 1)    // SecurityMode: signing enabled
	binary.LittleEndian.PutUint32(body[8:], 0x7f) // Capabilities
	_, _ = rand.Read(body[12:28])                 // ClientGuid
	binary.LittleEndian.PutUint32(body[28:], 112) // NegotiateContextOffset
	binary.LittleEndian.PutUint16(body[32:], 1)   // NegotiateContextCount
	m = append(m, body...)
	for _, d := range []uint16{0x0202, 0x0210, 0x0300, 0x0302, 0x0311} {
		m = binary.LittleEndian.AppendUint16(m, d)
	}
	m = append(m, 0, 0)                         // pad to 112
	m = binary.LittleEndian.AppendUint16(m, 1)  // PREAUTH_INTEGRITY_CAPABILITIES
	m = binary.LittleEndian.AppendUint16(m, 38) // DataLength
	m = append(m, 0, 0, 0, 0)
	m = binary.LittleEndian.AppendUint16(m, 1)  // HashAlgorithmCount
	m = binary.LittleEndian.AppendUint16(m, 32) // SaltLength
	m = binary.LittleEndian.AppendUint16(m, 1)  // SHA-512
	salt := make([]byte, 32)
	_, _ = rand.Read(salt)
	m = append(m, salt...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...)
}

// smb1Negotiate is SMB_COM_NEGOTIATE offering only "NT LM 0.12" (MS-CIFS
// §2.2.4.52.1).
func smb1Negotiate() []byte {
	m := make([]byte, 32)
	copy(m, "\xffSMB\x72")
	m[9] = 0x18                                   // Flags
	binary.LittleEndian.PutUint16(m[10:], 0xc853) // Flags2
	dialects := []byte("\x02NT LM 0.12\x00")
	m = append(m, 0) // WordCount
	m = binary.LittleEndian.AppendUint16(m, uint16(len(dialects)))
	m = append(m, dialects...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...)
}

// readNBSS reads one Direct TCP message (4-byte header, MS-SMB2 §2.1).
func readNBSS(c net.Conn) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:]) & 0xffffff
	if n > 1<<16 {
		return nil, errors.New("message too long")
	}
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

var dialectNames = map[uint16]string{0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1"}

// negotiated is what one server answered.
type negotiated struct {
	dialect         string // "" if no SMB2
	signingRequired bool
	smb1            bool
}

func negotiate(t *testing.T, l *lab.Lab, ap netip.AddrPort) negotiated {
	t.Helper()
	var got negotiated
	exchange := func(req []byte) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := l.DialContext(ctx, "tcp4", ap.String())
		if err != nil {
			t.Fatalf("dial %v: %v", ap, err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			t.Fatalf("write %v: %v", ap, err)
		}
		resp, err := readNBSS(c)
		if err != nil {
			return nil // EOF or RST: not spoken
		}
		return resp
	}
	// SMB2 NEGOTIATE response: Status at header offset 8, SecurityMode
	// at 64+2, DialectRevision at 64+4 (MS-SMB2 §2.2.1.2, §2.2.4).
	if r := exchange(smb2Negotiate()); len(r) >= 72 && bytes.HasPrefix(r, []byte("\xfeSMB")) && binary.LittleEndian.Uint32(r[8:]) == 0 {
		got.dialect = dialectNames[binary.LittleEndian.Uint16(r[68:])]
		got.signingRequired = binary.LittleEndian.Uint16(r[66:])&2 != 0
	}
	// SMB1 on: WordCount 17 and DialectIndex 0 (MS-CIFS §2.2.4.52.2).
	if r := exchange(smb1Negotiate()); len(r) >= 35 && bytes.HasPrefix(r, []byte("\xffSMB")) {
		got.smb1 = r[32] == 17 && binary.LittleEndian.Uint16(r[33:]) == 0
	}
	return got
}

var dialectCodes = map[string]uint16{"2.0.2": 0x0202, "2.1": 0x0210, "3.0": 0x0300, "3.0.2": 0x0302, "3.1.1": 0x0311}

// goSMB2 logs in as guest with go-smb2 forcing dialect, and lists shares.
func goSMB2(l *lab.Lab, ap netip.AddrPort, dialect uint16) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := l.DialContext(ctx, "tcp4", ap.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	d := &smb2.Dialer{
		Negotiator: smb2.Negotiator{SpecifiedDialect: dialect},
		Initiator:  &smb2.NTLMInitiator{User: "guest"},
	}
	s, err := d.DialContext(ctx, c)
	if err != nil {
		return nil, err
	}
	defer s.Logoff()
	return s.ListSharenames()
}

// TestIntegrationServers brings up the Samba matrix and the hostile hosts
// and checks each against its expectation.
func TestIntegrationServers(t *testing.T) {
	skipUnlessRoot(t)
	before := rootSnapshot(t)
	start := time.Now()
	l := labtest.New(t, &lab.Config{Samba: true, Hostile: true})
	t.Logf("up with Samba and hostile hosts in %v", time.Since(start))
	st := l.Status()
	if len(st.Servers) < 10 {
		t.Fatalf("got %d servers, want the matrix", len(st.Servers))
	}

	for _, s := range st.Servers {
		t.Run("samba/"+s.Name+"/"+strconv.Itoa(int(s.Port)), func(t *testing.T) {
			ap := netip.AddrPortFrom(s.Address, s.Port)
			got := negotiate(t, l, ap)
			want := negotiated{dialect: s.Expect.Dialect, signingRequired: s.Expect.SigningRequired, smb1: s.Expect.SMB1}
			if got != want {
				t.Errorf("raw negotiate %v: got %+v, want %+v", ap, got, want)
			}
			if s.Prefix.IsValid() {
				// Another address of the AnyIP /24 answers the same.
				other := netip.AddrPortFrom(lastOf(s.Prefix).Prev(), s.Port)
				if got := negotiate(t, l, other); got != want {
					t.Errorf("raw negotiate %v: got %+v, want %+v", other, got, want)
				}
			}
			if s.Expect.Dialect == "" || s.Port != 445 {
				return
			}
			// go-smb2, the independent client: it completes a guest session
			// at exactly the expected dialect...
			shares, err := goSMB2(l, ap, dialectCodes[s.Expect.Dialect])
			switch {
			case s.Expect.EncryptionRequired:
				// go-smb2 does not encrypt a guest session: Samba refuses it.
				if err == nil {
					t.Errorf("go-smb2 at %v: guest session succeeded, want refusal (encryption required)", ap)
				}
			case err != nil:
				t.Errorf("go-smb2 at %v dialect %s: %v", ap, s.Expect.Dialect, err)
			default:
				hasPublic := false
				for _, sh := range shares {
					hasPublic = hasPublic || sh == "public"
				}
				if hasPublic != s.Expect.Guest {
					t.Errorf("go-smb2 at %v: shares %v, want public=%v", ap, shares, s.Expect.Guest)
				}
			}
			// ...and none above it.
			if s.Expect.Dialect == "2.1" {
				if _, err := goSMB2(l, ap, 0x0311); err == nil {
					t.Errorf("go-smb2 at %v negotiated 3.1.1, want at most 2.1", ap)
				}
			}
		})
	}

	for _, h := range st.Hostile {
		t.Run("hostile/"+h.Name, func(t *testing.T) { checkHostile(t, l, h) })
	}

	gone := st.Processes
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, st, gone)
	if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
		t.Errorf("root namespace changed (-before +after):\n%s", diff)
	}
}

func lastOf(p netip.Prefix) netip.Addr {
	a := p.Addr()
	for n := 0; n < 1<<(32-p.Bits())-1; n++ {
		a = a.Next()
	}
	return a
}

func checkHostile(t *testing.T, l *lab.Lab, h lab.Hostile) {
	ap := netip.AddrPortFrom(h.Address, h.Port)
	if h.Prefix.IsValid() {
		ap = netip.AddrPortFrom(lastOf(h.Prefix).Prev(), 31337)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := l.DialContext(ctx, "tcp4", ap.String())
	if err != nil {
		t.Fatalf("dial %v: %v", ap, err)
	}
	defer c.Close()
	_, _ = c.Write(smb2Negotiate())
	buf := make([]byte, 8192)
	switch h.Name {
	case "silent", "synproxy":
		_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
		n, err := c.Read(buf)
		if !isTimeout(err) {
			t.Errorf("%v: read %d bytes, err %v; want silence", ap, n, err)
		}
	case "slow":
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var at []time.Time
		for range 3 {
			n, err := c.Read(buf[:1])
			if n != 1 || err != nil {
				t.Fatalf("%v: read %d, %v", ap, n, err)
			}
			at = append(at, time.Now())
		}
		if gap := at[2].Sub(at[1]); gap < 800*time.Millisecond {
			t.Errorf("%v: bytes %v apart, want about 1 s", ap, gap)
		}
	case "huge":
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadFull(c, buf[:4]); err != nil || binary.BigEndian.Uint32(buf) != 0xffffffff {
			t.Errorf("%v: header % x, %v; want ff ff ff ff", ap, buf[:4], err)
		}
	case "garbage":
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil || len(b) != 4096 {
			t.Errorf("%v: got %d bytes, %v; want 4096 then EOF", ap, len(b), err)
		}
	case "reset":
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, err := io.ReadAll(c)
		if !errors.Is(err, syscall.ECONNRESET) || len(b) == 0 || len(b) >= 28 {
			t.Errorf("%v: got %d bytes, %v; want part of a reply, then ECONNRESET", ap, len(b), err)
		}
	default:
		t.Fatalf("no check for hostile host %q", h.Name)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
