package smb

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
	"github.com/smbsweep/smbsweep/lab"
)

// facts is what one tool reported about one host. A nil fact was not
// reported.
type facts struct {
	OK      bool  // the tool's status for the host is success
	SMB1    *bool // SMB1 (NT LM 0.12) is on
	SignReq *bool // signing required
	SMB311  *bool // 3.1.1 negotiated
	Guest   *bool // a guest may read share "public"
	Enc     *bool // encryption required
}

// factCols are the correctness columns, in cell order.
var factCols = []string{"SMB1", "SigningRequired", "3.1.1", "Guest", "EncryptionRequired"}

// values returns f's facts in factCols order.
func (f facts) values() [5]*bool { return [5]*bool{f.SMB1, f.SignReq, f.SMB311, f.Guest, f.Enc} }

func ptr(b bool) *bool { return &b }

// smbsweepFacts parses `smbsweep probe` JSON lines (smbprobe/SCHEMA.md).
// Signing is SMB2's; an SMB1-only server's comes from its SMB1 negotiate.
func smbsweepFacts(out []byte) (map[netip.Addr]facts, error) {
	type signing struct {
		Required bool `json:"required"`
	}
	type record struct {
		IP     netip.Addr `json:"ip"`
		Status string     `json:"status"`
		SMB    *struct {
			Dialect string   `json:"dialect"`
			Signing *signing `json:"signing"`
			SMB1    *struct {
				Enabled bool     `json:"enabled"`
				Signing *signing `json:"signing"`
			} `json:"smb1"`
			Guest *struct {
				Shares             []string `json:"shares"`
				EncryptionRequired bool     `json:"encryption_required"`
			} `json:"guest"`
		} `json:"smb"`
	}
	res := map[netip.Addr]facts{}
	err := benchlab.EachLine(bytes.NewReader(out), 4<<20, func(line []byte) error {
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		f := facts{OK: r.Status == "success", SMB311: ptr(false)}
		if s := r.SMB; s != nil {
			f.SMB311 = ptr(s.Dialect == "3.1.1")
			if s.SMB1 != nil {
				f.SMB1 = ptr(s.SMB1.Enabled)
			}
			switch {
			case s.Dialect != "" && s.Signing != nil:
				f.SignReq = ptr(s.Signing.Required)
			case s.Dialect == "" && s.SMB1 != nil && s.SMB1.Signing != nil:
				f.SignReq = ptr(s.SMB1.Signing.Required)
			}
			if g := s.Guest; g != nil {
				f.Guest = ptr(slices.ContainsFunc(g.Shares, func(n string) bool { return strings.EqualFold(n, "public") })) // share names are case-insensitive
				f.Enc = ptr(g.EncryptionRequired)
			}
		}
		res[r.IP] = f
		return nil
	})
	return res, err
}

// zgrab2Facts parses zgrab2 v0.2.0 `smb --setup-session` JSON lines. It
// reports neither guest access nor encryption; its "dialect" is the
// negotiation log's dialect_revision (0x0311 for 3.1.1), and signing
// required is bit 0x02 of the negotiate response's SecurityMode (MS-SMB2
// §2.2.4).
func zgrab2Facts(out []byte) (map[netip.Addr]facts, error) {
	type record struct {
		IP   netip.Addr `json:"ip"`
		Data struct {
			SMB struct {
				Status string `json:"status"`
				Result *struct {
					SMBv1 *bool `json:"smbv1_support"`
					Neg   *struct {
						SecurityMode    uint16 `json:"security_mode"`
						DialectRevision uint16 `json:"dialect_revision"`
					} `json:"negotiation_log"`
				} `json:"result"`
			} `json:"smb"`
		} `json:"data"`
	}
	res := map[netip.Addr]facts{}
	err := benchlab.EachLine(bytes.NewReader(out), 4<<20, func(line []byte) error {
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		f := facts{OK: r.Data.SMB.Status == "success", SMB311: ptr(false)}
		if x := r.Data.SMB.Result; x != nil {
			f.SMB1 = x.SMBv1
			if x.Neg != nil {
				f.SignReq = ptr(x.Neg.SecurityMode&0x02 != 0)
				f.SMB311 = ptr(x.Neg.DialectRevision == 0x0311)
			}
		}
		res[r.IP] = f
		return nil
	})
	return res, err
}

// nmapFacts parses nmap's XML (-oX) with the scripts. nmap reports
// guest from smb-security-mode's "account_used: guest" (a guest logon,
// not a readable share) and never reports encryption.
func nmapFacts(out []byte) (map[netip.Addr]facts, error) {
	var run struct {
		Hosts []struct {
			Address struct {
				Addr string `xml:"addr,attr"`
			} `xml:"address"`
			Scripts []struct {
				ID     string `xml:"id,attr"`
				Output string `xml:"output,attr"`
			} `xml:"hostscript>script"`
		} `xml:"host"`
	}
	if err := xml.Unmarshal(out, &run); err != nil {
		return nil, fmt.Errorf("nmap xml: %w", err)
	}
	res := map[netip.Addr]facts{}
	for _, h := range run.Hosts {
		ip, err := netip.ParseAddr(h.Address.Addr)
		if err != nil {
			return nil, fmt.Errorf("nmap xml: %w", err)
		}
		txt := map[string]string{}
		for _, s := range h.Scripts {
			txt[s.ID] = s.Output
		}
		f := facts{OK: len(txt) > 0}
		protos, sec2, sec1 := txt["smb-protocols"], txt["smb2-security-mode"], txt["smb-security-mode"]
		if protos != "" {
			f.SMB1 = ptr(strings.Contains(protos, "NT LM 0.12"))
			lines := strings.Split(protos, "\n")
			f.SMB311 = ptr(slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "311" }))
		}
		switch {
		case sec2 != "":
			f.SignReq = ptr(strings.Contains(sec2, "and required"))
		case sec1 != "":
			f.SignReq = ptr(strings.Contains(sec1, "message_signing: required"))
		}
		if sec1 != "" {
			f.Guest = ptr(strings.Contains(sec1, "account_used: guest"))
		}
		res[ip] = f
	}
	return res, nil
}

// answered counts the hosts whose status is success.
func answered(fs map[netip.Addr]facts) int {
	n := 0
	for _, f := range fs {
		if f.OK {
			n++
		}
	}
	return n
}

// want is the ground truth's answer for the five facts of s.
func want(s lab.Server) [5]bool {
	e := s.Expect
	return [5]bool{e.SMB1, e.SigningRequired, e.Dialect == "3.1.1", e.Guest, e.EncryptionRequired}
}

// score is one tool's correctness over the matrix.
type score struct {
	Cells map[netip.Addr]string // per server: one of Y (right), x (wrong), - (not reported) per fact
	Right int
	Total int
}

// grade scores fs against the matrix servers: a fact not reported counts
// as not right.
func grade(servers []lab.Server, fs map[netip.Addr]facts) score {
	sc := score{Cells: map[netip.Addr]string{}}
	for _, s := range servers {
		w := want(s)
		f, ok := fs[s.Address]
		var cell strings.Builder
		for i, v := range f.values() {
			sc.Total++
			switch {
			case !ok || v == nil:
				cell.WriteByte('-')
			case *v == w[i]:
				cell.WriteByte('Y')
				sc.Right++
			default:
				cell.WriteByte('x')
			}
		}
		sc.Cells[s.Address] = cell.String()
	}
	return sc
}

// matrixServers returns the lab's port-445 servers that answer one
// address each (the Samba matrix and impacket), in address order.
func matrixServers(st lab.Status) []lab.Server {
	var out []lab.Server
	for _, s := range st.Servers {
		if s.Port == 445 && !s.Prefix.IsValid() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b lab.Server) int { return a.Address.Compare(b.Address) })
	return out
}

// anyIPHosts returns the first n addresses of the lab's AnyIP server.
func anyIPHosts(st lab.Status, n int) []netip.Addr {
	var out []netip.Addr
	for _, s := range st.Servers {
		if !s.Prefix.IsValid() {
			continue
		}
		for a := s.Prefix.Masked().Addr(); s.Prefix.Contains(a) && len(out) < n; a = a.Next() {
			out = append(out, a)
		}
	}
	return out
}
