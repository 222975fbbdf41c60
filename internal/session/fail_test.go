package session

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
)

// TestFail: a connection whose carrier failed ends at once with that
// reason, Dropped, its pending messages' callbacks false; a closed one
// stays as it was.
func TestFail(t *testing.T) {
	now := time.Unix(1000, 0)
	c, _ := handshake(t, now)
	var got []bool
	require.NoError(t, c.Send([]byte("pending"), conn.RetryOnTimeout, func(ok bool) { got = append(got, ok) }))
	broken := errors.New("rtc: signaling: 503 Service Unavailable")
	c.Fail(broken)
	assert.Equal(t, conn.Dropped, c.Status())
	assert.ErrorIs(t, c.Err(), broken)
	assert.Equal(t, []bool{false}, got)
	c.Fail(errors.New("later"))
	assert.ErrorIs(t, c.Err(), broken, "the first reason stays")
}
