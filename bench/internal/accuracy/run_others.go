//go:build !linux

package accuracy

import (
	"context"
	"fmt"
	"runtime"

	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

// Run is implemented on Linux only.
func Run(ctx context.Context, env *benchkit.Env) (*benchkit.Section, error) {
	return nil, fmt.Errorf("accuracy: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}
