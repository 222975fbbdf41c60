package prefetch

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestSpan(t *testing.T) {
	buf := make([]byte, 1024)
	for i := range buf {
		buf[i] = byte(i)
	}
	want := bytes.Clone(buf)
	p := unsafe.Pointer(unsafe.SliceData(buf))

	var zero Span
	zero.Prefetch() // nothing, no fault
	if zero.Lines() != 0 {
		t.Errorf("zero span: %d lines", zero.Lines())
	}
	if w := Whole(nil, 100); w != zero {
		t.Errorf("Whole(nil) = %+v", w)
	}
	if w := Whole(p, 1<<16); w != zero {
		t.Errorf("Whole of more than a Span holds = %+v", w)
	}

	w := Whole(p, 760)
	if w.Head != 760 || w.Tail != 760 || w.End != 760 || w.Lines() != 12 {
		t.Errorf("Whole(760) = %+v, %d lines", w, w.Lines())
	}
	w.Prefetch()
	// AES-128-GCM's state: the key schedule's 184 bytes, then the hash
	// table from byte 488 to 760; 3 lines and 5.
	s := Span{Base: p, Head: 184, Tail: 488, End: 760}
	if s.Lines() != 8 {
		t.Errorf("split span: %d lines, want 8", s.Lines())
	}
	s.Prefetch()
	if !bytes.Equal(buf, want) {
		t.Fatal("a prefetch changed memory")
	}
}
