//go:build amd64 || arm64

package prefetch

import "unsafe"

// Range prefetches the cache lines that hold the n bytes at p. p need not
// point to valid memory: a prefetch never faults.
//
//go:noescape
func Range(p unsafe.Pointer, n uintptr)

// Line prefetches the cache line that holds the byte at p: Range(p, 1) in
// fewer instructions, for the many single lines (a slot of a slice, a
// word) a hot path asks for.
//
//go:noescape
func Line(p unsafe.Pointer)

// Lines prefetches line i counted from the line base is in, for each bit
// i set in mask: a Span's lines in one call.
//
//go:noescape
func Lines(base unsafe.Pointer, mask uint64)
