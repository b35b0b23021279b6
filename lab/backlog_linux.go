package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// listenShimC is an LD_PRELOAD library that raises the backlog of every
// listen(2) call of the process to at least SMBSWEEP_LISTEN_BACKLOG. The
// kernel still caps it at net.core.somaxconn (listen(2), "If the backlog
// argument is greater than the value in /proc/sys/net/core/somaxconn, then
// it is silently truncated"). smbd calls listen(fd, SMBD_LISTEN_BACKLOG)
// with the constant 50 (source3/smbd/server.c) and has no smb.conf option
// for it.
const listenShimC = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

int listen(int fd, int backlog) {
	static int (*next)(int, int);
	if (!next)
		next = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	const char *s = getenv("SMBSWEEP_LISTEN_BACKLOG");
	if (s) {
		int b = atoi(s);
		if (b > backlog)
			backlog = b;
	}
	return next(fd, backlog);
}
`

// listenShimEnv builds the shim into the lab's state directory with gcc
// and returns the environment that loads it with the given backlog.
func (l *Lab) listenShimEnv(ctx context.Context, backlog int) ([]string, error) {
	src := filepath.Join(l.dir, "listen-backlog.c")
	so := filepath.Join(l.dir, "listen-backlog.so")
	if err := os.WriteFile(src, []byte(listenShimC), 0o644); err != nil {
		return nil, fmt.Errorf("lab: listen backlog shim: %w", err)
	}
	r := runner{logf: l.cfg.Logf}
	if err := r.run(ctx, "", "gcc", "-shared", "-fPIC", "-O2", "-o", so, src, "-ldl"); err != nil {
		return nil, fmt.Errorf("lab: listen backlog shim (needs gcc): %w", err)
	}
	return []string{"LD_PRELOAD=" + so, "SMBSWEEP_LISTEN_BACKLOG=" + strconv.Itoa(backlog)}, nil
}
