package server_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/server"
)

// TestCookiesLetProvenClientsIn fills the handshake pool with half-open
// handshakes (as a flood of hellos from forged addresses does) and checks
// that a client of ours still gets in: the server under load answers its
// marked hello with a cookie, the client proves its address, and its
// handshake takes the slot of the oldest unproven one.
func TestCookiesLetProvenClientsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), func(c *server.Config) { c.MaxPendingHandshakes = 8 })
		// Hellos from clients that cannot answer a cookie (the
		// reference's), each from a new address, never answered.
		for i := 0; i < 9; i++ {
			_, err := w.raw().WriteBatch(helloFrom(t, true))
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond)
		}
		var sn server.Snapshot
		waitFor(t, "a full pool", 2*time.Second, func() bool {
			sn = w.snapshot()
			return sn.Pending == 8 && sn.Stats.HandshakeRejected == 1
		})
		c := w.connect()
		assert.Positive(t, c.Stats().Cookies, "the client was asked for a cookie")
		waitFor(t, "the counters", 2*time.Second, func() bool {
			sn = w.snapshot()
			return sn.Connections == 1
		})
		assert.Positive(t, sn.Stats.CookiesSent)
		assert.EqualValues(t, 1, sn.Stats.HandshakesEvicted)
		assert.Equal(t, 7, sn.Pending)
	})
}

// TestWatchdogLogsTheStuckGoroutine blocks the event goroutine in a
// handler and checks that the watchdog logs its stack, once, and that
// LastTick shows the stall.
func TestWatchdogLogsTheStuckGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		block := make(chan struct{})
		release := make(chan struct{})
		r.onUpdate = func() {
			select {
			case <-block:
				<-release
			default:
			}
		}
		w := start(t, r, nil)
		time.Sleep(100 * time.Millisecond)
		require.False(t, w.srv.LastTick().IsZero())
		close(block)
		stuck := time.Now()
		waitFor(t, "the watchdog's line", 2*time.Second, func() bool {
			return strings.Contains(w.log.String(), "the event goroutine is stuck")
		})
		assert.GreaterOrEqual(t, time.Since(stuck), 250*time.Millisecond, "not before the limit")
		assert.Greater(t, time.Since(w.srv.LastTick()), 250*time.Millisecond)
		assert.Contains(t, w.log.String(), "(*recorder).Update", "the stack shows where it is stuck")
		time.Sleep(2 * time.Second) // the watchdog looks again meanwhile
		assert.Equal(t, 1, strings.Count(w.log.String(), "the event goroutine is stuck"), "once per stall")
		close(release)
		waitFor(t, "the stall counted", 2*time.Second, func() bool { return w.snapshot().Stats.Stalls == 1 })
	})
}

// TestHandlerPanicLogsAreLimited: a client whose every message makes the
// handler panic gets every panic counted but only a few lines a second
// logged.
func TestHandlerPanicLogsAreLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		r.onMessage = func(*server.Peer, []byte) { panic("boom") }
		w := start(t, r, nil)
		c := w.connect()
		begin := time.Now()
		for i := 0; i < 300; i++ {
			require.NoError(t, c.SendGuaranteed([]byte("x"), nil))
		}
		var sn server.Snapshot
		pump(c, 10*time.Second, func() bool {
			sn = w.snapshot()
			return sn.Stats.HandlerPanics >= 300
		})
		require.EqualValues(t, 300, sn.Stats.HandlerPanics)
		lines := strings.Count(w.log.String(), "handler panicked")
		allowed := 10 + int(time.Since(begin)/time.Second) + 1 // the burst, then one a second
		assert.LessOrEqual(t, lines, allowed)
		assert.GreaterOrEqual(t, lines, 5, "the burst (shared with the client's other lines) is logged")
	})
}
