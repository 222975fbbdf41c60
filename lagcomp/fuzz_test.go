package lagcomp

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// bytesReader reads the fuzzer's bytes, zeros once they run out.
type bytesReader []byte

func (r *bytesReader) byte() byte {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

func (r *bytesReader) uint16() uint16 { return uint16(r.byte()) | uint16(r.byte())<<8 }

func (r *bytesReader) uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = r.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

// coord is a small integer mostly, now and then any float64 (NaN,
// infinities, huge).
func (r *bytesReader) coord() float64 {
	b := r.byte()
	if b == 0xff {
		return math.Float64frombits(r.uint64())
	}
	return float64(int8(b)) / 2
}

// FuzzRewind records a few worlds made of the fuzzer's bytes, rewinds to
// a view time and casts a ray there: it never panics, the time judged is
// clamped as documented, the world is the records' by the interpolation
// rule, a hit is in the world and within the ray, and the rewind, the
// ray and the shapes allocate nothing.
func FuzzRewind(f *testing.F) {
	f.Add([]byte{}, int64(0), int32(0), int32(0), 0.0, 0.0, 1.0, 0.0, 10.0)
	// Two records 100 ms apart of entities crossing the ray.
	f.Add([]byte{3, 7, 0, 0, 2,
		100, 0, 3, 1, 20, 236, 2, 2, 40, 0, 2, 3, 10, 10, 2,
		100, 0, 3, 1, 20, 20, 2, 4, 30, 0, 2, 3, 10, 12, 2},
		int64(time.Second), int32(200), int32(50), 0.0, 0.0, 1.0, 0.0, 100.0)
	// Many records, a small window, a lying view.
	f.Add([]byte{5, 3, 3, 4, 7,
		10, 0, 1, 1, 2, 2, 4,
		10, 0, 1, 1, 4, 2, 4,
		30, 0, 2, 1, 6, 2, 4, 1, 6, 2, 4,
		0, 0, 1, 1, 8, 2, 4,
		10, 0, 1, 2, 8, 2, 4,
		255, 255, 1, 2, 8, 2, 4,
		10, 0, 1, 5, 0xff, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 2, 4},
		int64(-time.Hour), int32(80), int32(1<<30), 1.0, 2.0, 1.0, 0.5, math.Inf(1))
	// The ends of time.
	f.Add([]byte{2, 2, 1, 1, 3, 0, 0, 1, 1, 0, 0, 2, 1, 0, 1, 2, 1, 0}, int64(math.MinInt64), int32(-5), int32(-7), 0.0, 0.0, 0.0, 1.0, -1.0)
	f.Add([]byte{2, 2, 1, 1, 3, 0, 0, 1, 1, 0, 0, 2, 1, 0, 1, 2, 1, 0}, int64(math.MaxInt64-int64(time.Millisecond)), int32(5), int32(3), 0.0, 0.0, 0.0, 1.0, 1.0)

	f.Fuzz(func(t *testing.T, data []byte, start int64, nowOff, viewOff int32, x, y, dx, dy, length float64) {
		in := bytesReader(data)
		cfg := Config{
			Frames:    1 + int(in.byte()%6),
			MaxShapes: 1 + int(in.byte()%8),
			Window:    time.Duration(in.byte()) * 10 * ms,
			MaxRewind: time.Duration(in.byte()) * 5 * ms,
		}
		h, m := New(cfg), newModel(cfg)
		maxRewind := h.cfg.MaxRewind
		skipMod := uint64(in.byte() % 4)

		// The records: times in milliseconds from start (wrapping, as
		// they may), shapes of a few ids.
		tm := time.Duration(start)
		shapes := make([]Shape, 0, 16)
		for range in.byte() % 8 {
			tm += time.Duration(int16(in.uint16())) * ms
			shapes = shapes[:0]
			for range in.byte() % 12 {
				shapes = append(shapes, Shape{ID: uint64(in.byte() % 12), X: in.coord(), Y: in.coord(), R: in.coord()})
			}
			h.Record(tm, shapes)
			m.record(tm, shapes)
		}
		st := h.Stats()
		if st.Frames != len(m.recs) || st.Truncated != m.truncated || st.Unordered != m.unordered {
			t.Fatalf("stats %+v, model has %d records, %d truncated, %d unordered", st, len(m.recs), m.truncated, m.unordered)
		}
		if st.Frames > h.cfg.Frames {
			t.Fatalf("%d records kept, more than %d", st.Frames, h.cfg.Frames)
		}

		now := time.Duration(start) + time.Duration(nowOff)*ms
		view := now - time.Duration(viewOff)*ms
		r := h.Rewind(now, view)

		if r.Asked != view || r.Capped != (r.At != view) {
			t.Fatalf("asked %v, capped %v, at %v: view %v", r.Asked, r.Capped, r.At, view)
		}
		if r.By != subSat(now, r.At) {
			t.Fatalf("by %v, at %v, now %v", r.By, r.At, now)
		}
		lo1 := subSat(now, maxRewind)
		if st.Frames == 0 {
			if want := min(max(view, lo1), now); r.At != want {
				t.Fatalf("empty history: at %v, want %v", r.At, want)
			}
			if len(r.Shapes(nil)) != 0 {
				t.Fatal("empty history, shapes")
			}
		} else {
			if st.Oldest != m.recs[0].t || st.Newest != m.recs[len(m.recs)-1].t {
				t.Fatalf("stats %+v, model from %v to %v", st, m.recs[0].t, m.recs[len(m.recs)-1].t)
			}
			lo, hi := max(lo1, st.Oldest), min(now, st.Newest)
			switch {
			case lo <= hi:
				if r.At < lo || r.At > hi {
					t.Fatalf("at %v, outside [%v, %v]", r.At, lo, hi)
				}
				if r.By < 0 || r.By > maxRewind {
					t.Fatalf("by %v, outside [0, %v]", r.By, maxRewind)
				}
			case st.Oldest > now:
				if r.At != st.Oldest {
					t.Fatalf("at %v, history from %v after now %v", r.At, st.Oldest, now)
				}
			default:
				if r.At != st.Newest {
					t.Fatalf("at %v, history to %v before %v", r.At, st.Newest, lo1)
				}
			}
			checkWorld(t, m, r, r.At)
		}

		world := r.Shapes(make([]Shape, 0, 16))
		for id := range uint64(13) {
			if _, ok := find(world, id); !ok {
				if _, ok := r.Shape(id); ok {
					t.Fatalf("shape %d, not in the world", id)
				}
			}
		}

		skip := func(id uint64) bool { return skipMod != 0 && id%skipMod == 0 }
		hit, ok := r.Raycast(x, y, dx, dy, length, skip)
		hit2, ok2 := Raycast(world, x, y, dx, dy, length, skip)
		if ok != ok2 || hit != hit2 {
			t.Fatalf("method %v %+v, function %v %+v", ok, hit, ok2, hit2)
		}
		if ok {
			if s, in := find(world, hit.Shape.ID); !in || !sameShape(s, hit.Shape) {
				t.Fatalf("hit %+v, not in the world %+v", hit, world)
			}
			if skip(hit.Shape.ID) {
				t.Fatalf("hit %+v, skipped", hit)
			}
			if !(hit.Dist >= 0 && hit.Dist <= max(length, 0)) {
				t.Fatalf("hit at %v, ray of %v", hit.Dist, length)
			}
		}
		// No shape of the world is hit nearer.
		for _, s := range world {
			if d, hitS := Raycast([]Shape{s}, x, y, dx, dy, length, skip); hitS && (!ok || d.Dist < hit.Dist) {
				t.Fatalf("%+v hit at %v, nearer than %+v (%v)", s, d.Dist, hit, ok)
			}
		}

		dst := make([]Shape, 0, 16)
		allocs := testing.AllocsPerRun(10, func() {
			r := h.Rewind(now, view)
			r.Raycast(x, y, dx, dy, length, skip)
			dst = r.Shapes(dst[:0])
		})
		if allocs != 0 {
			t.Fatalf("%v allocations", allocs)
		}
	})
}
