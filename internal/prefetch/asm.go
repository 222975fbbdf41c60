//go:build amd64 || arm64

package prefetch

import "unsafe"

// Range prefetches the cache lines that hold the n bytes at p. p need not
// point to valid memory: a prefetch never faults.
//
//go:noescape
func Range(p unsafe.Pointer, n uintptr)
