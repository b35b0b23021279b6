package report

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/smbsweep/smbsweep/smbprobe"
	"github.com/smbsweep/smbsweep/smbprobe/smbprobetest"
)

func TestScratchGen(t *testing.T) {
	dirs, _ := os.ReadDir("../testdata/resp")
	enc := json.NewEncoder(os.Stdout)
	for _, d := range dirs {
		if !d.IsDir() { continue }
		r, err := smbprobetest.Load("../testdata/resp/" + d.Name())
		if err != nil { t.Log(err); continue }
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		srv := &smbprobetest.Server{Replies: r}
		go srv.Serve(l)
		ch := make(chan netip.AddrPort, 1)
		ch <- netip.MustParseAddrPort(l.Addr().String())
		close(ch)
		smbprobe.New(&smbprobe.Config{Shares: true}).Run(context.Background(), ch, func(r *smbprobe.Result) error { os.Stdout.WriteString(d.Name()+" "); return enc.Encode(r) })
		l.Close(); srv.Close()
	}
}
