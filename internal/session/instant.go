package session

import (
	"math"
	"time"
)

// An instant is a moment as a connection keeps it: the time since the
// connection was created (its clock.created), in 8 bytes where a
// time.Time takes 24, so that its timers take fewer of the cache lines a
// busy server loads for each connection. The API takes and returns
// time.Time; the conversions are at its edges.
type instant int64

// never is the instant of the zero time.Time: before every other, and
// what a timer that is not set holds.
const never instant = math.MinInt64

// instant returns t as c's instant (never for the zero time).
func (c *Conn) instant(t time.Time) instant {
	if t.IsZero() {
		return never
	}
	return instant(t.Sub(c.clock.created))
}

// timeOf returns the time of instant i (the zero time for never).
func (c *Conn) timeOf(i instant) time.Time {
	if i == never {
		return time.Time{}
	}
	return c.clock.created.Add(time.Duration(i))
}

// sub returns i-j, which saturates as time.Time.Sub does: anything since
// never is the longest duration.
func (i instant) sub(j instant) time.Duration {
	switch {
	case j == never && i == never:
		return 0
	case j == never:
		return math.MaxInt64
	case i == never:
		return math.MinInt64
	}
	return time.Duration(i - j)
}

// add returns i+d (never stays never).
func (i instant) add(d time.Duration) instant {
	if i == never {
		return never
	}
	return i + instant(d)
}
