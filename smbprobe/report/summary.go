package report

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// A Summary is the result of an aggregation: plain data, ready to render
// with WriteHTML or WriteText, or to encode as JSON.
type Summary struct {
	// Source names the input (a file name, or "-" for stdin); set by the
	// caller, shown in the page title.
	Source string `json:"source,omitempty"`

	// Lines is how many lines were read, Records how many were well-formed
	// records, and Malformed how many were not. MalformedLines lists the
	// first 20 malformed lines.
	Lines          uint64      `json:"lines"`
	Records        uint64      `json:"records"`
	Malformed      uint64      `json:"malformed"`
	MalformedLines []Malformed `json:"malformed_lines,omitempty"`

	// First and Last are the earliest and latest record timestamps (zero
	// if no record had one).
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`

	// Status counts records by status; Ports by port.
	Status Table `json:"status"`
	Ports  Table `json:"ports"`

	// SMBHosts counts records with status "success": the denominator of
	// everything below but the flags and the per-/16 record counts.
	SMBHosts uint64 `json:"smb_hosts"`
	// SMB1Checked counts SMB hosts on which the SMB1 check ran (it is off
	// with 'probe -no-smb1'); SMB1Enabled those that negotiated SMB1,
	// SMB1Only those that negotiated SMB1 but not SMB2.
	SMB1Checked uint64 `json:"smb1_checked"`
	SMB1Enabled uint64 `json:"smb1_enabled"`
	SMB1Only    uint64 `json:"smb1_only"`
	// NativeOS counts SMB1 NativeOS strings ("Windows 5.1",
	// "Windows 6.1" for Samba, ...).
	NativeOS Table `json:"native_os"`

	// Dialects counts the negotiated SMB2 dialect ("none (SMB1 only)"
	// without SMB2).
	Dialects Table `json:"dialects"`
	// SMB2Signing counts SMB hosts whose SMB2 signing policy is known;
	// Signing counts those that do not require signing.
	SMB2Signing uint64  `json:"smb2_signing"`
	Signing     Signing `json:"signing"`
	// Ciphers counts the cipher chosen in the SMB 3.1.1 encryption
	// context ("(no encryption context)" for 3.1.1 without one).
	Ciphers Table `json:"ciphers"`

	// OSBuilds counts NTLM VERSION major.minor.build (SMB2's, else SMB1's),
	// each labelled with its product: the record's ntlm.os_name (smbprobe's
	// build table) if it had one, else this package's copy of that table.
	OSBuilds Table `json:"os_builds"`
	// Samba counts SMB1 NativeLanMan strings starting "Samba" (with the
	// version); SambaHidden counts hosts flagged "samba" that did not say
	// their version (SMB1 off).
	Samba       Table  `json:"samba"`
	SambaHidden uint64 `json:"samba_hidden"`
	// Domains and Computers count NTLM NetBIOS domain and computer names.
	// Many hosts with one computer name suggest a honeypot fleet or an
	// unrenamed image.
	Domains   Table `json:"domains"`
	Computers Table `json:"computers"`

	// Guest is the outcome of the opt-in guest logon; Shares counts the
	// share names listed.
	Guest  Guest `json:"guest"`
	Shares Table `json:"shares"`

	// Flags counts every flag of "flags" and "scan.flags"; Suspect counts
	// hosts with the suspicious ones.
	Flags   Table   `json:"flags"`
	Suspect Suspect `json:"suspect"`

	// IPv6Records counts records with an IPv6 address (not in the /16
	// tables).
	IPv6Records uint64 `json:"ipv6_records"`
	// Prefixes16 counts the /16s with at least one SMB host; TopPrefixes
	// are the ones with the most.
	Prefixes16  uint64     `json:"prefixes16"`
	TopPrefixes []Prefix16 `json:"top_prefixes"`
	// Heat holds SMB hosts per IPv4 /16, indexed by the first two octets
	// (a<<8 | b), saturating at the largest uint32.
	Heat *[1 << 16]uint32 `json:"-"`
}

// A Table is a categorical count: the most frequent values and the rest.
type Table struct {
	// Rows are the most frequent values, most frequent first.
	Rows []Count `json:"rows"`
	// Other counts the records not in Rows.
	Other uint64 `json:"other,omitempty"`
	// Total counts every record of the table.
	Total uint64 `json:"total"`
	// Overflowed is set when more than Config.MaxValues distinct values
	// were seen, so counts may be approximate (see Count.Error).
	Overflowed bool `json:"overflowed,omitempty"`
}

// Malformed is a line that was not a record.
type Malformed struct {
	Line uint64 `json:"line"` // 1-based
	Err  string `json:"error"`
}

// Signing counts SMB hosts that do not require signing (so their sessions
// can be relayed), by protocol, and by either.
type Signing struct {
	SMB2NotRequired uint64 `json:"smb2_not_required"`
	SMB1NotRequired uint64 `json:"smb1_not_required"`
	AnyNotRequired  uint64 `json:"any_not_required"`
}

// Guest counts the outcomes of the guest logon follow-up.
type Guest struct {
	Tried              uint64 `json:"tried"`
	Allowed            uint64 `json:"allowed"`
	EncryptionRequired uint64 `json:"encryption_required"`
}

// Suspect counts records with a suspicious flag: a honeypot or an
// impacket-like server (smbprobe's fingerprint), or a SYN proxy
// (rawscan's doubt). Any counts records with at least one.
type Suspect struct {
	Honeypot     uint64 `json:"honeypot"`
	ImpacketLike uint64 `json:"impacket_like"`
	SYNProxy     uint64 `json:"syn_proxy"`
	Any          uint64 `json:"any"`
}

// A Prefix16 is one IPv4 /16 and its counts.
type Prefix16 struct {
	Prefix  netip.Prefix `json:"prefix"`
	SMB     uint64       `json:"smb"`     // records with status success
	Records uint64       `json:"records"` // all records
}

// Summary returns the counts so far. The Aggregator can go on counting.
func (a *Aggregator) Summary() *Summary {
	s := &Summary{
		Lines:          a.lines,
		Records:        a.records,
		Malformed:      a.malformed,
		MalformedLines: slices.Clone(a.malformedList),
		First:          a.first,
		Last:           a.last,
		Status:         a.table(a.status),
		Ports:          a.portTable(),
		SMBHosts:       a.smbHosts,
		SMB1Checked:    a.smb1Checked,
		SMB1Enabled:    a.smb1Enabled,
		SMB1Only:       a.smb1Only,
		NativeOS:       a.table(a.nativeOS),
		Dialects:       a.table(a.dialects),
		SMB2Signing:    a.smb2Signing,
		Signing:        a.signing,
		Ciphers:        a.table(a.ciphers),
		OSBuilds:       a.table(a.builds),
		Samba:          a.table(a.samba),
		SambaHidden:    a.sambaHidden,
		Domains:        a.table(a.domains),
		Computers:      a.table(a.computers),
		Guest:          a.guest,
		Shares:         a.table(a.shares),
		Flags:          a.table(a.flags),
		Suspect:        a.suspect,
		IPv6Records:    a.ipv6,
		Heat:           new([1 << 16]uint32),
	}
	for i := range s.OSBuilds.Rows {
		r := &s.OSBuilds.Rows[i]
		if r.Label = a.osNames[r.Value]; r.Label == "" {
			r.Label = buildName(r.Value)
		}
	}
	var ps []Prefix16
	for i, c := range a.per16 {
		s.Heat[i] = c.smb
		if c.smb > 0 {
			ps = append(ps, Prefix16{
				Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 8), byte(i), 0, 0}), 16),
				SMB:     uint64(c.smb),
				Records: uint64(c.records),
			})
		}
	}
	s.Prefixes16 = uint64(len(ps))
	slices.SortFunc(ps, func(x, y Prefix16) int {
		if c := cmp.Compare(y.SMB, x.SMB); c != 0 {
			return c
		}
		return x.Prefix.Addr().Compare(y.Prefix.Addr())
	})
	if len(ps) > a.top {
		ps = ps[:a.top]
	}
	s.TopPrefixes = ps
	return s
}

func (a *Aggregator) table(t *topK) Table {
	rows, other := t.top(a.top)
	return Table{Rows: rows, Other: other, Total: t.total, Overflowed: t.evicted > 0}
}

func (a *Aggregator) portTable() Table {
	type port struct {
		p uint16
		n uint64
	}
	var ps []port
	for p, n := range a.ports {
		ps = append(ps, port{p, n})
	}
	slices.SortFunc(ps, func(x, y port) int {
		if c := cmp.Compare(y.n, x.n); c != 0 {
			return c
		}
		return cmp.Compare(x.p, y.p)
	})
	t := Table{}
	for i, p := range ps {
		t.Total += p.n
		if i >= a.top {
			t.Other += p.n
			continue
		}
		t.Rows = append(t.Rows, Count{Value: strconv.Itoa(int(p.p)), N: p.n})
	}
	return t
}
