package endtoend

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
)

// Found is what one run wrote: every host, and whether the tool
// identified an SMB server there.
type Found map[netip.Addr]bool

// maxLine bounds one output line (a record with a long error or many
// shares stays far below it).
const maxLine = 1 << 20

// ParseSmbsweep reads `smbsweep run` JSON lines: a host per record, an SMB
// server where status is "success".
func ParseSmbsweep(r io.Reader) (Found, error) {
	return parseLines(r, "smbsweep", func(b []byte) (netip.Addr, bool, error) {
		var rec struct {
			IP     netip.Addr `json:"ip"`
			Status string     `json:"status"`
		}
		err := json.Unmarshal(b, &rec)
		return rec.IP, rec.Status == "success", err
	})
}

// ParseZgrab2 reads `zgrab2 smb` JSON lines: a host per record, an SMB
// server where the result has an smb_version or smbv1_support (zgrab2
// v0.2.0 writes a record, status and all, for every input address).
func ParseZgrab2(r io.Reader) (Found, error) {
	return parseLines(r, "zgrab2", func(b []byte) (netip.Addr, bool, error) {
		var rec struct {
			IP   netip.Addr `json:"ip"`
			Data struct {
				SMB struct {
					Result *struct {
						Version *json.RawMessage `json:"smb_version"`
						SMB1    bool             `json:"smbv1_support"`
					} `json:"result"`
				} `json:"smb"`
			} `json:"data"`
		}
		err := json.Unmarshal(b, &rec)
		res := rec.Data.SMB.Result
		return rec.IP, res != nil && (res.Version != nil || res.SMB1), err
	})
}

// parseLines applies rec to every non-empty line; a host seen twice is
// an SMB server if either record says so.
func parseLines(r io.Reader, tool string, rec func([]byte) (netip.Addr, bool, error)) (Found, error) {
	f := Found{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		a, smb, err := rec(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("endtoend: %s output line %d: %w", tool, n, err)
		}
		if !a.IsValid() {
			return nil, fmt.Errorf("endtoend: %s output line %d: no ip", tool, n)
		}
		f[a] = f[a] || smb
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("endtoend: reading %s output: %w", tool, err)
	}
	return f, nil
}
