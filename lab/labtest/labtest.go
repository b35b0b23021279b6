// Package labtest brings a lab (package lab) up for one test.
//
// New gives each call its own prefix, so tests in different packages, run
// in parallel by go test ./..., get separate labs. It is for tests only;
// programs use lab.Up.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/lab"
)

// counter numbers the labs of one test process.
var counter atomic.Uint32

// Prefix returns a lab prefix unique to this process and call:
// "sst<pid>x<n>-".
func Prefix() string {
	return fmt.Sprintf("sst%dx%d-", os.Getpid(), counter.Add(1))
}

// New brings up a lab for tb with cfg (nil for defaults) and a unique
// prefix (cfg.Prefix is overridden unless set), logs through tb.Logf when
// cfg.Logf is nil and testing.Verbose, and removes the lab in tb.Cleanup. It
// skips tb when not root or when the lab's tools are missing, and fails it
// on any other error.
func New(tb testing.TB, cfg *lab.Config) *lab.Lab {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("labtest: needs root")
	}
	var c lab.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Prefix == "" {
		c.Prefix = Prefix()
	}
	if c.Logf == nil && testing.Verbose() {
		c.Logf = tb.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Up(ctx, &c)
	switch {
	case errors.Is(err, lab.ErrMissingTools):
		tb.Skipf("labtest: %v", err)
	case errors.Is(err, os.ErrPermission):
		tb.Skipf("labtest: %v", err)
	case err != nil:
		tb.Fatalf("labtest: up: %v", err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Errorf("labtest: down: %v", err)
		}
	})
	return l
}
