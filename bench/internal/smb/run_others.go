//go:build !linux

package smb

import (
	"context"
	"fmt"
	"runtime"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// Run needs Linux network namespaces: the lab is Linux-only.
func Run(context.Context, *benchkit.Env) (*benchkit.Section, error) {
	return nil, fmt.Errorf("smb: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}
