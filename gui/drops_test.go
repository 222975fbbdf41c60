package gui

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/engine/server"
)

func TestDropSummary(t *testing.T) {
	var s server.Snapshot
	line, any := dropSummary(&s, 3)
	assert.False(t, any)
	assert.Equal(t, "dropped: nothing   kernel 0", line)
	s.Stats.Junk = 1500
	s.Stats.Throttled = 20
	s.Drops.Auth = 3
	s.Drops.Stale = 1
	s.Stats.KernelDrops = 7
	line, any = dropSummary(&s, 3)
	assert.True(t, any)
	assert.Equal(t, "dropped: junk 1.5k, throttled 20, auth 3   kernel 7", line)
}
