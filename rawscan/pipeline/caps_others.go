//go:build !linux

package pipeline

import (
	"fmt"
	"runtime"
)

// DropCapabilities is Linux only; elsewhere it fails naming the GOOS.
func DropCapabilities() error {
	return fmt.Errorf("pipeline: capabilities are not available on %s/%s", runtime.GOOS, runtime.GOARCH)
}
