package ordered_test

import (
	"fmt"

	"github.com/mpgs/mpgameserver/internal/ordered"
)

// Three messages are sent as four chunks: "first" (oseq 0), "hello, world"
// in two chunks (1 and 2) and "bye" (3). The chunks arrive out of order and
// some twice; the messages come out once each, in order, as soon as the gap
// before them fills.
func Example() {
	var r ordered.Receiver
	r.Init(1024, 1<<20)
	deliver := func(msg []byte) { fmt.Printf("  deliver %q\n", msg) }

	arrivals := []struct {
		oseq  uint32
		final bool
		data  string
	}{
		{2, true, "world"},    // held: 0 and 1 are missing
		{2, true, "world"},    // held already
		{1, false, "hello, "}, // held
		{3, true, "bye"},      // held
		{0, true, "first"},    // fills the gap: all three messages go out
		{0, true, "first"},    // delivered already
		{5000, true, "far"},   // beyond the window: the sender misbehaves
	}
	for _, c := range arrivals {
		v := r.Add(c.oseq, c.final, []byte(c.data), deliver)
		fmt.Printf("oseq %d: %v, next %d, pending %d\n", c.oseq, v, r.Next(), r.Pending())
	}
	// Output:
	// oseq 2: Accepted, next 0, pending 1
	// oseq 2: Duplicate, next 0, pending 1
	// oseq 1: Accepted, next 0, pending 2
	// oseq 3: Accepted, next 0, pending 3
	//   deliver "first"
	//   deliver "hello, world"
	//   deliver "bye"
	// oseq 0: Accepted, next 4, pending 0
	// oseq 0: Duplicate, next 4, pending 0
	// oseq 5000: TooFar, next 4, pending 0
}
