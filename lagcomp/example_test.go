package lagcomp_test

import (
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/lagcomp"
)

// A target runs along x, recorded every tick. The client drew it between
// two ticks, and the shot it fired there hits in the rewound world, where
// at the present it would miss.
func Example() {
	const ms = time.Millisecond
	const target, shooter = 2, 1
	h := lagcomp.New(lagcomp.Config{})
	h.Record(100*ms, []lagcomp.Shape{
		{ID: shooter, X: 5, Y: -10, R: 0.5},
		{ID: target, X: 0, Y: 0, R: 0.5},
	})
	h.Record(150*ms, []lagcomp.Shape{
		{ID: shooter, X: 5, Y: -10, R: 0.5},
		{ID: target, X: 10, Y: 0, R: 0.5},
	})

	// The shot: from the shooter, straight up, with the time the client
	// saw (its input's view time), judged at the server's now.
	now, view := 150*ms, 125*ms
	notShooter := func(id uint64) bool { return id == shooter }

	r := h.Rewind(now, view)
	s, _ := r.Shape(target)
	fmt.Printf("rewound to %v (%v before now): target at x=%v\n", r.At, r.By, s.X)
	if hit, ok := r.Raycast(5, -10, 0, 1, 100, notShooter); ok {
		fmt.Printf("hit %d at %v\n", hit.Shape.ID, hit.Dist)
	}

	if _, ok := h.Rewind(now, now).Raycast(5, -10, 0, 1, 100, notShooter); !ok {
		fmt.Println("at the present: miss")
	}
	// Output:
	// rewound to 125ms (25ms before now): target at x=5
	// hit 2 at 9.5
	// at the present: miss
}

// A view older than MaxRewind (200 ms by default), from a client with a
// long round trip or one that lies, is judged at now - MaxRewind.
func ExampleHistory_Rewind_capped() {
	const ms = time.Millisecond
	h := lagcomp.New(lagcomp.Config{})
	for t := time.Duration(0); t <= time.Second; t += 50 * ms {
		h.Record(t, []lagcomp.Shape{{ID: 1, X: float64(t / ms), R: 1}})
	}

	now := time.Second
	r := h.Rewind(now, now-time.Second)
	s, _ := r.Shape(1)
	fmt.Printf("asked %v, judged at %v (%v before now), capped: %v\n", r.Asked, r.At, r.By, r.Capped)
	fmt.Printf("entity 1 at x=%v\n", s.X)
	fmt.Printf("capped rewinds: %d\n", h.Stats().Capped)
	// Output:
	// asked 0s, judged at 800ms (200ms before now), capped: true
	// entity 1 at x=800
	// capped rewinds: 1
}

// The client can judge its own shots with the server's rule, on the
// shapes it draws.
func ExampleRaycast() {
	shapes := []lagcomp.Shape{
		{ID: 3, X: 20, Y: 0, R: 1},
		{ID: 4, X: 10, Y: 0.5, R: 1},
	}
	hit, ok := lagcomp.Raycast(shapes, 0, 0, 1, 0, 50, nil)
	fmt.Printf("%v: %d at %.3f\n", ok, hit.Shape.ID, hit.Dist)
	// Output:
	// true: 4 at 9.134
}
