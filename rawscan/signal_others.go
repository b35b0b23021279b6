//go:build !unix

package rawscan

import "os"

// RateSignals returns nil, nil: this OS has no SIGUSR1 and SIGUSR2.
func RateSignals() (up, down os.Signal) { return nil, nil }
