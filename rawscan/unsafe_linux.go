//go:build linux

package rawscan

import "unsafe"

// unsafePointer returns a pointer to b's first byte, for reading a kernel
// struct that b is known to be at least as long as.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
