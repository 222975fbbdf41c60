package game

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/crashtest"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// arenaOn runs an arena server on addr with root until the test ends;
// stop stops it, as a crash would when crash is set (nothing it says on
// its way out leaves), else gracefully.
func arenaOn(t *testing.T, root *conn.PrivateKey, addr string) (string, func(crash bool)) {
	t.Helper()
	srv := crashtest.Start(t, server.Config{Handler: arena.NewHandler(io.Discard, 1), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, addr)
	return srv.Addr().String(), func(crash bool) {
		if crash {
			srv.Crash()
		} else {
			srv.Stop()
		}
	}
}

// waitFor polls cond between the window's frames (20 s at most: a bound
// for a broken test).
func waitFor(t *testing.T, w *guitest.Window, what string, cond func() bool) {
	t.Helper()
	ok := false
	for deadline := time.Now().Add(20 * time.Second); !ok; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "waited 20 s for %s", what)
		w.Between(func() { ok = cond() })
	}
}

// TestWindowReconnectsAfterARestart: the server crashes and comes back on
// its address with its key: the window says it is reconnecting and why,
// over the last world it showed, not the failure screen; the terminal
// gets a line for each step; the player is back in the game with its
// name, at the first attempt.
func TestWindowReconnectsAfterARestart(t *testing.T) {
	w := guitest.Get(t, win)
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	addr, stop := arenaOn(t, root, "127.0.0.1:0")
	out := &syncbuf.Buffer{}
	var lost atomic.Bool
	// A long first wait, so that the reconnecting screen stays up while
	// the test looks at it.
	g, err := New(Options{Server: addr, Key: root.Public(), Name: "ann", Color: 2, Out: out,
		Reconnect: client.Reconnect{First: 2 * time.Second, Jitter: -1, OnEvent: func(e client.ReconnectEvent) {
			if e.Step == client.ReconnectLost {
				lost.Store(true)
			}
		}}})
	require.NoError(t, err)
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()
	waitFor(t, w, "in the game", func() bool { return g.Player().InGame() })

	stop(true)
	arenaOn(t, root, addr)
	for deadline := time.Now().Add(20 * time.Second); !lost.Load(); time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the loss was never told")
	}
	var line, hint string
	var failed bool
	var failure error
	w.Between(func() {
		line, hint = g.statusText(g.Player().View(time.Now()))
		failed, failure = g.failed(), g.Err()
	})
	assert.Equal(t, "Reconnecting: the server restarted ...", line)
	assert.Contains(t, hint, "Attempt 1")
	assert.False(t, failed, "not the failure screen")
	assert.NoError(t, failure)
	save(t, w.Capture(t), "arena-reconnecting")

	waitFor(t, w, "back in the game", func() bool {
		v := g.Player().View(time.Now())
		return g.Player().Rejoins() == 1 && g.Player().InGame() && len(v.Ships) > 0 && v.Ships[0].Name == "ann"
	})
	waitFor(t, w, "the line saying so", func() bool { return strings.Count(out.String(), "in the game at") == 2 })
	assert.Equal(t, "connecting to "+addr+"\n"+
		"in the game at "+addr+"\n"+
		"lost the game at "+addr+": the server restarted; reconnecting in 2s\n"+
		"reconnecting to "+addr+" (attempt 1)\n"+
		"reconnected to "+addr+" (attempt 1): joining the game\n"+
		"in the game at "+addr+"\n", out.String())
}

// TestWindowGivesUpReconnecting: with Reconnect.Attempts, a server that
// does not come back is given up on: the terminal says each attempt and
// that it gave up, the window shows the failure (why the last attempt
// failed) and R connects again.
func TestWindowGivesUpReconnecting(t *testing.T) {
	w := guitest.Get(t, win)
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	addr, stop := arenaOn(t, root, "127.0.0.1:0")
	out := &syncbuf.Buffer{}
	g, err := New(Options{Server: addr, Key: root.Public(), Name: "ann", Out: out, HandshakeTimeout: 200 * time.Millisecond,
		Reconnect: client.Reconnect{First: 50 * time.Millisecond, Attempts: 2}})
	require.NoError(t, err)
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()
	waitFor(t, w, "in the game", func() bool { return g.Player().InGame() })

	stop(false) // its DISCONNECT reaches the window
	waitFor(t, w, "the failure", g.failed)
	var line, hint string
	var failure error
	w.Between(func() {
		line, hint = g.statusText(g.Player().View(time.Now()))
		failure = g.Err()
	})
	assert.Equal(t, "No answer from the server at "+addr+": is it running?", line)
	assert.Contains(t, hint, "Press R to retry")
	assert.ErrorIs(t, failure, conn.ErrHandshakeTimeout, "the last attempt's failure")
	q := regexp.QuoteMeta
	want := "^connecting to " + q(addr) + "\n" +
		"in the game at " + q(addr) + "\n" +
		"lost the game at " + q(addr) + ": the server closed the connection; reconnecting in \\S+\n" +
		"reconnecting to " + q(addr) + " \\(attempt 1\\)\n" +
		"attempt 1 failed: no answer; next in \\S+\n" +
		"reconnecting to " + q(addr) + " \\(attempt 2\\)\n" +
		"gave up reconnecting to " + q(addr) + " after 2 attempts\n" +
		q("no answer from the server at "+addr+": is it running? (R in the window retries)") + "\n$"
	assert.Regexp(t, want, out.String())

	// R, once the server is back.
	arenaOn(t, root, addr)
	retried := false
	w.Between(func() { retried = g.retry() })
	require.True(t, retried)
	waitFor(t, w, "in the game again", func() bool { return g.Player().InGame() })
}
