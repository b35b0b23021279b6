//go:build unix

package blocklist

import (
	"os"
	"syscall"
)

// reloadSignals are the signals that make Watcher.Run reload: SIGHUP, the
// Unix convention for "re-read your configuration".
func reloadSignals() []os.Signal {
	return []os.Signal{syscall.SIGHUP}
}
