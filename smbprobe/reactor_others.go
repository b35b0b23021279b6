//go:build !linux

package smbprobe

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// reactor is Linux-only (reactor_linux.go); elsewhere every probe runs as
// blocking sessions.
type reactor struct{}

func newReactor(*Prober) *reactor { return nil }

func (*reactor) probe(context.Context, netip.AddrPort, time.Time, *smb2Dialog, *smb1Dialog) error {
	panic("smbprobe: no reactor on this OS")
}

func (*reactor) start(*pending, chan<- finished) {
	panic("smbprobe: no reactor on this OS")
}

func (*reactor) expireAll(chan<- finished) {}

func (*reactor) cutShort(netip.Prefix, time.Time, bool) {}

// socketDial is nil off Linux: Config.Socket is unused there.
func socketDial(func(int) (int, error)) func(context.Context, string, string) (net.Conn, error) {
	return nil
}
