package arena_test

import (
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// startServer runs a server of h on loopback; stop stops it (also done
// when the test ends).
func startServer(t *testing.T, h server.EventHandler) (addr string, root *conn.PrivateKey, stop func()) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Stop()
			<-srv.Done()
		}
	}
	t.Cleanup(stop)
	return srv.Addr().String(), root, stop
}

// freeAddr returns a loopback UDP address nothing listens on.
func freeAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// runBots runs cfg until it returns (at most a minute).
func runBots(t *testing.T, cfg arena.BotsConfig) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cfg.Run(ctx)
	require.NoError(t, ctx.Err(), "the bots should have given up by themselves")
	return err
}

// TestBotsGiveUp: bots that cannot join the game stop with the reason
// after GiveUp, instead of retrying forever.
func TestBotsGiveUp(t *testing.T) {
	const giveUp = 6 * time.Second
	t.Run("nothing listening", func(t *testing.T) {
		t.Parallel()
		addr := freeAddr(t)
		err := runBots(t, arena.BotsConfig{Server: addr, Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, conn.ErrHandshakeTimeout)
		assert.EqualError(t, err, "no bot could join the game in 6s: no answer from the server at "+addr+": is it running?")
	})
	t.Run("another game", func(t *testing.T) {
		t.Parallel()
		addr, root, _ := startServer(t, echo.NewHandler(nil))
		err := runBots(t, arena.BotsConfig{Server: addr, Key: root.Public(), Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, player.ErrNotArena)
		assert.EqualError(t, err, "no bot could join the game in 6s: the server at "+addr+" hosts another game, not the arena")
	})
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		addr, _, _ := startServer(t, arena.NewHandler(nil, 1))
		other, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		err = runBots(t, arena.BotsConfig{Server: addr, Key: other.Public(), Count: 2, GiveUp: giveUp})
		require.ErrorIs(t, err, conn.ErrBadSignature)
		assert.Contains(t, err.Error(), "no bot could join the game in 6s: the server's key does not match the pinned --pubkey")
	})
	t.Run("bad address", func(t *testing.T) {
		t.Parallel()
		err := runBots(t, arena.BotsConfig{Server: "127.0.0.1", Count: 2, GiveUp: giveUp})
		assert.EqualError(t, err, `bot 1: "127.0.0.1" is not a server address: write host:port, like 127.0.0.1:1474`)
	})
	t.Run("the server went away", func(t *testing.T) {
		t.Parallel()
		var out syncbuf.Buffer
		addr, root, stop := startServer(t, arena.NewHandler(&out, 1))
		done := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		go func() { done <- arena.BotsConfig{Server: addr, Key: root.Public(), Count: 2, GiveUp: giveUp}.Run(ctx) }()
		for deadline := time.Now().Add(20 * time.Second); strings.Count(out.String(), "JOIN ") < 2; time.Sleep(10 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "the bots never joined")
		}
		stop()
		err := <-done
		require.NoError(t, ctx.Err())
		var be *arena.BotsError
		require.ErrorAs(t, err, &be)
		assert.True(t, be.Joined)
		assert.True(t, strings.HasPrefix(err.Error(), "the server went away: no bot has been in the game for 6s: "), err.Error())
	})
}

// TestLeaveLinesCountDown: each LEAVE line gives the players left after
// that one: when a player leaves on its own, and when the stopping server
// disconnects every player in turn, down to 0.
func TestLeaveLinesCountDown(t *testing.T) {
	var out syncbuf.Buffer
	addr, root, stop := startServer(t, arena.NewHandler(&out, 1))
	var players []*player.Player
	for _, name := range []string{"ann", "bob", "cat", "dan"} {
		p := player.New(player.Options{Name: name, Key: root.Public()})
		require.NoError(t, p.Connect(addr))
		defer p.Client().ForceDisconnect()
		players = append(players, p)
	}
	frameUntil := func(what string, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(5 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "%s: %q", what, out.String())
			for _, p := range players {
				p.Frame(time.Now(), 0)
			}
		}
	}
	frameUntil("all join", func() bool { return strings.Count(out.String(), "JOIN ") == 4 })
	players[0].Client().WaitForDisconnect()
	players = players[1:]
	frameUntil("ann leaves", func() bool { return strings.Contains(out.String(), "LEAVE ") })
	stop()
	leave := regexp.MustCompile(`(?m)^LEAVE (\S+) active=(\d+)$`)
	var names, counts []string
	for _, m := range leave.FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
		counts = append(counts, m[2])
	}
	require.Len(t, names, 4, out.String())
	assert.Equal(t, "ann", names[0])
	assert.ElementsMatch(t, []string{"bob", "cat", "dan"}, names[1:], out.String())
	assert.Equal(t, []string{"3", "2", "1", "0"}, counts, out.String())
}
