package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/server"
)

func TestKeeperRunsOnlyWithoutFrames(t *testing.T) {
	k := keeper{after: time.Second}
	t0 := time.Unix(100, 0)
	frames, idles := 0, 0
	k.frame(t0, func() { frames++ })
	assert.False(t, k.idle(t0.Add(999*time.Millisecond), func() { idles++ }))
	assert.True(t, k.idle(t0.Add(time.Second), func() { idles++ }))
	k.frame(t0.Add(1500*time.Millisecond), func() { frames++ })
	assert.False(t, k.idle(t0.Add(2*time.Second), func() { idles++ }))
	assert.Equal(t, 2, frames)
	assert.Equal(t, 1, idles)
}

// TestKeeperHoldsTheConnection: a player whose page stops drawing (a
// hidden tab) stays in the game while the keeper runs its network frames,
// for twice the server's connection timeout; the same silence without
// the keeper loses it. The timeout is long enough (3 s) that a busy
// machine does not starve the keeper past it.
func TestKeeperHoldsTheConnection(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	const timeout = 3 * time.Second
	srv, err := server.New(server.Config{Handler: arena.NewHandler(nil, 1), RootKey: root, ConnectionTimeout: timeout,
		Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	connections := func() int {
		var s server.Snapshot
		srv.Snapshot(&s)
		return s.Connections
	}

	p := player.New(player.Options{Name: "hidden", Key: root.Public()})
	require.NoError(t, p.Connect(srv.Addr().String()))
	t.Cleanup(p.Client().ForceDisconnect)
	k := &keeper{after: timeout / 12}
	for deadline := time.Now().Add(20 * time.Second); !p.InGame(); time.Sleep(time.Second / 60) {
		require.True(t, time.Now().Before(deadline), "never in the game: %v", p.Err())
		now := time.Now()
		k.frame(now, func() { p.Frame(now, 0) })
	}
	require.Eventually(t, func() bool { return connections() == 1 }, 10*time.Second, 10*time.Millisecond)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); k.run(timeout/30, func(now time.Time) { p.Frame(now, 0) }, stop) }()
	time.Sleep(2 * timeout)
	close(stop)
	<-done
	require.NoError(t, p.Err())
	assert.True(t, p.Client().Connected(), "the keeper held the connection")
	assert.Equal(t, 1, connections())

	// Nothing runs the player now: the server drops it.
	require.Eventually(t, func() bool { return connections() == 0 }, 20*time.Second, 20*time.Millisecond,
		"without the keeper, the silent player is dropped")
}
