package lab_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

// BenchmarkUpDown measures bring-up and tear-down of a /16 lab, without
// and with the Samba matrix (8 smbd configs, impacket, the AnyIP smbd).
// Reported as up-s and down-s per round (root only).
func BenchmarkUpDown(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for _, bc := range []struct {
		name string
		cfg  lab.Config
	}{
		{"plain-16", lab.Config{}},
		{"samba-16", lab.Config{Samba: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var up, down time.Duration
			for b.Loop() {
				c := bc.cfg
				c.Prefix = labtest.Prefix()
				t0 := time.Now()
				l, err := lab.Up(context.Background(), &c)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
				up += t1.Sub(t0)
				down += time.Since(t1)
			}
			b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkWire measures how many frames per second the wire (the
// userspace delay helper) forwards: a raw sender in the scanner namespace
// offers 64-byte frames as fast as it can for each b.N round of 10000, and
// the internet namespace's receive counter says how many arrived.
func BenchmarkWire(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	l := labtest.New(b, &lab.Config{Delay: time.Millisecond, Open: -1, Closed: -1})
	st := l.Status()
	inet := st.Prefix + "net"
	rx := func() uint64 {
		out, err := exec.Command("ip", "-n", inet, "-s", "-j", "link", "show", "scan0").Output()
		if err != nil {
			b.Fatal(err)
		}
		var links []struct {
			Stats struct{ RX struct{ Packets uint64 } } `json:"stats64"`
		}
		if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
			b.Fatalf("ip -s -j link: %v", err)
		}
		return links[0].Stats.RX.Packets
	}
	b.ReportAllocs()
	before := rx()
	start := time.Now()
	var offered int
	for b.Loop() {
		sendBurstB(b, l, st.Interface, 10000, 18)
		offered += 10000
	}
	elapsed := time.Since(start)
	time.Sleep(50 * time.Millisecond)
	got := rx() - before
	b.ReportMetric(float64(got)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(1-float64(got)/float64(offered), "loss")
}
