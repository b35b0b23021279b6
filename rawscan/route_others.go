//go:build !linux

package rawscan

import (
	"context"
	"fmt"
	"runtime"
)

// FindRoute returns an error: route discovery uses rtnetlink, which exists
// only on Linux.
func FindRoute(context.Context, *RouteConfig) (*Route, error) {
	return nil, fmt.Errorf("rawscan: route discovery is not available on %s/%s", runtime.GOOS, runtime.GOARCH)
}
