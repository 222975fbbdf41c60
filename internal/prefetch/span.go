package prefetch

import (
	"math/bits"
	"unsafe"
)

// A Span is the cache lines of an object that a hot path reads: line i
// counted from the line Base is in, for each bit i set in Lines (up to 64
// lines). Lines the hot path never touches (say, a table it does not
// consult) are left out of Prefetch, which saves a load from memory for
// each. The zero Span prefetches nothing.
type Span struct {
	Base  unsafe.Pointer
	Lines uint64
}

// Whole is the Span of all n bytes at p (the zero Span for a nil p or
// more than 64 lines).
func Whole(p unsafe.Pointer, n uintptr) Span {
	return Span{Base: p}.Add(0, n)
}

// Add returns s with the lines that hold the n bytes at offset off from
// Base added; s unchanged when they would reach past its 64th line.
func (s Span) Add(off, n uintptr) Span {
	if s.Base == nil || n == 0 {
		return s
	}
	start := uintptr(s.Base)%LineSize + off
	first, last := start/LineSize, (start+n-1)/LineSize
	if last >= 64 {
		return s
	}
	s.Lines |= (uint64(1)<<(last-first+1) - 1) << first
	return s
}

// Prefetch prefetches the lines of s.
func (s Span) Prefetch() {
	if s.Base != nil {
		Lines(s.Base, s.Lines)
	}
}

// Len is the number of cache lines Prefetch asks for.
func (s Span) Len() int {
	if s.Base == nil {
		return 0
	}
	return bits.OnesCount64(s.Lines)
}
