package session

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Instants behave as the times they stand for: differences saturate as
// time.Time.Sub does, never is the zero time and before every other, and
// a time comes back from its instant to the nanosecond.
func TestInstant(t *testing.T) {
	created := time.Now() // with a monotonic reading, as a server's
	c := &Conn{clock: timers{created: created}}
	later := created.Add(90 * time.Minute)
	earlier := created.Add(-time.Second)

	assert.Equal(t, never, c.instant(time.Time{}))
	assert.True(t, c.timeOf(never).IsZero())
	for _, tm := range []time.Time{created, later, earlier} {
		assert.True(t, c.timeOf(c.instant(tm)).Equal(tm), "%v round trip", tm)
	}
	a, b := c.instant(later), c.instant(earlier)
	assert.Equal(t, later.Sub(earlier), a.sub(b))
	assert.Equal(t, earlier.Sub(later), b.sub(a))
	assert.Equal(t, time.Duration(math.MaxInt64), a.sub(never), "anything since never: the longest duration, as time.Time.Sub")
	assert.Equal(t, later.Sub(time.Time{}), a.sub(never))
	assert.Equal(t, time.Duration(math.MinInt64), never.sub(a))
	assert.Equal(t, time.Duration(0), never.sub(never))
	assert.Equal(t, never, never.add(time.Hour))
	assert.Equal(t, c.instant(later.Add(time.Second)), a.add(time.Second))
	assert.Less(t, never, b, "never is before every instant")
}
