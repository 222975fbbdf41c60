package protocol_test

import "github.com/mpgs/mpgameserver/internal/allocs"

// The fuzz targets bound what each input costs, not only what it
// produces: allocations (count and bytes), memory held and work. The
// helpers here measure allocations the way testing.AllocsPerRun(1, fn)
// does (GOMAXPROCS 1, runtime.MemStats before and after), and report the
// bytes too. A measurement stops the world twice (tens of microseconds),
// so the targets measure a bounded number of calls per input.

// sizeClassSlack bounds what the allocator adds to an n-byte allocation
// (size classes are less than 19% apart up to 32 KiB; larger objects are
// rounded to 8 KiB pages).
func sizeClassSlack(n int) uint64 {
	if n > 32<<10 {
		return 8 << 10
	}
	return uint64(n/4 + 16)
}

// Short names for the measurements of internal/allocs.
type cost = allocs.Cost

var errCost = allocs.FormattedError

func pureCost(fn func()) cost { return allocs.Pure(fn) }

func onceCost(fn func()) cost { return allocs.Once(fn) }
