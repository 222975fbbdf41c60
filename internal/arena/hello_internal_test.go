package arena

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// TestHelloLimit: the bucket starts full, gives HelloBurst tokens at once
// and one every HelloRefill after that, and never holds more than
// HelloBurst.
func TestHelloLimit(t *testing.T) {
	var l helloLimit
	start := 7 * time.Second // a player who joined a while after the server started
	for i := range HelloBurst {
		require.True(t, l.allow(start), "token %d of a full bucket", i+1)
	}
	require.False(t, l.allow(start), "empty")
	require.False(t, l.allow(start+HelloRefill-time.Nanosecond), "not refilled yet")
	require.True(t, l.allow(start+HelloRefill), "one refilled")
	require.False(t, l.allow(start+HelloRefill))

	// Idle for long: full again, and no fuller.
	later := start + time.Hour
	n := 0
	for l.allow(later) {
		n++
	}
	assert.Equal(t, HelloBurst, n)

	// Tried every 10 ms for 10 s: the burst, then one every HelloRefill.
	later += time.Hour
	n = 0
	for now := later; now <= later+10*time.Second; now += 10 * time.Millisecond {
		if l.allow(now) {
			n++
		}
	}
	assert.Equal(t, HelloBurst+int(10*time.Second/HelloRefill), n)
}

// TestSeatHello: a Hello is a change to announce when it is the player's
// first or changes its cleaned name or color; one that changes nothing
// takes no token, and a change over the limit is dropped and counted.
func TestSeatHello(t *testing.T) {
	now := time.Minute
	p := &seat{name: "player3", defName: "player3", color: 2}
	// The first Hello is announced even when it changes nothing.
	require.Equal(t, helloChanged, p.hello(wire.Hello{Color: 2}, now))
	assert.True(t, p.named)
	assert.Equal(t, "player3", p.name)
	for range 100 {
		require.Equal(t, helloSame, p.hello(wire.Hello{Color: 2}, now))
		require.Equal(t, helloSame, p.hello(wire.Hello{Name: "\u200b \u202e", Color: 2}, now), "nothing left of it: the default name")
	}
	require.Equal(t, helloChanged, p.hello(wire.Hello{Name: " ada\u200b ", Color: 2}, now))
	assert.Equal(t, "ada", p.name)
	require.Equal(t, helloSame, p.hello(wire.Hello{Name: "\u2066ada", Color: 2}, now), "the same once cleaned")
	require.Equal(t, helloChanged, p.hello(wire.Hello{Name: "ada", Color: 5}, now), "the color alone")
	assert.Equal(t, uint8(5), p.color)
	require.Equal(t, helloChanged, p.hello(wire.Hello{Name: "\u3000", Color: 5}, now), "back to the default name")
	assert.Equal(t, "player3", p.name)
	assert.Zero(t, p.dropped)

	// HelloBurst changes at once, the 100 same ones took no token.
	require.Equal(t, helloDropped, p.hello(wire.Hello{Name: "bob", Color: 5}, now))
	require.Equal(t, helloDropped, p.hello(wire.Hello{Name: "bob", Color: 5}, now))
	assert.Equal(t, 2, p.dropped)
	assert.Equal(t, "player3", p.name, "a dropped Hello changes nothing")
	require.Equal(t, helloSame, p.hello(wire.Hello{Color: 5}, now), "no change is never dropped")
	require.Equal(t, helloChanged, p.hello(wire.Hello{Name: "bob", Color: 5}, now+HelloRefill))
	assert.Equal(t, "bob", p.name)
	assert.Equal(t, 2, p.dropped)
}
