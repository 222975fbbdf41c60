package replicate

import (
	"testing"
	"time"
)

// FuzzReceiver feeds a receiver arbitrary snapshots (seeded with real
// ones): it never panics, work stays within the message's size, and what
// it holds stays bounded.
func FuzzReceiver(f *testing.F) {
	s := testSchema(f)
	r := New(s, Config{Workers: 1})
	w := newWorld(f, r, 50, 3, 1)
	l := newLink(s, 1)
	var seeds [][]byte
	l.drop = func(msg []byte) bool {
		if len(seeds) < 16 {
			seeds = append(seeds, append([]byte(nil), msg...))
		}
		return false
	}
	v := r.Add(l)
	v.SetView(0, 0, 2000, 2000)
	run(w, []*link{l}, epoch0, time.Second, nil)
	r.Close()
	for _, m := range seeds {
		f.Add(m, m)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		rx := NewReceiver(s, ReceiverConfig{MaxEntities: 512})
		now := epoch0
		for _, m := range [][]byte{a, b, a} {
			if len(m) > 0 {
				m = append([]byte{DefaultTag}, m[1:]...)
			}
			allocs := testing.AllocsPerRun(1, func() { rx.Handle(now, m) })
			// A snapshot of n bytes makes at most a few allocations
			// per entity it could hold (its history and records).
			if limit := 64 + float64(len(m)); allocs > limit {
				t.Fatalf("%d bytes made %.0f allocations", len(m), allocs)
			}
			now = now.Add(time.Second / 30)
			rx.Advance(now)
		}
		if len(rx.index) > 512 {
			t.Fatalf("%d entities tracked, more than MaxEntities", len(rx.index))
		}
		for e := range rx.Entities() {
			for f := range s.kinds[e.Kind()].fields {
				_ = e.Float(f)
				_ = e.String(f)
			}
		}
	})
}
