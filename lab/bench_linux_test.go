package lab_test

import (
	"context"
	"os"
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
