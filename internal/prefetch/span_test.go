package prefetch

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestSpan(t *testing.T) {
	buf := make([]byte, 64*70)
	for i := range buf {
		buf[i] = byte(i)
	}
	want := bytes.Clone(buf)
	// A base at the start of a line, and one 8 bytes into a line (as Go
	// places an object after its 8-byte allocation header).
	p := unsafe.Pointer(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))&^(LineSize-1) + LineSize)
	q := unsafe.Add(p, 8)

	var zero Span
	zero.Prefetch() // nothing, no fault
	if zero.Len() != 0 {
		t.Errorf("zero span: %d lines", zero.Len())
	}
	if w := Whole(nil, 100); w != zero {
		t.Errorf("Whole(nil) = %+v", w)
	}
	if w := Whole(p, 65*LineSize); w.Len() != 0 {
		t.Errorf("Whole of more than 64 lines = %+v", w)
	}
	if w := Whole(p, 64*LineSize); w.Lines != ^uint64(0) {
		t.Errorf("Whole of 64 lines = %+v", w)
	}

	for _, c := range []struct {
		base  unsafe.Pointer
		parts [][2]uintptr // offset, length
		lines uint64
	}{
		{p, [][2]uintptr{{0, 760}}, 1<<12 - 1},
		{q, [][2]uintptr{{0, 760}}, 1<<12 - 1}, // 8+760 bytes: still 12 lines
		{q, [][2]uintptr{{0, 1744}}, 1<<28 - 1},
		{p, [][2]uintptr{{0, 1}}, 1},
		{p, [][2]uintptr{{63, 2}}, 3},
		{q, [][2]uintptr{{56, 1}}, 2},
		// AES-128-GCM's state as a short packet reads it: the key
		// schedule's 184 bytes, two sizes at 488, the last 32 bytes of
		// the hash table: lines 0 to 2, 7 and 11.
		{p, [][2]uintptr{{0, 184}, {488, 16}, {728, 32}}, 0b1000_1000_0111},
		{p, [][2]uintptr{{100, 0}}, 0},
	} {
		s := Span{Base: c.base}
		for _, r := range c.parts {
			s = s.Add(r[0], r[1])
		}
		if s.Lines != c.lines {
			t.Errorf("base+%d %v: lines %b, want %b", uintptr(c.base)%LineSize, c.parts, s.Lines, c.lines)
		}
		s.Prefetch()
	}
	if !bytes.Equal(buf, want) {
		t.Fatal("a prefetch changed memory")
	}
}
