//go:build !linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
)

// ErrNotSupported is returned by every lab operation outside Linux.
var ErrNotSupported = fmt.Errorf("lab: network namespaces are not available on %s", runtime.GOOS)

// ErrMissingTools is wrapped by Up when a program the lab runs is missing.
var ErrMissingTools = errors.New("lab: missing tools")

// Lab is a running lab; outside Linux none can exist.
type Lab struct{}

// Up returns ErrNotSupported.
func Up(ctx context.Context, cfg *Config) (*Lab, error) { return nil, ErrNotSupported }

// Down returns ErrNotSupported.
func Down(prefix string) error { return ErrNotSupported }

// DownConfig returns ErrNotSupported.
func DownConfig(cfg *Config) error { return ErrNotSupported }

// Close returns ErrNotSupported.
func (l *Lab) Close() error { return ErrNotSupported }

// Status returns the zero Status.
func (l *Lab) Status() Status { return Status{} }

// Do returns ErrNotSupported.
func (l *Lab) Do(fn func() error) error { return ErrNotSupported }

// DialContext returns ErrNotSupported.
func (l *Lab) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return nil, ErrNotSupported
}

// Command returns a command that fails with ErrNotSupported.
func (l *Lab) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Err = ErrNotSupported
	return cmd
}

// GroundTruth returns ErrNotSupported.
func (l *Lab) GroundTruth() (*GroundTruth, error) { return nil, ErrNotSupported }

// ReadStatus returns ErrNotSupported.
func ReadStatus(cfg *Config) (Status, error) { return Status{}, ErrNotSupported }

// Counters returns ErrNotSupported.
func (l *Lab) Counters() (map[string]IfCounters, error) { return nil, ErrNotSupported }

// Capture records the scanner namespace's frames; outside Linux none can
// exist.
type Capture struct{}

// Capture returns ErrNotSupported.
func (l *Lab) Capture(path string) (*Capture, error) { return nil, ErrNotSupported }

// Frames returns 0.
func (c *Capture) Frames() int { return 0 }

// Stop returns ErrNotSupported.
func (c *Capture) Stop() (int, error) { return 0, ErrNotSupported }

// Attach returns ErrNotSupported.
func Attach(cfg *Config) (*Lab, error) { return nil, ErrNotSupported }

// Detach returns ErrNotSupported.
func (l *Lab) Detach() error { return ErrNotSupported }

// SetLoss returns ErrNotSupported.
func (l *Lab) SetLoss(ctx context.Context, loss float64) error { return ErrNotSupported }
