//go:build !linux

package pipeline

// maxWorkers is unlimited off Linux: the pipeline's raw sockets are
// Linux-only, so it never runs there.
func maxWorkers() int { return 1 << 30 }
