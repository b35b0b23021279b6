//go:build !linux

package endtoend

import (
	"context"
	"fmt"
	"runtime"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// Run is the section's benchkit.Runner; the lab is Linux-only.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	return nil, fmt.Errorf("endtoend: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}
