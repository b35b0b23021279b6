//go:build !unix

package blocklist

import "os"

// reloadSignals is empty where there is no SIGHUP; Watcher.Run then
// reloads on file changes only.
func reloadSignals() []os.Signal {
	return nil
}
