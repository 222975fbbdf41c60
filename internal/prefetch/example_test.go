package prefetch_test

import (
	"fmt"
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

type player struct {
	x, y  float64
	score int
	_     [100]byte // the rest of a player's state
}

// A loop over objects scattered in memory prefetches the one it visits
// two steps later, so that its loads from memory overlap with the work on
// the current one.
func ExampleRange() {
	players := make([]*player, 1000)
	for i := range players {
		players[i] = &player{score: i}
	}
	total := 0
	for i, p := range players {
		if j := i + 2; j < len(players) {
			prefetch.Range(unsafe.Pointer(players[j]), unsafe.Sizeof(*players[j]))
		}
		total += p.score
	}
	fmt.Println(total)
	// Output: 499500
}
