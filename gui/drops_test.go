package gui

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/server"
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

func TestDropSummaryNamesTheDoors(t *testing.T) {
	var s server.Snapshot
	s.Stats.HostLimited = 40
	s.Browsers.RefusedPerHost = 9
	s.Browsers.RefusedOffer = 1
	s.Browsers.ClosedHandshake = 3
	line, any := dropSummary(&s, 3)
	assert.True(t, any)
	assert.Equal(t, "dropped: host limit 40, web refused 10, web closed 3   kernel 0", line)
}

func TestBrowserSummary(t *testing.T) {
	var s server.Snapshot
	assert.Empty(t, browserSummary(&s), "a server without browsers says nothing of them")
	s.Browsers.SettingUp, s.Browsers.Open, s.Browsers.Sessions = 2, 5, 4
	assert.Equal(t, "browsers: 2 setting up, 5 open, 4 playing", browserSummary(&s))
	s.Browsers.RefusedPerHost, s.Browsers.RefusedFull = 1200, 3
	assert.Equal(t, "browsers: 2 setting up, 5 open, 4 playing; refused 1.2k (full 3, per address 1.2k, blocked 0, bad offer 0)", browserSummary(&s))
}
