package arena_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/server"
)

// The server's snapshots (what the monitor shows, in process or over the
// admin API) carry the arena's map and what each player is replicated,
// on real sockets.
func TestMonitorSeesTheWorld(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	h := arena.New(nil, arena.Options{Seed: 1, Scene: sim.Battle()})
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	var players []*player.Player
	for _, name := range []string{"ann", "bob"} {
		p := player.New(player.Options{Name: name, Key: root.Public()})
		require.NoError(t, p.Connect(srv.Addr().String()))
		defer p.Client().ForceDisconnect()
		players = append(players, p)
	}
	var sn server.Snapshot
	ready := func() bool {
		srv.Snapshot(&sn)
		if len(sn.Peers) != 2 {
			return false
		}
		for _, r := range sn.Peers {
			if !r.World.Reported || r.World.InView == 0 || r.World.Bytes == 0 {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !ready(); time.Sleep(5 * time.Millisecond) {
		for _, p := range players {
			p.Frame(time.Now(), 0)
		}
	}
	require.True(t, ready(), "both players' rows carry their replication: %+v", sn.Peers)
	for _, r := range sn.Peers {
		w := r.World
		t.Logf("%s: %d in view, %d waiting (%v), %d of %d bytes, %d bytes held, view (%.0f, %.0f) ±(%.0f, %.0f)",
			r.Label, w.InView, w.Waiting, w.OldestWait, w.Bytes, w.Budget, w.Memory, w.X, w.Y, w.HalfW, w.HalfH)
		assert.LessOrEqual(t, w.Bytes, w.Budget)
		assert.Equal(t, float64(arena.ViewHalfWidth), w.HalfW)
		assert.Equal(t, float64(arena.ViewHalfHeight), w.HalfH)
		assert.Positive(t, w.Memory)
	}
	m := sn.World
	assert.Equal(t, [4]float64{0, 0, 6400, 4000}, [4]float64{m.MinX, m.MinY, m.MaxX, m.MaxY})
	assert.Equal(t, []string{"ship", "bullet", "asteroid"}, m.Kinds)
	kinds := map[uint8]int{}
	for _, p := range m.Points {
		kinds[p.Kind]++
		assert.True(t, p.X >= 0 && p.X <= 6400 && p.Y >= 0 && p.Y <= 4000)
	}
	assert.Equal(t, 1200, kinds[2], "every asteroid")
	assert.Equal(t, 2, kinds[0], "every ship")
}
