package accuracy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/smbsweep/smbsweep/bench/internal/benchlab"
)

// maxLine bounds one line of a tool's output.
const maxLine = 1 << 16

// hosts is a set of addresses a tool reported open.
type hosts map[netip.Addr]bool

// parseSmbsweep reads `smbsweep scan` JSON Lines: an address is open when
// its record's status is "success" (a SYN-ACK).
func parseSmbsweep(r io.Reader) (hosts, error) {
	h := hosts{}
	err := benchlab.EachLine(r, maxLine, func(line []byte) error {
		var rec struct {
			IP     netip.Addr `json:"ip"`
			Status string     `json:"status"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.Status == "success" {
			h[rec.IP] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("accuracy: smbsweep output: %w", err)
	}
	return h, nil
}

// parseZmap reads ZMap's `-f saddr` output: one address per line (its
// default output filter keeps first SYN-ACKs only).
func parseZmap(r io.Reader) (hosts, error) {
	h := hosts{}
	err := benchlab.EachLine(r, maxLine, func(line []byte) error {
		if string(line) == "saddr" { // CSV header, when -O csv
			return nil
		}
		a, err := netip.ParseAddr(string(line))
		if err != nil {
			return err
		}
		h[a] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("accuracy: zmap output: %w", err)
	}
	return h, nil
}

// parseMasscan reads masscan's -oL list: "#masscan", lines "open tcp 445
// 198.18.1.2 1700000000", and "# end", which masscan writes when it exits
// cleanly; without it the list may be cut short, and it is an error.
func parseMasscan(r io.Reader) (hosts, error) {
	h := hosts{}
	end := false
	err := benchlab.EachLine(r, maxLine, func(line []byte) error {
		if line[0] == '#' {
			end = end || string(line) == "# end"
			return nil
		}
		f := strings.Fields(string(line))
		if len(f) < 4 {
			return fmt.Errorf("%d fields, want ≥ 4", len(f))
		}
		if f[0] != "open" {
			return nil
		}
		a, err := netip.ParseAddr(f[3])
		if err != nil {
			return err
		}
		h[a] = true
		return nil
	})
	if err == nil && !end {
		err = errors.New(`no "# end": the list was cut short`)
	}
	if err != nil {
		return nil, fmt.Errorf("accuracy: masscan output: %w", err)
	}
	return h, nil
}

// score is one run against the ground truth.
type score struct {
	found, missed, falsePos int
}

// scoreOf compares what a tool reported with the open addresses.
func scoreOf(got hosts, open []netip.Addr) score {
	var s score
	truth := make(map[netip.Addr]bool, len(open))
	for _, a := range open {
		truth[a] = true
		if got[a] {
			s.found++
		} else {
			s.missed++
		}
	}
	for a := range got {
		if !truth[a] {
			s.falsePos++
		}
	}
	return s
}
