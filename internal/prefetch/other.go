//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Range prefetches the cache lines that hold the n bytes at p; on this
// architecture it does nothing.
func Range(p unsafe.Pointer, n uintptr) {}

// Line prefetches the cache line that holds the byte at p; on this
// architecture it does nothing.
func Line(p unsafe.Pointer) {}

// Lines prefetches line i counted from the line base is in, for each bit
// i set in mask; on this architecture it does nothing.
func Lines(base unsafe.Pointer, mask uint64) {}
