package pipeline

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// TestIntegrationInProcess runs the pipeline inside the test process: the
// raw sockets are opened by lab.Do on a thread in the lab's scanner
// namespace and the prober dials through lab.DialContext, so nothing
// leaves the lab although the goroutines run in the root namespace. Two
// threads, a small queue (hits spill), graceful Stop part way, then a
// resume: every open host of the lab once, with SMB facts for the Samba
// servers.
func TestIntegrationInProcess(t *testing.T) {
	l := labtest.New(t, &lab.Config{Seed: 31, Samba: true})
	gt, err := l.GroundTruth()
	if err != nil {
		t.Fatal(err)
	}
	st := l.Status()
	srcMAC, err1 := net.ParseMAC(st.SourceMAC)
	gwMAC, err2 := net.ParseMAC(st.GatewayMAC)
	if err1 != nil || err2 != nil {
		t.Fatalf("lab MACs: %v %v", err1, err2)
	}
	dir := t.TempDir()
	outPath, ckpt := filepath.Join(dir, "out.json"), filepath.Join(dir, "ckpt.json")
	tcfg := &target.Config{Allowed: blocklist.FromPrefixes(gt.Range), Seed: 3, Threads: 2}

	run := func(resume *Checkpoint, stopAfter uint64) *Status {
		perm, err := target.New(tcfg)
		if resume != nil {
			perm, err = target.Resume(tcfg, resume.Rewound())
		}
		if err != nil {
			t.Fatal(err)
		}
		afc := &rawscan.AFPacketConfig{Interface: st.Interface}
		var (
			rx  rawscan.RxConn
			txs []rawscan.TxConn
		)
		err = l.Do(func() error {
			var err error
			if rx, err = rawscan.OpenRx(afc, rawscan.ReplyFilter(st.SourceIP, rawscan.DefaultSourcePorts)); err != nil {
				return err
			}
			for range perm.Threads() {
				tx, err := rawscan.OpenTx(afc)
				if err != nil {
					return err
				}
				txs = append(txs, tx)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("opening sockets in the lab: %v", err)
		}
		seen, _, err := LoadSeen(outPath)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		o, _ := NewOutput(f, JSONLines)
		var p *Pipeline
		p, err = New(&Config{
			Scan: rawscan.Config{
				Rate: 20000, Cooldown: 2 * time.Second,
				Source: st.SourceIP, SourceMAC: srcMAC, GatewayMAC: gwMAC,
				SinglePort: true,
				Tx:         func(i int) (rawscan.TxConn, error) { return txs[i], nil },
				Rx:         rx,
			},
			Permutation: perm,
			Prober: smbprobe.New(&smbprobe.Config{Dial: l.DialContext,
				ConnectTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, HostTimeout: 3 * time.Second}),
			// Two workers and a queue of two: the AnyIP smbd's hosts
			// arrive faster than two probes a time can take them, so
			// hits must go through the spill file (with 32 workers and
			// a queue of 8 that happened only some of the time).
			Workers: 2, QueueSize: 2, SpillDir: dir,
			Output: o, Seen: seen,
			CheckpointPath: ckpt, CheckpointInterval: 200 * time.Millisecond,
			StatusInterval: 100 * time.Millisecond,
			OnStatus: func(s *Status) {
				if stopAfter > 0 && s.Written >= stopAfter {
					p.Stop()
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		status, err := p.Run(context.Background())
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		t.Logf("%s", status.Line())
		return status
	}
	// want is every open host but those of the AnyIP smbd, which
	// answers a whole /24 with one process and a listen backlog of 50:
	// while the probes load it, it drops some of the scan's SYNs, so
	// its hosts are checked for recall only (anyip).
	want, anyip := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, a := range gt.Open[445] {
		want[a] = true
	}
	for _, s := range gt.Servers {
		if s.Port != 445 {
			continue
		}
		if s.Prefix.IsValid() {
			for a := s.Prefix.Addr(); s.Prefix.Contains(a); a = a.Next() {
				anyip[a] = true
			}
			continue
		}
		want[s.Address] = true
	}
	first := run(nil, 50)
	c, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Done || first.Written >= uint64(len(want)) {
		t.Fatalf("the stop did not stop the run part way: done %v, %d written", c.Done, first.Written)
	}
	second := run(c, 0)
	if second.SpilledTotal+first.SpilledTotal == 0 {
		t.Errorf("no hit went through the spill with a queue of 2")
	}
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs := map[netip.Addr]bool{}
	n := 0
	if _, err := ReadHosts(f, func(ap netip.AddrPort) { recs[ap.Addr()] = true; n++ }); err != nil {
		t.Fatal(err)
	}
	if n != len(recs) {
		t.Errorf("%d records for %d hosts", n, len(recs))
	}
	var missing []netip.Addr
	for a := range want {
		if !recs[a] {
			missing = append(missing, a)
		}
	}
	found, extra := 0, 0
	for a := range recs {
		switch {
		case anyip[a]:
			found++
		case !want[a]:
			extra++
		}
	}
	if len(missing) > 0 || extra > 0 {
		t.Errorf("%d of %d open hosts missing (%v), %d records not open", len(missing), len(want), missing[:min(len(missing), 8)], extra)
	}
	if found < len(anyip)/2 {
		t.Errorf("only %d of the AnyIP smbd's %d hosts found", found, len(anyip))
	}
	t.Logf("%d open hosts found of %d; AnyIP smbd /24: %d of %d", len(recs)-found, len(want), found, len(anyip))
	if second.ByStatus["success"] == 0 && first.ByStatus["success"] == 0 {
		t.Errorf("no SMB success from the Samba servers")
	}
}
