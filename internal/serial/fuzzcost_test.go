package serial_test

import "github.com/mpgs/mpgameserver/internal/allocs"

// The fuzz target bounds what each input costs, not only what it decodes
// to. pureCost measures allocations the way testing.AllocsPerRun(1, fn)
// does (GOMAXPROCS 1, runtime.MemStats before and after) and reports the
// bytes too.

// Short names for the measurements of internal/allocs.
type cost = allocs.Cost

var errCost = allocs.FormattedError

func pureCost(fn func()) cost { return allocs.Pure(fn) }

func onceCost(fn func()) cost { return allocs.Once(fn) }
