package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// WriteText writes s as a plain-text summary for a terminal. Control
// characters and invalid UTF-8 in input strings are written as Go escapes
// (\x1b, \u200e), so a hostile name cannot drive the terminal.
func (s *Summary) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("smbsweep report")
	if s.Source != "" {
		p(": %s", safe(s.Source))
	}
	p("\n\n")
	p("%-22s %s", "records", num(s.Records))
	if s.Malformed > 0 {
		var ls []string
		for _, m := range s.MalformedLines {
			ls = append(ls, strconv.FormatUint(m.Line, 10))
		}
		more := ""
		if s.Malformed > uint64(len(s.MalformedLines)) {
			more = ", …"
		}
		p(" (malformed lines skipped: %s; line %s%s)", num(s.Malformed), strings.Join(ls, ", "), more)
	}
	p("\n")
	if !s.First.IsZero() {
		p("%-22s %s to %s\n", "time", s.First.UTC().Format(time.RFC3339), s.Last.UTC().Format(time.RFC3339))
	}
	p("%-22s %s (%s of records)\n", "SMB hosts", num(s.SMBHosts), pct(s.SMBHosts, s.Records))
	p("%-22s %s of %s checked (%s); SMB1 only: %s\n", "SMB1 enabled", num(s.SMB1Enabled), num(s.SMB1Checked), pct(s.SMB1Enabled, s.SMB1Checked), num(s.SMB1Only))
	p("%-22s %s (%s): SMB2/3 %s, SMB1 %s\n", "signing not required", num(s.Signing.AnyNotRequired), pct(s.Signing.AnyNotRequired, s.SMBHosts), num(s.Signing.SMB2NotRequired), num(s.Signing.SMB1NotRequired))
	if s.Guest.Tried > 0 {
		p("%-22s %s of %s tried (%s); %s require encryption\n", "guest logon allowed", num(s.Guest.Allowed), num(s.Guest.Tried), pct(s.Guest.Allowed, s.Guest.Tried), num(s.Guest.EncryptionRequired))
	} else {
		p("%-22s not tried\n", "guest logon")
	}
	p("%-22s honeypot %s, impacket-like %s, syn-proxy %s (any: %s)\n", "suspect", num(s.Suspect.Honeypot), num(s.Suspect.ImpacketLike), num(s.Suspect.SYNProxy), num(s.Suspect.Any))
	if s.SambaHidden > 0 {
		p("%-22s %s (SMB1 off)\n", "Samba, version hidden", num(s.SambaHidden))
	}
	if s.IPv6Records > 0 {
		p("%-22s %s\n", "IPv6 records", num(s.IPv6Records))
	}

	table := func(title string, t Table, denom uint64) {
		p("\n%s\n", title)
		if len(t.Rows) == 0 && t.Other == 0 {
			p("  (none)\n")
			return
		}
		for _, r := range t.Rows {
			v := safe(r.Value)
			if r.Label != "" {
				v += "  " + safe(r.Label)
			}
			n := num(r.N)
			if r.Error > 0 {
				n = "≥" + n
			}
			p("  %-60s %12s %7s\n", v, n, pct(r.N, denom))
		}
		if t.Other > 0 {
			p("  %-60s %12s %7s\n", "(other)", num(t.Other), pct(t.Other, denom))
		}
	}
	table("status", s.Status, s.Records)
	table("ports", s.Ports, s.Records)
	table("dialects", s.Dialects, s.SMBHosts)
	table("encryption ciphers (SMB 3.1.1)", s.Ciphers, s.Ciphers.Total)
	table("OS builds (NTLM VERSION)", s.OSBuilds, s.OSBuilds.Total)
	table("Samba versions (SMB1 NativeLanMan)", s.Samba, s.Samba.Total)
	table("SMB1 NativeOS", s.NativeOS, s.SMB1Enabled)
	table("NetBIOS domains", s.Domains, s.Domains.Total)
	table("NetBIOS computers", s.Computers, s.Computers.Total)
	if s.Guest.Tried > 0 {
		table("guest shares (of hosts that allowed guest)", s.Shares, s.Guest.Allowed)
	}
	table("flags", s.Flags, s.Records)

	p("\ntop /16s by SMB hosts (%s /16s with SMB hosts)\n", num(s.Prefixes16))
	if len(s.TopPrefixes) == 0 {
		p("  (none)\n")
	}
	for _, x := range s.TopPrefixes {
		p("  %-60s %12s %7s\n", x.Prefix.String(), num(x.SMB), pct(x.SMB, s.SMBHosts))
	}
	return bw.Flush()
}

// safe escapes what a terminal would interpret, or what would disguise a
// name on a page: control and other non-printing characters (including
// bidirectional overrides), and invalid UTF-8.
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == utf8.RuneError || !unicode.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}
