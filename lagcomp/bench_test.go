package lagcomp

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkRecordAndRaycast is a server's tick with 256 entities moving:
// their record, and a shot judged 100 ms back.
func BenchmarkRecordAndRaycast(b *testing.B) {
	const n = 256
	h := New(Config{})
	shapes := make([]Shape, n)
	tick := time.Second / 60
	now := time.Duration(0)
	// The entities in no order, as from a map.
	order := rand.New(rand.NewPCG(1, 1)).Perm(n)
	move := func() {
		for i := range shapes {
			a := float64(i)*0.1 + now.Seconds()
			shapes[i] = Shape{ID: uint64(1 + order[i]), X: 100 * math.Cos(a), Y: 100 * math.Sin(a), R: 0.5}
		}
	}
	for range 120 { // a full window: the ring has grown
		now += tick
		move()
		h.Record(now, shapes)
	}
	shooter := uint64(1)
	skip := func(id uint64) bool { return id == shooter }
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		now += tick
		h.Record(now, shapes) // the positions' computation is left out
		r := h.Rewind(now, now-100*time.Millisecond)
		a := float64(i) * 0.01
		if _, ok := r.Raycast(0, 0, math.Cos(a), math.Sin(a), 200, skip); ok {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no hit")
	}
}
