package lagcomp

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = time.Millisecond

func ids(shapes []Shape) []uint64 {
	out := []uint64{}
	for _, s := range shapes {
		out = append(out, s.ID)
	}
	return out
}

// world returns the shapes of the world at t, judged then.
func world(h *History, t time.Duration) []Shape {
	return h.Rewind(t, t).Shapes(nil)
}

func TestConfigDefaults(t *testing.T) {
	want := Config{Window: DefaultWindow, Frames: DefaultFrames, MaxShapes: DefaultMaxShapes, MaxRewind: DefaultMaxRewind}
	assert.Equal(t, want, New(Config{}).cfg)
	assert.Equal(t, want, New(Config{Window: -1, Frames: -1, MaxShapes: -1, MaxRewind: -1}).cfg)
	cfg := Config{Window: 3 * ms, Frames: 5, MaxShapes: 7, MaxRewind: 11 * ms}
	assert.Equal(t, cfg, New(cfg).cfg)

	// The defaults at work: 128 frames, 4,096 shapes, 200 ms.
	h := New(Config{})
	shapes := make([]Shape, 5000)
	for i := range shapes {
		shapes[i] = Shape{ID: uint64(i), R: 1}
	}
	for i := range 200 {
		h.Record(time.Duration(i)*ms, shapes)
	}
	st := h.Stats()
	assert.Equal(t, DefaultFrames, st.Frames)
	assert.Equal(t, 72*ms, st.Oldest)
	assert.Equal(t, 199*ms, st.Newest)
	assert.Equal(t, uint64(200*(5000-DefaultMaxShapes)), st.Truncated)
	assert.Len(t, world(h, 150*ms), DefaultMaxShapes)
	r := h.Rewind(199*ms, 0)     // 199 ms - 200 ms, and then
	assert.Equal(t, 72*ms, r.At) // the oldest kept
}

func TestStatsEmpty(t *testing.T) {
	h := New(Config{})
	assert.Equal(t, Stats{}, h.Stats())
}

func TestRecordRefusesUnordered(t *testing.T) {
	h := New(Config{})
	h.Record(time.Second, []Shape{{ID: 1, X: 1, R: 1}})
	h.Record(time.Second, []Shape{{ID: 2, X: 2, R: 1}})   // same time
	h.Record(time.Second/2, []Shape{{ID: 3, X: 3, R: 1}}) // earlier
	st := h.Stats()
	assert.Equal(t, uint64(2), st.Unordered)
	assert.Equal(t, 1, st.Frames)
	assert.Equal(t, time.Second, st.Oldest)
	assert.Equal(t, time.Second, st.Newest)
	assert.Equal(t, []Shape{{ID: 1, X: 1, R: 1}}, world(h, time.Second))

	// Negative times are times like others.
	h = New(Config{})
	h.Record(-2*time.Second, nil)
	h.Record(-time.Second, nil)
	assert.Equal(t, uint64(0), h.Stats().Unordered)
	assert.Equal(t, 2, h.Stats().Frames)
}

func TestRecordWindow(t *testing.T) {
	h := New(Config{Window: 100 * ms})
	for i := 0; i <= 100; i++ {
		h.Record(time.Duration(i)*10*ms, []Shape{{ID: uint64(i), R: 1}})
	}
	st := h.Stats()
	// A record exactly Window old is kept: 900 ms to 1 s.
	assert.Equal(t, 11, st.Frames)
	assert.Equal(t, 900*ms, st.Oldest)
	assert.Equal(t, time.Second, st.Newest)

	// A gap longer than the window keeps the newest record alone.
	h.Record(time.Hour, []Shape{{ID: 7, R: 1}})
	st = h.Stats()
	assert.Equal(t, 1, st.Frames)
	assert.Equal(t, time.Hour, st.Oldest)
	assert.Equal(t, []uint64{7}, ids(world(h, time.Hour)))

	// Times at the ends of time.Duration do not overflow the window.
	h = New(Config{Window: 100 * ms})
	h.Record(math.MinInt64, nil)
	h.Record(math.MinInt64+50*ms, nil)
	h.Record(math.MaxInt64, nil)
	st = h.Stats()
	assert.Equal(t, 1, st.Frames)
	assert.Equal(t, time.Duration(math.MaxInt64), st.Oldest)
}

func TestRecordFrames(t *testing.T) {
	h := New(Config{Frames: 4})
	for i := range 10 {
		h.Record(time.Duration(i)*ms, []Shape{{ID: uint64(i), R: 1}})
	}
	st := h.Stats()
	assert.Equal(t, 4, st.Frames)
	assert.Equal(t, 6*ms, st.Oldest)
	assert.Equal(t, 9*ms, st.Newest)
	for i := 6; i < 10; i++ {
		assert.Equal(t, []uint64{uint64(i)}, ids(world(h, time.Duration(i)*ms)))
	}
	assert.Len(t, h.ring, 4)

	h = New(Config{Frames: 1})
	h.Record(1, nil)
	h.Record(2, []Shape{{ID: 2}})
	st = h.Stats()
	assert.Equal(t, 1, st.Frames)
	assert.Equal(t, time.Duration(2), st.Oldest)
}

func TestRecordMaxShapes(t *testing.T) {
	h := New(Config{MaxShapes: 3})
	h.Record(1, []Shape{{ID: 9}, {ID: 8}, {ID: 7}, {ID: 6}, {ID: 5}})
	assert.Equal(t, []uint64{7, 8, 9}, ids(world(h, 1))) // the first three given
	assert.Equal(t, uint64(2), h.Stats().Truncated)
	h.Record(2, []Shape{{ID: 1}, {ID: 2}, {ID: 3}})
	assert.Equal(t, uint64(2), h.Stats().Truncated)
	assert.Equal(t, []uint64{1, 2, 3}, ids(world(h, 2)))
}

func TestRecordDuplicateIDs(t *testing.T) {
	h := New(Config{})
	h.Record(1, []Shape{{ID: 2, X: 1}, {ID: 1, X: 2}, {ID: 2, X: 3}, {ID: 2, X: 4}, {ID: 0, X: 5}})
	assert.Equal(t, []Shape{{ID: 0, X: 5}, {ID: 1, X: 2}, {ID: 2, X: 1}}, world(h, 1))
	assert.Equal(t, uint64(0), h.Stats().Truncated)

	// Truncation comes first: of the first MaxShapes given.
	h = New(Config{MaxShapes: 2})
	h.Record(1, []Shape{{ID: 1, X: 1}, {ID: 1, X: 2}, {ID: 2, X: 3}})
	assert.Equal(t, []Shape{{ID: 1, X: 1}}, world(h, 1))
	assert.Equal(t, uint64(1), h.Stats().Truncated)

	// Many duplicates, beyond the sort's small runs, keep the first.
	var shapes []Shape
	for i := range 200 {
		shapes = append(shapes, Shape{ID: uint64(i % 7), X: float64(i)})
	}
	h = New(Config{})
	h.Record(1, shapes)
	got := world(h, 1)
	require.Len(t, got, 7)
	for i, s := range got {
		assert.Equal(t, Shape{ID: uint64(i), X: float64(i)}, s)
	}
}

func TestRecordCopies(t *testing.T) {
	h := New(Config{})
	shapes := []Shape{{ID: 2, X: 1, R: 1}, {ID: 1, X: 2, R: 1}}
	h.Record(1, shapes)
	shapes[0].X = 100
	shapes[1].ID = 9
	assert.Equal(t, []Shape{{ID: 1, X: 2, R: 1}, {ID: 2, X: 1, R: 1}}, world(h, 1))
	// The caller's order is left alone too.
	assert.Equal(t, []Shape{{ID: 2, X: 100, R: 1}, {ID: 9, X: 2, R: 1}}, shapes)
}

func TestRecordEmpty(t *testing.T) {
	h := New(Config{})
	h.Record(0, []Shape{{ID: 1, R: 1}})
	h.Record(10*ms, nil)
	assert.Empty(t, world(h, 10*ms))
	// Between: the entity removed is where it last was.
	assert.Equal(t, []uint64{1}, ids(world(h, 5*ms)))
}

// TestHistoryMatchesModel records at random times (dense then sparse, so
// that the window drops records and the ring grows while wrapped) and
// checks every record kept and the world between them against the model.
func TestHistoryMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range []Config{
		{Window: 50 * ms, Frames: 16, MaxShapes: 6},
		{Window: 30 * ms, Frames: 5, MaxShapes: 3},
		{Window: time.Second, Frames: 1},
		{Window: 20 * ms},
	} {
		h, m := New(cfg), newModel(cfg)
		now := time.Duration(0)
		for i := range 2000 {
			// Phases of dense and sparse records; now and then one
			// out of order.
			step := time.Duration(1+rng.IntN(3)) * ms
			if (i/100)%2 == 1 {
				step = time.Duration(5+rng.IntN(20)) * ms
			}
			if rng.IntN(20) == 0 {
				step = -time.Duration(rng.IntN(3)) * ms
			}
			now += step
			shapes := make([]Shape, rng.IntN(8))
			for j := range shapes {
				shapes[j] = Shape{ID: uint64(rng.IntN(10)), X: float64(rng.IntN(100)), Y: float64(rng.IntN(100)), R: float64(1 + rng.IntN(3))}
			}
			h.Record(now, shapes)
			m.record(now, shapes)

			st := h.Stats()
			require.Equal(t, len(m.recs), st.Frames)
			require.Equal(t, m.recs[0].t, st.Oldest)
			require.Equal(t, m.recs[len(m.recs)-1].t, st.Newest)
			require.Equal(t, m.truncated, st.Truncated)
			require.Equal(t, m.unordered, st.Unordered)
			require.LessOrEqual(t, len(h.ring), h.cfg.Frames)
			for k, r := range m.recs {
				require.Equal(t, r.shapes, world(h, r.t), "record %d at %v", k, r.t)
				require.Equal(t, r.t, h.at(k).t)
			}
			// A time between records.
			at := st.Oldest + time.Duration(rng.Int64N(int64(st.Newest-st.Oldest)+1))
			checkWorld(t, m, h.Rewind(st.Newest, at), at)
		}
	}
}

// checkWorld checks the world r (at the time at, within the records) by
// the interpolation rule, against the model's records.
func checkWorld(t *testing.T, m *model, r Rewind, at time.Duration) {
	t.Helper()
	a, b := m.around(at)
	require.NotNil(t, a)
	got := r.Shapes(nil)
	require.Equal(t, ids(a.shapes), ids(got), "the entities of the older record")
	for _, s := range got {
		sa, _ := find(a.shapes, s.ID)
		var sb Shape
		inB := false
		if b != nil {
			sb, inB = find(b.shapes, s.ID)
		}
		if !inB {
			require.True(t, sameShape(sa, s), "%+v, want %+v", s, sa)
		} else {
			requireBetween(t, sa.X, sb.X, s.X)
			requireBetween(t, sa.Y, sb.Y, s.Y)
			requireBetween(t, sa.R, sb.R, s.R)
		}
		one, ok := r.Shape(s.ID)
		require.True(t, ok)
		require.True(t, sameShape(s, one), "Shape %+v, Shapes %+v", one, s)
	}
}

// sameShape reports whether a and b are the same, bit for bit (NaNs
// included).
func sameShape(a, b Shape) bool {
	return a.ID == b.ID && math.Float64bits(a.X) == math.Float64bits(b.X) &&
		math.Float64bits(a.Y) == math.Float64bits(b.Y) && math.Float64bits(a.R) == math.Float64bits(b.R)
}

// requireBetween requires v between a and b (either way round; NaN when
// either is NaN or they are infinities of opposite signs).
func requireBetween(t *testing.T, a, b, v float64) {
	t.Helper()
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) && math.IsInf(b, 0) && a != b {
		return
	}
	require.False(t, math.IsNaN(v), "%v between %v and %v", v, a, b)
	require.True(t, min(a, b) <= v && v <= max(a, b), "%v between %v and %v", v, a, b)
}

func TestRewindInterpolation(t *testing.T) {
	h := New(Config{})
	h.Record(100*ms, []Shape{{ID: 1, X: 0, Y: 0, R: 1}, {ID: 2, X: 10, Y: 0, R: 1}, {ID: 3, X: 5, Y: 5, R: 1}})
	h.Record(200*ms, []Shape{{ID: 1, X: 10, Y: 20, R: 3}, {ID: 2, X: 10, Y: 0, R: 1}, {ID: 4, X: 7, Y: 7, R: 1}})

	r := h.Rewind(250*ms, 125*ms)
	assert.Equal(t, 125*ms, r.At)
	assert.Equal(t, 125*ms, r.By)
	assert.Equal(t, 125*ms, r.Asked)
	assert.False(t, r.Capped)
	assert.Equal(t, []Shape{
		{ID: 1, X: 2.5, Y: 5, R: 1.5}, // a quarter of the way
		{ID: 2, X: 10, Y: 0, R: 1},    // did not move
		{ID: 3, X: 5, Y: 5, R: 1},     // removed: where it last was
		// 4 appeared: not there yet
	}, r.Shapes(nil))
	s, ok := r.Shape(1)
	assert.True(t, ok)
	assert.Equal(t, Shape{ID: 1, X: 2.5, Y: 5, R: 1.5}, s)
	s, ok = r.Shape(3)
	assert.True(t, ok)
	assert.Equal(t, Shape{ID: 3, X: 5, Y: 5, R: 1}, s)
	_, ok = r.Shape(4)
	assert.False(t, ok)
	_, ok = r.Shape(5)
	assert.False(t, ok)
	_, ok = r.Shape(0)
	assert.False(t, ok)

	r = h.Rewind(250*ms, 190*ms)
	s, _ = r.Shape(1)
	assert.InDelta(t, 9, s.X, 1e-12)
	assert.InDelta(t, 18, s.Y, 1e-12)
	assert.InDelta(t, 2.8, s.R, 1e-12)

	// Shapes appends.
	dst := []Shape{{ID: 99}}
	dst = h.Rewind(250*ms, 150*ms).Shapes(dst)
	assert.Equal(t, []uint64{99, 1, 2, 3}, ids(dst))
	assert.Equal(t, Shape{ID: 1, X: 5, Y: 10, R: 2}, dst[1])
}

func TestRewindAtRecordTimes(t *testing.T) {
	h := New(Config{})
	older := []Shape{{ID: 1, X: 0, R: 1}, {ID: 3, X: 5, Y: 5, R: 1}}
	newer := []Shape{{ID: 1, X: 10, R: 1}, {ID: 4, X: 7, Y: 7, R: 1}}
	h.Record(100*ms, older)
	h.Record(200*ms, newer)
	h.Record(300*ms, nil)

	// At a record's time exactly, that record alone is the world.
	assert.Equal(t, older, world(h, 100*ms))
	assert.Equal(t, newer, world(h, 200*ms))
	assert.Empty(t, world(h, 300*ms))
	r := h.Rewind(300*ms, 200*ms)
	assert.False(t, r.Capped)
	assert.Equal(t, 100*ms, r.By)
	assert.Equal(t, newer, r.Shapes(nil))
	_, ok := r.Shape(3)
	assert.False(t, ok, "removed at the newer record's time")
	s, ok := r.Shape(4)
	assert.True(t, ok, "appeared at the newer record's time")
	assert.Equal(t, newer[1], s)

	// A nanosecond before, the older record's entities.
	r = h.Rewind(300*ms, 200*ms-1)
	assert.Equal(t, []uint64{1, 3}, ids(r.Shapes(nil)))
	_, ok = r.Shape(4)
	assert.False(t, ok)
	s, _ = r.Shape(1)
	assert.InDelta(t, 10, s.X, 1e-6)
	assert.Less(t, s.X, 10.0)
	// A nanosecond after, the 200 ms record is the older one: its
	// entities, until 300 ms.
	r = h.Rewind(300*ms, 200*ms+1)
	assert.Equal(t, []uint64{1, 4}, ids(r.Shapes(nil)))
}

func TestRewindClampToMaxRewind(t *testing.T) {
	h := New(Config{})
	for i := 0; i <= 1000; i++ {
		h.Record(time.Duration(i)*10*ms, []Shape{{ID: 1, X: float64(i), R: 1}})
	}
	now := 10 * time.Second

	// A lying client claims it saw the world an hour ago.
	r := h.Rewind(now, now-time.Hour)
	assert.Equal(t, now-DefaultMaxRewind, r.At)
	assert.Equal(t, DefaultMaxRewind, r.By)
	assert.Equal(t, now-time.Hour, r.Asked)
	assert.True(t, r.Capped)
	s, _ := r.Shape(1)
	assert.Equal(t, 980.0, s.X)
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Rewinds)
	assert.Equal(t, uint64(1), st.Capped)
	assert.Equal(t, uint64(0), st.Future)

	// At the bound exactly, not capped.
	r = h.Rewind(now, now-DefaultMaxRewind)
	assert.False(t, r.Capped)
	assert.Equal(t, DefaultMaxRewind, r.By)
	assert.Equal(t, uint64(1), h.Stats().Capped)

	// The ends of time.Duration do not overflow.
	r = h.Rewind(now, math.MinInt64)
	assert.Equal(t, now-DefaultMaxRewind, r.At)
	assert.True(t, r.Capped)
	r = h.Rewind(now, math.MaxInt64)
	assert.Equal(t, now, r.At)
	assert.True(t, r.Capped)
	assert.Equal(t, time.Duration(0), r.By)

	// A configured cap.
	h2 := New(Config{MaxRewind: 50 * ms})
	h2.Record(0, nil)
	h2.Record(time.Second, nil)
	r = h2.Rewind(time.Second, 0)
	assert.Equal(t, 950*ms, r.At)
	assert.Equal(t, 50*ms, r.By)
}

func TestRewindFuture(t *testing.T) {
	h := New(Config{})
	h.Record(0, []Shape{{ID: 1, X: 0, R: 1}})
	h.Record(time.Second, []Shape{{ID: 1, X: 10, R: 1}})
	r := h.Rewind(500*ms, 700*ms)
	assert.Equal(t, 500*ms, r.At)
	assert.Equal(t, time.Duration(0), r.By)
	assert.Equal(t, 700*ms, r.Asked)
	assert.True(t, r.Capped)
	s, _ := r.Shape(1)
	assert.Equal(t, 5.0, s.X)
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Future)
	assert.Equal(t, uint64(0), st.Capped)
}

func TestRewindOlderThanHistory(t *testing.T) {
	h := New(Config{Window: 50 * ms})
	for i := 0; i <= 100; i++ {
		h.Record(time.Duration(i)*10*ms, []Shape{{ID: 1, X: float64(i), R: 1}})
	}
	now := time.Second
	r := h.Rewind(now, now-150*ms) // within MaxRewind, before the history
	assert.Equal(t, 950*ms, r.At)
	assert.Equal(t, 50*ms, r.By)
	assert.True(t, r.Capped)
	s, _ := r.Shape(1)
	assert.Equal(t, 95.0, s.X)
	// Counted once, when both caps apply.
	h.Rewind(now, 0)
	st := h.Stats()
	assert.Equal(t, uint64(2), st.Capped)
	assert.Equal(t, uint64(2), st.Rewinds)
}

func TestRewindStaleHistory(t *testing.T) {
	h := New(Config{})
	h.Record(0, []Shape{{ID: 1, R: 1}})
	h.Record(time.Second, []Shape{{ID: 1, X: 1, R: 1}})

	// Nothing recorded lately: the newest record is judged.
	r := h.Rewind(10*time.Second, 10*time.Second-50*ms)
	assert.Equal(t, time.Second, r.At)
	assert.Equal(t, 9*time.Second, r.By)
	assert.True(t, r.Capped)
	assert.Equal(t, []Shape{{ID: 1, X: 1, R: 1}}, r.Shapes(nil))

	// A view after the newest record, within now: the newest.
	r = h.Rewind(1100*ms, 1050*ms)
	assert.Equal(t, time.Second, r.At)
	assert.Equal(t, 100*ms, r.By)
	assert.True(t, r.Capped)
	assert.Equal(t, uint64(0), h.Stats().Capped, "not older than the history nor MaxRewind")

	// Now before the history: its oldest record.
	r = h.Rewind(-time.Second, -time.Second)
	assert.Equal(t, time.Duration(0), r.At)
	assert.Equal(t, -time.Second, r.By)
	assert.True(t, r.Capped)
	assert.Equal(t, []Shape{{ID: 1, R: 1}}, r.Shapes(nil))
}

func TestRewindEmpty(t *testing.T) {
	h := New(Config{})
	r := h.Rewind(time.Second, 900*ms)
	assert.Equal(t, 900*ms, r.At)
	assert.Equal(t, 100*ms, r.By)
	assert.False(t, r.Capped)
	assert.Empty(t, r.Shapes(nil))
	_, ok := r.Shape(0)
	assert.False(t, ok)
	_, ok = r.Raycast(0, 0, 1, 0, math.Inf(1), nil)
	assert.False(t, ok)

	r = h.Rewind(time.Second, 0)
	assert.Equal(t, 800*ms, r.At)
	assert.Equal(t, DefaultMaxRewind, r.By)
	assert.True(t, r.Capped)
	assert.Equal(t, uint64(1), h.Stats().Capped)

	// The zero value is an empty world.
	var z Rewind
	assert.Nil(t, z.Shapes(nil))
	_, ok = z.Shape(0)
	assert.False(t, ok)
	_, ok = z.Raycast(0, 0, 1, 0, 1, nil)
	assert.False(t, ok)
}

func TestRewindRaycast(t *testing.T) {
	h := New(Config{})
	// 1 crosses the line x = 10 between its records; 2 is removed at
	// 200 ms, 3 appears then.
	h.Record(100*ms, []Shape{{ID: 1, X: 10, Y: -10, R: 1}, {ID: 2, X: 20, Y: 0, R: 1}})
	h.Record(200*ms, []Shape{{ID: 1, X: 10, Y: 10, R: 1}, {ID: 3, X: 5, Y: 0, R: 1}})
	now := 200 * ms

	r := h.Rewind(now, 150*ms)
	hit, ok := r.Raycast(0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(1), hit.Shape.ID)
	assert.Equal(t, Shape{ID: 1, X: 10, Y: 0, R: 1}, hit.Shape)
	assert.Equal(t, 9.0, hit.Dist)

	// Skipping 1, 2 (still there: removed only at 200 ms).
	hit, ok = r.Raycast(0, 0, 1, 0, 100, func(id uint64) bool { return id == 1 })
	require.True(t, ok)
	assert.Equal(t, uint64(2), hit.Shape.ID)
	assert.Equal(t, 19.0, hit.Dist)

	// At the present: 3 is there, 1 is not.
	hit, ok = h.Rewind(now, now).Raycast(0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(3), hit.Shape.ID)
	assert.Equal(t, 4.0, hit.Dist)
	_, ok = h.Rewind(now, now).Raycast(0, 0, 1, 0, 100, func(id uint64) bool { return id == 3 })
	assert.False(t, ok)

	// The method agrees with the function on the world's shapes.
	for view := 100 * ms; view <= now; view += 7 * ms {
		r := h.Rewind(now, view)
		shapes := r.Shapes(nil)
		for y := -12.0; y <= 12; y += 0.5 {
			h1, ok1 := r.Raycast(0, y, 1, 0, 15, nil)
			h2, ok2 := Raycast(shapes, 0, y, 1, 0, 15, nil)
			require.Equal(t, ok2, ok1)
			require.Equal(t, h2, h1)
		}
	}
}

func TestStatsMemory(t *testing.T) {
	h := New(Config{Frames: 4})
	shapes := make([]Shape, 10)
	for i := range 10 {
		h.Record(time.Duration(i), shapes)
	}
	st := h.Stats()
	recordSize := int(unsafe.Sizeof(record{}))
	shapeSize := int(unsafe.Sizeof(Shape{}))
	assert.Equal(t, 32, shapeSize)
	assert.GreaterOrEqual(t, st.Memory, 4*recordSize+4*10*shapeSize)
	want := cap(h.ring) * recordSize
	for _, r := range h.ring {
		want += cap(r.shapes) * shapeSize
	}
	assert.Equal(t, want, st.Memory)
	// Steady: the memory does not grow with more records of the same
	// size.
	for i := 10; i < 100; i++ {
		h.Record(time.Duration(i), shapes)
	}
	assert.Equal(t, st.Memory, h.Stats().Memory)
	// A record with fewer shapes keeps the array.
	h.Record(100, nil)
	assert.Equal(t, st.Memory, h.Stats().Memory)
}

func TestRecordNoAllocs(t *testing.T) {
	h := New(Config{Frames: 8, MaxShapes: 300})
	rng := rand.New(rand.NewPCG(3, 4))
	// Shuffled inputs, with duplicates and more than MaxShapes, to
	// exercise the sort, the compaction and the truncation.
	inputs := make([][]Shape, 4)
	for k := range inputs {
		inputs[k] = make([]Shape, 320)
		for i := range inputs[k] {
			inputs[k][i] = Shape{ID: uint64(i % 256), X: float64(i), R: 1}
		}
		rng.Shuffle(len(inputs[k]), func(i, j int) { inputs[k][i], inputs[k][j] = inputs[k][j], inputs[k][i] })
	}
	now := time.Duration(0)
	for range 32 { // warm up: the ring and its arrays grow
		now += ms
		h.Record(now, inputs[int(now/ms)%len(inputs)])
	}
	allocs := testing.AllocsPerRun(100, func() {
		now += ms
		h.Record(now, inputs[int(now/ms)%len(inputs)])
	})
	assert.Zero(t, allocs)
	// And refused records neither.
	allocs = testing.AllocsPerRun(100, func() { h.Record(0, inputs[0]) })
	assert.Zero(t, allocs)
}

func TestRewindNoAllocs(t *testing.T) {
	h := New(Config{})
	shapes := make([]Shape, 256)
	for i := range shapes {
		shapes[i] = Shape{ID: uint64(i), X: float64(i), Y: 5, R: 0.5}
	}
	h.Record(0, shapes)
	for i := range shapes {
		shapes[i].Y = -5
	}
	h.Record(100*ms, shapes)
	shooter := uint64(7)
	dst := make([]Shape, 0, 256)
	var hit Hit
	allocs := testing.AllocsPerRun(100, func() {
		r := h.Rewind(100*ms, 50*ms)
		hit, _ = r.Raycast(7, -20, 0, 1, 100, func(id uint64) bool { return id == shooter })
		_, _ = r.Shape(42)
		dst = r.Shapes(dst[:0])
		hit, _ = Raycast(dst, 7, -20, 0, 1, 100, nil)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, uint64(7), hit.Shape.ID)
}
