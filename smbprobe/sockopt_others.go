//go:build !linux

package smbprobe

import (
	"context"
	"net"
	"syscall"
)

// dialControl leaves the socket as it is outside Linux: the packet-saving
// options of sockopt_linux.go (TCP_QUICKACK, SO_LINGER 0 on every
// connection) are Linux-specific in how they behave.
func dialControl(context.Context, string, string, syscall.RawConn) error { return nil }

// tuneConn does nothing outside Linux.
func tuneConn(net.Conn, bool) {}
