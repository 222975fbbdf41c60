// Package allocs measures what a call allocates, for tests and fuzz
// targets that bound the cost of each input, not only its result. It
// measures as testing.AllocsPerRun(1, fn) does (GOMAXPROCS 1,
// runtime.MemStats before and after) and reports bytes too. A measurement
// stops the world twice (tens of microseconds): measure a few calls per
// input.
package allocs

import (
	"fmt"
	"runtime"
)

// Cost is what a call allocated.
type Cost struct{ Mallocs, Bytes uint64 }

func (c Cost) String() string { return fmt.Sprintf("%d allocations, %d bytes", c.Mallocs, c.Bytes) }

// Within reports whether c is at most limit in both counts.
func (c Cost) Within(limit Cost) bool { return c.Mallocs <= limit.Mallocs && c.Bytes <= limit.Bytes }

// FormattedError bounds a refusal that formats its error (fmt.Errorf with
// a few numbers): a constant, whatever the input says or holds.
var FormattedError = Cost{Mallocs: 16, Bytes: 2048}

// Pure measures fn, which must not change what it works on (a parser, a
// refusal that leaves everything as it was): one call to warm up, then
// the least of three measured calls, so that something else allocating
// meanwhile (a runtime goroutine, a fuzzing engine's) is not counted.
func Pure(fn func()) Cost {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	fn()
	c := measure(fn)
	for range 2 {
		if c.Mallocs == 0 {
			break
		}
		n := measure(fn)
		if n.Mallocs < c.Mallocs || n.Mallocs == c.Mallocs && n.Bytes < c.Bytes {
			c = n
		}
	}
	return c
}

// Once measures a single call of fn, which may change state.
func Once(fn func()) Cost {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	return measure(fn)
}

func measure(fn func()) Cost {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return Cost{after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc}
}
