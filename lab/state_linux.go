package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ReadStatus returns the Status of the running lab described by cfg (its
// Prefix and StateDir), with live processes and interface counters. It
// fails if the lab is not up.
func ReadStatus(cfg *Config) (Status, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return Status{}, err
	}
	dir := filepath.Join(c.StateDir, c.Prefix)
	b, err := os.ReadFile(filepath.Join(dir, "status.json"))
	if err != nil {
		return Status{}, fmt.Errorf("lab: no lab %q is up: %w", c.Prefix, err)
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return Status{}, fmt.Errorf("lab: %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(nsPath, st.ScannerNamespace)); err != nil {
		return st, fmt.Errorf("lab: lab %q is broken (scanner namespace gone); run lab down: %w", c.Prefix, err)
	}
	st.Processes = readPIDs(dir)
	st.Counters, err = counters(st.ScannerNamespace)
	return st, err
}

// Attach returns the running lab described by cfg (its Prefix and
// StateDir), for example one that `smbsweep lab up` left running, so that
// Do, DialContext, Capture and GroundTruth can be used on it. Close of an
// attached Lab takes the lab down; Detach only releases it.
func Attach(cfg *Config) (*Lab, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := ReadStatus(&c)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(nsPath, st.ScannerNamespace))
	if err != nil {
		return nil, err
	}
	st.Counters = nil
	return &Lab{cfg: c, dir: st.StateDir, scanNS: f, status: st}, nil
}

// Detach releases the Lab without taking the lab down; the Lab is
// unusable afterwards.
func (l *Lab) Detach() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.scanNS.Close()
}

// Counters returns the scanner namespace's interface counters, keyed by
// interface name (eth0 and, in sink mode, sink0 and sink1).
func (l *Lab) Counters() (map[string]IfCounters, error) {
	return counters(l.status.ScannerNamespace)
}

func counters(ns string) (map[string]IfCounters, error) {
	out, err := runner{logf: func(string, ...any) {}}.output(context.Background(), "ip", "-n", ns, "-s", "-j", "link", "show")
	if err != nil {
		return nil, err
	}
	var links []struct {
		Ifname string `json:"ifname"`
		Stats  struct {
			RX struct{ Bytes, Packets, Dropped uint64 } `json:"rx"`
			TX struct{ Bytes, Packets, Dropped uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("lab: ip -s -j link: %w", err)
	}
	m := make(map[string]IfCounters)
	for _, k := range links {
		if k.Ifname == "lo" {
			continue
		}
		s := k.Stats
		m[k.Ifname] = IfCounters{
			TxPackets: s.TX.Packets, TxBytes: s.TX.Bytes, TxDropped: s.TX.Dropped,
			RxPackets: s.RX.Packets, RxBytes: s.RX.Bytes, RxDropped: s.RX.Dropped,
		}
	}
	return m, nil
}
