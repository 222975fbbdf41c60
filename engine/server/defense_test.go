package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/server"
)

// TestCookiesLetProvenClientsIn fills the handshake pool with half-open
// handshakes (as a flood of hellos from forged addresses does) and checks
// that a client of ours still gets in: the server under load answers its
// marked hello with a cookie, the client proves its address, and its
// handshake takes the slot of the oldest unproven one.
func TestCookiesLetProvenClientsIn(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	f.ctx.SetMaxPendingHandshakes(8)
	f.start("127.0.0.1:0")
	var sn server.Snapshot
	waitFor(t, "a full pool", func() bool {
		f.srv.Snapshot(&sn)
		if sn.Stats.HandshakeRejected > 0 {
			return true
		}
		// A hello from a client that cannot answer a cookie (the
		// reference's), from a new address each time, never answered.
		cc, err := conn.NewClient(&conn.Config{PlainHello: true}, time.Now())
		require.NoError(t, err)
		_, err = rawSocket(t, f.srv).Write(cc.Poll(time.Now(), nil))
		require.NoError(t, err)
		return false
	})
	waitFor(t, "the pool in the snapshot", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Pending == 8
	})
	c := f.connect()
	assert.Positive(t, c.Stats().Cookies, "the client was asked for a cookie")
	waitFor(t, "the counters", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Connections == 1
	})
	assert.Positive(t, sn.Stats.CookiesSent)
	assert.EqualValues(t, 1, sn.Stats.HandshakesEvicted)
	assert.Equal(t, 7, sn.Pending)
}

// TestWatchdogLogsTheStuckGoroutine blocks the event goroutine in a
// handler and checks that the watchdog logs its stack, once, and that
// LastTick shows the stall.
func TestWatchdogLogsTheStuckGoroutine(t *testing.T) {
	r := newRecorder()
	var block atomic.Bool
	release := make(chan struct{})
	r.onUpdate = func() {
		if block.CompareAndSwap(true, false) {
			<-release
		}
	}
	f := startServer(t, r)
	waitFor(t, "a tick", func() bool { return !f.srv.LastTick().IsZero() })
	block.Store(true)
	waitFor(t, "the watchdog's line", func() bool { return strings.Contains(f.log.String(), "the event goroutine is stuck") })
	assert.Greater(t, time.Since(f.srv.LastTick()), 200*time.Millisecond)
	log := f.log.String()
	assert.Contains(t, log, "(*recorder).Update", "the stack shows where it is stuck")
	time.Sleep(300 * time.Millisecond) // the watchdog looks again meanwhile
	assert.Equal(t, 1, strings.Count(f.log.String(), "the event goroutine is stuck"), "once per stall")
	close(release)
	var sn server.Snapshot
	waitFor(t, "the stall counted", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Stats.Stalls == 1
	})
}

// TestHandlerPanicLogsAreLimited: a client whose every message makes the
// handler panic gets every panic counted but only a few lines a second
// logged.
func TestHandlerPanicLogsAreLimited(t *testing.T) {
	r := newRecorder()
	r.onMessage = func(*server.Client, []byte) { panic("boom") }
	f := startServer(t, r)
	c := f.connect()
	start := time.Now()
	for i := 0; i < 300; i++ {
		// Guaranteed: a panicking handler is slow, so the client goes over
		// its share of a tick and some of its datagrams are dropped.
		require.NoError(t, c.SendGuaranteed([]byte("x"), nil))
	}
	var sn server.Snapshot
	pump(c, 10*time.Second, func() bool {
		f.srv.Snapshot(&sn)
		return sn.Stats.HandlerPanics >= 300
	})
	require.EqualValues(t, 300, sn.Stats.HandlerPanics)
	lines := strings.Count(f.log.String(), "handler panicked")
	allowed := 10 + int(time.Since(start)/time.Second) + 1 // the burst, then one a second
	assert.LessOrEqual(t, lines, allowed)
}
