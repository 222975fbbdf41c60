package prefetch

import "unsafe"

// A Span is an object in memory of which a hot path reads two parts: the
// bytes [0, Head) and [Tail, End) from Base. The part between them (say, a
// table the hot path never consults) is left out of Prefetch, which saves
// a load per cache line it spans. The zero Span prefetches nothing.
type Span struct {
	Base            unsafe.Pointer
	Head, Tail, End uint16
}

// Whole is the Span of all n bytes at p.
func Whole(p unsafe.Pointer, n uintptr) Span {
	if p == nil || n > 0xFFFF {
		return Span{}
	}
	return Span{Base: p, Head: uint16(n), Tail: uint16(n), End: uint16(n)}
}

// Prefetch prefetches both parts of s.
func (s Span) Prefetch() {
	if s.Base == nil {
		return
	}
	Range(s.Base, uintptr(s.Head))
	if s.End > s.Tail {
		Range(unsafe.Add(s.Base, s.Tail), uintptr(s.End-s.Tail))
	}
}

// Lines is the number of cache lines Prefetch asks for when Base is
// aligned to a line.
func (s Span) Lines() int {
	if s.Base == nil {
		return 0
	}
	n := (int(s.Head) + LineSize - 1) / LineSize
	if s.End > s.Tail {
		n += (int(s.End)+LineSize-1)/LineSize - int(s.Tail)/LineSize
	}
	return n
}
