package player_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/crashtest"
	"github.com/mpgs/mpgameserver/server"
)

// witness is an arena handler that keeps, for each session, the Hellos
// it got and the lowest input number, and can tell each player that
// joins of a kill (so that the kill feed has something to forget).
type witness struct {
	*arena.Handler
	kill bool

	mu     sync.Mutex
	hellos map[uint32][]wire.Hello
	first  map[uint32]uint32 // the lowest input seq
	last   map[uint32]uint32 // the highest
}

func newWitness(kill bool) *witness {
	return &witness{Handler: arena.NewHandler(io.Discard, 1), kill: kill,
		hellos: map[uint32][]wire.Hello{}, first: map[uint32]uint32{}, last: map[uint32]uint32{}}
}

func (w *witness) Connect(c *server.Peer) {
	w.Handler.Connect(c)
	if w.kill {
		_ = c.SendGuaranteed(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 999, Other: c.Token(), X: 10, Y: 10}), nil)
	}
}

func (w *witness) HandleMessage(c *server.Peer, seq conn.Seq, msg []byte) {
	w.mu.Lock()
	switch k, _ := wire.KindOf(msg); k {
	case wire.KindHello:
		if h, err := wire.ParseHello(msg); err == nil {
			w.hellos[c.Token()] = append(w.hellos[c.Token()], h)
		}
	case wire.KindInput:
		if ins, err := wire.ParseInputs(nil, msg); err == nil && len(ins) > 0 {
			if f, ok := w.first[c.Token()]; !ok || ins[0].Seq < f {
				w.first[c.Token()] = ins[0].Seq
			}
			w.last[c.Token()] = max(w.last[c.Token()], ins[len(ins)-1].Seq)
		}
	}
	w.mu.Unlock()
	w.Handler.HandleMessage(c, seq, msg)
}

// inputs returns session token's lowest and highest input numbers.
func (w *witness) inputs(token uint32) (first, last uint32, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	first, ok = w.first[token]
	return first, w.last[token], ok
}

func (w *witness) hellosOf(token uint32) []wire.Hello {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wire.Hello(nil), w.hellos[token]...)
}

// serveOn runs a server of h with root on addr, its socket muted by
// crash; the server stops when the test ends.
func serveOn(t *testing.T, h server.EventHandler, root *conn.PrivateKey, addr string) (srv *server.Server, crash func()) {
	t.Helper()
	s := crashtest.Start(t, server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, addr)
	return s.Server, s.Crash
}

// moment is what a player showed at a step of reconnecting, as the
// step's OnEvent saw it.
type moment struct {
	step         client.ReconnectStep
	err          error
	attempt      int
	view         player.View
	id           uint32
	welcomed     bool
	inGame       bool
	playerErr    error
	rc           player.Reconnecting
	reconnecting bool
	lasers       player.Lasers
	mis          player.Mispredictions
	rejoins      int
}

// TestReconnectForgetsTheOldSession: a player whose server restarted
// (it crashed and came back on its address with its key) says it is
// reconnecting, and why, without an error; once the new session is up
// it has forgotten the old one (world, names, kill feed, prediction,
// laser shots, its id) before anything of the new session is read; it
// then introduces itself to the new server with the same name and
// color, and numbers its inputs from 1 again: none numbered for the old
// session goes to the new one.
func TestReconnectForgetsTheOldSession(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	old := newWitness(true)
	srv, crash := serveOn(t, old, root, "127.0.0.1:0")
	addr := srv.Addr().String()

	var p *player.Player
	var moments []moment
	record := func(e client.ReconnectEvent) {
		rc, ok := p.Reconnecting()
		moments = append(moments, moment{step: e.Step, err: e.Err, attempt: e.Attempt, view: p.View(time.Now()), id: p.ID(),
			welcomed: p.Welcomed(), inGame: p.InGame(), playerErr: p.Err(), rc: rc, reconnecting: ok,
			lasers: p.Lasers(), mis: p.Mispredictions(), rejoins: p.Rejoins()})
	}
	p = player.New(player.Options{Name: "ann", Color: 3, Key: root.Public(), Reconnect: client.Reconnect{OnEvent: record}})
	require.NoError(t, p.Connect(addr))
	defer p.Client().ForceDisconnect()
	other := player.New(player.Options{Name: "bob", Color: 5, Key: root.Public(), NoReconnect: true})
	require.NoError(t, other.Connect(addr))
	defer other.Client().ForceDisconnect()

	// The old session: in the game, with bob on the board, a kill in the
	// feed, laser shots fired and mispredictions measured.
	frames(t, "the old session's state", []*player.Player{p, other}, sim.Laser|sim.Thrust|sim.Right, func() bool {
		v := p.View(time.Now())
		_, last, _ := old.inputs(p.ID())
		return p.InGame() && last > 30 && len(v.Kills) > 0 && len(v.Players) == 2 && p.Lasers().Fired > 0 && p.Mispredictions().Reconciles > 0 &&
			v.Players[0].Name[0] != '#' && v.Players[1].Name[0] != '#' && len(v.Ships) > 0
	})
	oldID := p.ID()
	_, oldLast, _ := old.inputs(oldID)
	require.Greater(t, oldLast, uint32(30), "the old session numbered a few inputs")

	crash()
	fresh := newWitness(false)
	serveOn(t, fresh, root, addr)
	frames(t, "ann back in the game", []*player.Player{p}, sim.Thrust, func() bool {
		v := p.View(time.Now())
		return p.Rejoins() == 1 && p.InGame() && len(v.Ships) > 0 && v.Ships[0].Name == "ann"
	})

	require.Len(t, moments, 3, "lost, attempt, done")
	lost, attempt, done := moments[0], moments[1], moments[2]
	assert.Equal(t, client.ReconnectLost, lost.step)
	assert.ErrorIs(t, lost.err, conn.ErrReset)
	assert.True(t, lost.reconnecting, "reconnecting from the loss on")
	assert.ErrorIs(t, lost.rc.Lost, conn.ErrReset)
	assert.Equal(t, "the server restarted", lost.rc.Why())
	assert.Zero(t, lost.rc.Attempt)
	assert.False(t, lost.rc.Trying)
	assert.NoError(t, lost.playerErr, "reconnecting is not a failure")
	assert.False(t, lost.inGame)
	assert.NotEmpty(t, lost.view.Players, "the last world stays on screen meanwhile")

	assert.Equal(t, client.ReconnectAttempt, attempt.step)
	assert.True(t, attempt.reconnecting)
	assert.Equal(t, 1, attempt.rc.Attempt)
	assert.True(t, attempt.rc.Trying)

	// At ReconnectDone, before a message of the new session is read:
	// nothing of the old one is left.
	assert.Equal(t, client.ReconnectDone, done.step)
	assert.False(t, done.reconnecting)
	assert.NoError(t, done.playerErr)
	assert.Zero(t, done.id)
	assert.False(t, done.welcomed)
	assert.False(t, done.inGame, "not before the new server welcomed it")
	assert.Equal(t, player.View{CamX: 0, CamY: 0}, done.view, "no world, names, kills or beams")
	assert.Equal(t, player.Lasers{}, done.lasers)
	assert.Equal(t, player.Mispredictions{}, done.mis)
	assert.Equal(t, 1, done.rejoins)

	// On the new session: a new id, the same Hello, inputs from 1.
	token := p.Client().Token()
	assert.Equal(t, token, p.ID())
	assert.NotEqual(t, oldID, p.ID())
	assert.Equal(t, []wire.Hello{{Name: "ann", Color: 3}}, fresh.hellosOf(token))
	first, _, ok := fresh.inputs(token)
	require.True(t, ok, "inputs reached the new server")
	assert.Equal(t, uint32(1), first, "the new session's inputs start at 1")
	for _, k := range p.View(time.Now()).Kills {
		assert.NotEqual(t, "#999", k.Victim, "the old session's kill feed is gone")
	}
	for _, s := range p.View(time.Now()).Players {
		assert.NotEqual(t, "bob", s.Name, "bob (who does not reconnect) is not on the new board")
	}
}

// frames runs p's frames at 60 a second with buttons in until done holds
// (20 s at most: a bound for a broken test).
func frames(t *testing.T, what string, ps []*player.Player, in sim.Input, done func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Second / sim.TickRate)
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); !done(); {
		require.True(t, time.Now().Before(deadline), "waited 20 s for %s", what)
		now := <-tick.C
		for _, p := range ps {
			p.Frame(now, in)
		}
	}
}

// TestNoReconnect: with NoReconnect a lost session stays lost: the player
// fails with the reason, as before reconnecting existed.
func TestNoReconnect(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, crash := serveOn(t, newWitness(false), root, "127.0.0.1:0")
	addr := srv.Addr().String()
	var events []client.ReconnectEvent
	p := player.New(player.Options{Name: "ann", Key: root.Public(), NoReconnect: true,
		Reconnect: client.Reconnect{OnEvent: func(e client.ReconnectEvent) { events = append(events, e) }}})
	require.NoError(t, p.Connect(addr))
	defer p.Client().ForceDisconnect()
	frames(t, "in the game", []*player.Player{p}, 0, p.InGame)
	crash()
	serveOn(t, newWitness(false), root, addr)
	frames(t, "the loss", []*player.Player{p}, 0, func() bool { return p.Err() != nil })
	assert.ErrorIs(t, p.Err(), conn.ErrReset)
	_, reconnecting := p.Reconnecting()
	assert.False(t, reconnecting)
	assert.Empty(t, events)
	assert.Equal(t, "lost the connection: the server at "+addr+" restarted and no longer knows this player", player.Explain(p.Err(), addr))
}

// TestReason: the few words a status line gives for each loss.
func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                     "",
		conn.ErrReset:                           "the server restarted",
		fmt.Errorf("x: %w", conn.ErrTimeout):    "the server went silent",
		conn.ErrPeerClosed:                      "the server closed the connection",
		conn.ErrHandshakeTimeout:                "no answer",
		conn.ErrBadSignature:                    "the server's key does not match",
		errors.New("the dog ate the datagrams"): "the dog ate the datagrams",
	} {
		assert.Equal(t, want, player.Reason(err), "%v", err)
	}
}
