package arena_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/server"
)

// onSockets serves game h on a real UDP socket on the loopback, with any
// number of sessions a host, and connects n players to it (p1, p2...),
// all until the test ends.
func onSockets(t *testing.T, h *arena.Handler, n int) (*server.Server, *conn.PrivateKey, []*player.Player) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler),
		MaxSessionsPerHost: -1, KeepAliveInterval: arena.KeepAlive}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	var players []*player.Player
	for i := range n {
		p := player.New(player.Options{Name: fmt.Sprintf("p%d", i+1), Key: root.Public()})
		require.NoError(t, p.Connect(srv.Addr().String()))
		t.Cleanup(p.Client().ForceDisconnect)
		players = append(players, p)
	}
	return srv, root, players
}
