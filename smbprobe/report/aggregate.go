package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
)

// Defaults for Config.
const (
	DefaultTop       = 10
	DefaultMaxValues = 4096
)

// MaxLineLen is the longest input line accepted, in bytes, counting its
// newline. A longer line is skipped and counted as malformed. (A full
// smbprobe.Result with NTLM, contexts and shares is a few kilobytes.)
const MaxLineLen = 1 << 20

// maxMalformedListed bounds how many malformed lines are listed by number.
const maxMalformedListed = 20

// Flags in a record's "flags" (smbprobe fingerprints) or "scan.flags"
// (rawscan doubts) that the report counts as suspicious.
const (
	flagHoneypot = "honeypot-suspect"
	flagImpacket = "impacket-like"
	flagSamba    = "samba"
	flagSYNProxy = rawscan.SuspectProxyName
)

// Config tunes an Aggregator. A nil *Config means all defaults.
type Config struct {
	// Top is how many rows each table of the Summary keeps (the rest is
	// summed as "other"). Default DefaultTop.
	Top int
	// MaxValues bounds the distinct values each categorical table tracks,
	// and so the Aggregator's memory: about MaxValues × 200 bytes per
	// table (ten tables). Default DefaultMaxValues.
	MaxValues int
	// Logf, if set, is told about each malformed line.
	Logf func(format string, args ...any)
}

// An Aggregator counts records as they stream past. Its memory is bounded
// by Config.MaxValues, whatever the input size.
//
// An Aggregator is not safe for concurrent use.
type Aggregator struct {
	top  int
	logf func(string, ...any)

	lines, records, malformed uint64
	malformedList             []Malformed
	first, last               time.Time

	status, dialects, ciphers, builds, nativeOS, samba *topK
	domains, computers, shares, flags                  *topK
	ports                                              map[uint16]uint64
	osNames                                            map[string]string // os_version → os_name, at most maxValues
	maxValues                                          int

	smbHosts, smb1Checked, smb1Enabled, smb1Only, sambaHidden uint64
	smb2Signing                                               uint64
	signing                                                   Signing
	guest                                                     Guest
	suspect                                                   Suspect
	ipv6                                                      uint64

	per16 [1 << 16]struct{ records, smb uint32 }
}

var _ io.ReaderFrom = (*Aggregator)(nil)

// New returns an Aggregator configured by cfg (nil means defaults).
func New(cfg *Config) *Aggregator {
	if cfg == nil {
		cfg = &Config{}
	}
	a := &Aggregator{top: cfg.Top, logf: cfg.Logf, ports: make(map[uint16]uint64), osNames: make(map[string]string)}
	if a.top <= 0 {
		a.top = DefaultTop
	}
	max := cfg.MaxValues
	if max <= 0 {
		max = DefaultMaxValues
	}
	a.maxValues = max
	for _, t := range []**topK{&a.status, &a.dialects, &a.ciphers, &a.builds, &a.nativeOS,
		&a.samba, &a.domains, &a.computers, &a.shares, &a.flags} {
		*t = newTopK(max)
	}
	return a
}

// ReadFrom reads JSON lines from r until EOF and adds each one (see Add).
// Blank lines are skipped; malformed lines, including lines longer than
// MaxLineLen, are counted and skipped. It returns the bytes read and the
// first read error other than io.EOF.
func (a *Aggregator) ReadFrom(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	var long []byte // a line longer than br's buffer, assembled
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		n += int64(len(chunk))
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !tooLong {
				if len(long)+len(chunk) > MaxLineLen {
					tooLong, long = true, long[:0]
				} else {
					long = append(long, chunk...)
				}
			}
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return n, fmt.Errorf("report: reading line %d: %w", a.lines+1, err)
		}
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		switch {
		case tooLong || len(line) > MaxLineLen:
			a.lines++
			a.reject(fmt.Errorf("longer than %d bytes", MaxLineLen))
		case len(line) > 0:
			a.Add(line)
		}
		long, tooLong = long[:0], false
		if err != nil { // io.EOF
			return n, nil
		}
	}
}

// Add counts one line (one JSON object, the trailing newline optional).
// A blank line is skipped; it still advances the line number. A line that
// is not a JSON object with a valid "ip" is counted as malformed, and the
// error, naming the line number, is returned.
func (a *Aggregator) Add(line []byte) error {
	a.lines++
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var r record
	if !decodeFast(line, &r) {
		r = record{} // encoding/json is the reference for all else
		if err := json.Unmarshal(line, &r); err != nil {
			return a.reject(err)
		}
	}
	ip, err := netip.ParseAddr(r.IP)
	if err != nil {
		return a.reject(fmt.Errorf("bad ip: %w", err))
	}
	a.count(ip.Unmap(), &r)
	return nil
}

// reject records the current line as malformed.
func (a *Aggregator) reject(err error) error {
	a.malformed++
	m := Malformed{Line: a.lines, Err: clip(err.Error())}
	if len(a.malformedList) < maxMalformedListed {
		a.malformedList = append(a.malformedList, m)
	}
	if a.logf != nil {
		a.logf("report: line %d: %v", m.Line, err)
	}
	return fmt.Errorf("report: line %d: %w", m.Line, err)
}

// count adds one decoded record.
func (a *Aggregator) count(ip netip.Addr, r *record) {
	a.records++
	status := r.Status
	if status == "" {
		status = "(none)"
	}
	a.status.add(status)
	a.ports[r.Port]++ // at most 65,536 keys
	if t, err := time.Parse(time.RFC3339Nano, r.Timestamp); err == nil {
		if a.first.IsZero() || t.Before(a.first) {
			a.first = t
		}
		if t.After(a.last) {
			a.last = t
		}
	}
	success := status == "success"
	if ip.Is4() {
		b := ip.As4()
		c := &a.per16[int(b[0])<<8|int(b[1])]
		c.records = satInc(c.records)
		if success {
			c.smb = satInc(c.smb)
		}
	} else {
		a.ipv6++
	}

	var honeypot, impacket, samba, synProxy bool
	flag := func(f string) {
		a.flags.add(f)
		switch f {
		case flagHoneypot:
			honeypot = true
		case flagImpacket:
			impacket = true
		case flagSamba:
			samba = true
		case flagSYNProxy:
			synProxy = true
		}
	}
	for _, f := range r.Flags {
		flag(f)
	}
	if r.Scan != nil {
		for _, f := range r.Scan.Flags {
			flag(f)
		}
	}
	a.suspect.Honeypot += b2u(honeypot)
	a.suspect.ImpacketLike += b2u(impacket)
	a.suspect.SYNProxy += b2u(synProxy)
	a.suspect.Any += b2u(honeypot || impacket || synProxy)

	if !success || r.SMB == nil {
		return
	}
	a.smbHosts++
	s := r.SMB
	smb1On := s.SMB1 != nil && s.SMB1.Enabled
	if s.SMB1 != nil {
		a.smb1Checked++
	}
	switch {
	case s.Dialect != "":
		a.dialects.add(s.Dialect)
	case smb1On:
		a.smb1Only++
		a.dialects.add("none (SMB1 only)")
	default:
		a.dialects.add("none")
	}
	if smb1On {
		a.smb1Enabled++
		if s.SMB1.NativeOS != "" {
			a.nativeOS.add(s.SMB1.NativeOS)
		}
	}
	hasVersion := false
	if s.SMB1 != nil && strings.HasPrefix(s.SMB1.NativeLanMan, "Samba") {
		a.samba.add(s.SMB1.NativeLanMan)
		hasVersion = true
	}
	if samba && !hasVersion {
		a.sambaHidden++
	}

	smb2NoSign := s.Signing != nil && !s.Signing.Required
	smb1NoSign := smb1On && s.SMB1.Signing != nil && !s.SMB1.Signing.Required
	a.smb2Signing += b2u(s.Signing != nil)
	a.signing.SMB2NotRequired += b2u(smb2NoSign)
	a.signing.SMB1NotRequired += b2u(smb1NoSign)
	a.signing.AnyNotRequired += b2u(smb2NoSign || smb1NoSign)

	switch {
	case s.Contexts != nil && s.Contexts.Cipher != "":
		a.ciphers.add(s.Contexts.Cipher)
	case s.Dialect == "3.1.1":
		a.ciphers.add("(no encryption context)")
	}

	if n := s.ntlm(); n != nil {
		if n.OSVersion != "" {
			a.builds.add(n.OSVersion)
			if _, ok := a.osNames[n.OSVersion]; !ok && n.OSName != "" && len(a.osNames) < a.maxValues {
				a.osNames[clip(n.OSVersion)] = clip(n.OSName)
			}
		}
		if n.NetBIOSDomain != "" {
			a.domains.add(n.NetBIOSDomain)
		}
		if n.NetBIOSComputer != "" {
			a.computers.add(n.NetBIOSComputer)
		}
	}

	if g := s.Guest; g != nil {
		a.guest.Tried++
		a.guest.Allowed += b2u(g.Allowed)
		a.guest.EncryptionRequired += b2u(g.EncryptionRequired)
		for _, sh := range g.Shares {
			a.shares.add(sh)
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// satInc adds one to n, saturating at the largest uint32.
func satInc(n uint32) uint32 {
	if n == ^uint32(0) {
		return n
	}
	return n + 1
}
