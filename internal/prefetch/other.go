//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Range prefetches the cache lines that hold the n bytes at p; on this
// architecture it does nothing.
func Range(p unsafe.Pointer, n uintptr) {}
