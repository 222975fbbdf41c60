package player_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/server"
)

// host runs a server of handler h on loopback until the test ends.
func host(t *testing.T, h server.EventHandler) (string, *conn.PrivateKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv.Addr().String(), root
}

// otherServer is a server that is not today's arena: it answers Identify
// with reply (nothing when nil) and welcomes players when welcome is set.
type otherServer struct {
	server.BaseHandler
	reply   []byte
	welcome bool
}

func (o *otherServer) Connect(p *server.Peer) {
	if o.welcome {
		_ = p.SendGuaranteed(wire.AppendWelcome(nil, wire.Welcome{ID: p.Token()}), nil)
	}
}

func (o *otherServer) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	if k, _ := wire.KindOf(msg); k == wire.KindIdentify && o.reply != nil {
		_ = p.SendGuaranteed(o.reply, nil)
	}
}

// frameUntil runs frames at the fixed time now, waiting in real time
// (at most 10 s) until done holds.
func frameUntil(t *testing.T, p *player.Player, now time.Time, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(2 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "waited 10 s")
		p.Frame(now, 0)
	}
}

// TestPlayerGivesUpOnAnEchoServer: against a server of another game that
// sends every message back (the echo game), the player does not take its
// own echoed Identify for an answer and, IdentTimeout after connecting on
// the clock given to Frame, gives up with ErrNotArena instead of joining
// forever.
func TestPlayerGivesUpOnAnEchoServer(t *testing.T) {
	addr, root := host(t, echo.NewHandler(nil))
	p := player.New(player.Options{Name: "ann", Key: root.Public()})
	require.NoError(t, p.Connect(addr))
	defer p.Client().ForceDisconnect()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	frameUntil(t, p, t0, func() bool { return p.Client().Connected() })
	// The clock stands still until the echo of our Identify came back and
	// was handled.
	frameUntil(t, p, t0, func() bool { return p.Client().Stats().Delivered >= 1 })
	assert.NoError(t, p.Err(), "an echoed Identify is no answer, but no reason to give up yet")
	assert.False(t, p.InGame())

	p.Frame(t0.Add(player.DefaultIdentTimeout-time.Millisecond), 0)
	assert.NoError(t, p.Err(), "still waiting")
	p.Frame(t0.Add(player.DefaultIdentTimeout), 0)
	require.ErrorIs(t, p.Err(), player.ErrNotArena)
	assert.False(t, p.InGame())
	assert.Equal(t, "the server at "+addr+" hosts another game, not the arena", player.Explain(p.Err(), addr))
	// It leaves the server, and the reason stays.
	frameUntil(t, p, t0.Add(player.DefaultIdentTimeout), func() bool { return p.Client().Status().Closed() })
	require.ErrorIs(t, p.Err(), player.ErrNotArena)

	// Connect starts over.
	require.NoError(t, p.Connect(addr))
	assert.NoError(t, p.Err())
}

// TestPlayerKnowsItsServer: an arena server answers at once; the player
// joins and stays however long it then plays.
func TestPlayerKnowsItsServer(t *testing.T) {
	addr, root := host(t, arena.NewHandler(nil, 1))
	p := player.New(player.Options{Name: "ann", Key: root.Public(), IdentTimeout: time.Second})
	require.NoError(t, p.Connect(addr))
	defer p.Client().ForceDisconnect()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	frameUntil(t, p, t0, p.InGame)
	for i := 1; i <= 300; i++ { // 5 s of frames on the player's clock
		p.Frame(t0.Add(time.Duration(i)*time.Second/60), 0)
	}
	assert.NoError(t, p.Err())
	assert.True(t, p.InGame())
}

// TestPlayerRefusesOtherAnswers: a server that answers with another game's
// id, with another version, or that welcomes without answering (an arena
// from before identification) is left with the reason.
func TestPlayerRefusesOtherAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler *otherServer
		want    error
		says    string
	}{
		{"another game", &otherServer{reply: wire.AppendIdentity(nil, wire.Ident{Game: "chess", Version: wire.Version})}, player.ErrNotArena, "hosts another game"},
		{"a newer arena", &otherServer{reply: wire.AppendIdentity(nil, wire.Ident{Game: wire.GameID, Version: wire.Version + 1}), welcome: true},
			&player.VersionError{Server: wire.Version + 1, Client: wire.Version}, "runs another version of the arena: server v4, this client v3"},
		{"an arena from before identification", &otherServer{welcome: true},
			&player.VersionError{Server: 0, Client: wire.Version}, "runs an older version of the arena"},
		{"no answer at all", &otherServer{}, player.ErrNotArena, "hosts another game"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, root := host(t, tc.handler)
			p := player.New(player.Options{Key: root.Public()})
			require.NoError(t, p.Connect(addr))
			defer p.Client().ForceDisconnect()
			t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			now := t0
			// Frames 1/60 s apart on the player's clock; the clock stands
			// still while nothing arrived, so the answer is always in
			// before the timeout when there is one.
			frameUntil(t, p, now, func() bool { return p.Client().Connected() })
			want := uint64(0)
			if tc.handler.reply != nil {
				want++
			}
			if tc.handler.welcome {
				want++
			}
			frameUntil(t, p, now, func() bool { return p.Client().Stats().Delivered >= want || p.Err() != nil })
			for p.Err() == nil && now.Sub(t0) < 2*player.DefaultIdentTimeout {
				now = now.Add(time.Second / 60)
				p.Frame(now, 0)
			}
			var ve *player.VersionError
			if errors.As(tc.want, &ve) {
				var got *player.VersionError
				require.ErrorAs(t, p.Err(), &got)
				assert.Equal(t, *ve, *got)
			} else {
				require.ErrorIs(t, p.Err(), tc.want)
			}
			assert.Contains(t, player.Explain(p.Err(), addr), tc.says)
			assert.False(t, p.InGame())
		})
	}
}
