package prefetch

import (
	"bytes"
	"testing"
	"unsafe"
)

// A prefetch never faults and never changes memory, whatever the address
// and length: nil, unaligned, past the end of an object, wrapping around
// the address space.
func TestRangeIsHarmless(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	want := bytes.Clone(buf)
	p := unsafe.Pointer(unsafe.SliceData(buf))
	Range(nil, 0)
	Range(nil, 1<<16)                                  // unmapped memory
	Range(p, 0)                                        // nothing
	Range(unsafe.Add(p, 3), 1)                         // unaligned, one byte
	Range(unsafe.Add(p, 63), 2)                        // across a line boundary
	Range(p, uintptr(len(buf))<<4)                     // far past the end of the object
	Range(unsafe.Add(unsafe.Pointer(nil), -64), 1<<20) // the last line of the address space, and a length that wraps
	Bytes(nil)
	Bytes(buf[:0])
	Bytes(buf)
	Line(nil)
	Line(unsafe.Add(p, 4095))
	Line(unsafe.Add(unsafe.Pointer(nil), -1))
	Lines(nil, ^uint64(0))                                   // unmapped memory, every line
	Lines(p, 0)                                              // nothing
	Lines(unsafe.Add(p, 5), 1|1<<7|1<<63)                    // unaligned base, lines past the object
	Lines(unsafe.Add(unsafe.Pointer(nil), -128), ^uint64(0)) // lines that wrap around the address space
	if !bytes.Equal(buf, want) {
		t.Fatal("a prefetch changed memory")
	}
}

// Lines costs a few instructions per line asked for, one call for all.
func BenchmarkLines(b *testing.B) {
	buf := make([]byte, 2048)
	p := unsafe.Pointer(unsafe.SliceData(buf))
	b.ReportAllocs()
	for b.Loop() {
		Lines(p, 0b1000_1000_0111)
	}
}

// Range stops at the end of its span: its cost is one instruction per
// cache line, not more.
func BenchmarkRange(b *testing.B) {
	buf := make([]byte, 2048)
	p := unsafe.Pointer(unsafe.SliceData(buf))
	b.ReportAllocs()
	for b.Loop() {
		Range(p, uintptr(len(buf)))
	}
}
