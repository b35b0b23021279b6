//go:build !linux

package rawscan

import (
	"fmt"
	"runtime"
)

// errNotLinux is returned by every AF_PACKET constructor off Linux.
var errNotLinux = fmt.Errorf("rawscan: AF_PACKET sockets are not available on %s/%s", runtime.GOOS, runtime.GOARCH)

// OpenTx returns an error: AF_PACKET exists only on Linux.
func OpenTx(*AFPacketConfig) (TxConn, error) { return nil, errNotLinux }

// OpenTxRing returns an error: AF_PACKET exists only on Linux.
func OpenTxRing(*AFPacketConfig) (TxConn, error) { return nil, errNotLinux }

// OpenRx returns an error: AF_PACKET exists only on Linux.
func OpenRx(*AFPacketConfig, Filterer) (RxConn, error) { return nil, errNotLinux }

// OpenRxRing returns an error: AF_PACKET exists only on Linux.
func OpenRxRing(*AFPacketConfig, Filterer) (RxConn, error) { return nil, errNotLinux }
