package arena_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/crashtest"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// arenaProcess is an arena server that can crash and start again on its
// address with its key, as a server process restarted by its supervisor.
type arenaProcess struct {
	t    *testing.T
	root *conn.PrivateKey
	addr string
	cfg  server.Config
	srv  *server.Server
	proc *crashtest.Server
	out  *syncbuf.Buffer // the current process's JOIN, LEAVE and KILL lines
}

// startArena starts an arena server on the loopback (any number of
// sessions a host), stopped when the test ends.
func startArena(t *testing.T, cfg server.Config) *arenaProcess {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	cfg.RootKey, cfg.Logger, cfg.MaxSessionsPerHost, cfg.KeepAliveInterval = root, slog.New(slog.DiscardHandler), -1, arena.KeepAlive
	a := &arenaProcess{t: t, root: root, addr: "127.0.0.1:0", cfg: cfg}
	a.start()
	a.addr = a.srv.Addr().String()
	return a
}

// start starts a new process: a new arena handler on a new socket.
func (a *arenaProcess) start() {
	a.t.Helper()
	a.out = &syncbuf.Buffer{}
	cfg := a.cfg
	cfg.Handler = arena.NewHandler(a.out, 1)
	a.proc = crashtest.Start(a.t, cfg, a.addr)
	a.srv = a.proc.Server
}

// crash stops the server as a crash would for its players.
func (a *arenaProcess) crash() { a.proc.Crash() }

// restart crashes the server and starts a new one on its address with
// its key.
func (a *arenaProcess) restart() {
	a.t.Helper()
	a.crash()
	a.start()
}

// joined returns the names of the current process's JOIN lines.
func (a *arenaProcess) joined() []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^JOIN (\S+)$`).FindAllStringSubmatch(a.out.String(), -1) {
		names = append(names, m[1])
	}
	return names
}

// stepLog gathers a player's reconnect steps; its OnEvent runs on the
// test's goroutine (in Frame), Steps may be read from any.
type stepLog struct {
	mu     sync.Mutex
	events []client.ReconnectEvent
}

func (s *stepLog) add(e client.ReconnectEvent) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *stepLog) steps() []client.ReconnectEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *stepLog) names() []string {
	var n []string
	for _, e := range s.steps() {
		n = append(n, e.Step.String())
	}
	return n
}

// framesUntil frames every player at 60 a second with the buttons of in
// until done holds (20 s at most: a bound for a broken test).
func framesUntil(t *testing.T, what string, players []*player.Player, in func(i int) sim.Input, done func() bool) {
	t.Helper()
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	for deadline := time.Now().Add(20 * time.Second); !done(); {
		require.True(t, time.Now().Before(deadline), "waited 20 s for %s", what)
		now := <-frame.C
		for i, p := range players {
			p.Frame(now, in(i))
		}
	}
}

func idle(int) sim.Input { return 0 }

// sees reports whether p's score board lists every player of names,
// each with its color (colors[i]) and as itself when it is p (own).
func sees(p *player.Player, names []string, colors []uint8, own string) bool {
	v := p.View(time.Now())
	got := 0
	for _, s := range v.Players {
		i := slices.Index(names, s.Name)
		if i < 0 || s.Color != colors[i] || s.Local != (s.Name == own) {
			continue
		}
		got++
	}
	return got == len(names)
}

// standing returns p's own place on the score board.
func standing(p *player.Player) (player.Standing, bool) {
	for _, s := range p.View(time.Now()).Players {
		if s.Local {
			return s, true
		}
	}
	return player.Standing{}, false
}

// TestPlayersSurviveARestart: an arena server with four players in the
// game crashes (nothing it says on its way out reaches them) and starts
// again on its address with its key. The first datagram each player sends
// the new server gets a stateless reset; each reconnects at its first
// attempt, introduces itself again (the new server's JOIN lines name them
// all), sees the others with their names and colors, and plays on: the
// world arrives and its buttons move its ship.
func TestPlayersSurviveARestart(t *testing.T) {
	a := startArena(t, server.Config{})
	names := []string{"ann", "bob", "cat", "dan"}
	colors := []uint8{3, 5, 7, 11}
	logs := make([]*stepLog, len(names))
	var players []*player.Player
	for i, name := range names {
		logs[i] = &stepLog{}
		p := player.New(player.Options{Name: name, Color: colors[i], Key: a.root.Public(),
			Reconnect: client.Reconnect{OnEvent: logs[i].add}})
		require.NoError(t, p.Connect(a.addr))
		t.Cleanup(p.Client().ForceDisconnect)
		players = append(players, p)
	}
	everyoneSeesEveryone := func() bool {
		for i, p := range players {
			if !p.InGame() || !sees(p, names, colors, names[i]) {
				return false
			}
		}
		return true
	}
	framesUntil(t, "all in the game", players, idle, everyoneSeesEveryone)
	require.ElementsMatch(t, names, a.joined())
	oldIDs := make([]uint32, len(players))
	for i, p := range players {
		oldIDs[i] = p.ID()
	}

	a.restart()
	framesUntil(t, "all back", players, idle, func() bool {
		return len(a.joined()) == len(names) && everyoneSeesEveryone()
	})
	assert.ElementsMatch(t, names, a.joined(), "the new server's JOIN lines")
	for i, p := range players {
		steps := logs[i].steps()
		require.Equal(t, []string{"lost", "attempt", "done"}, logs[i].names(), names[i])
		assert.ErrorIs(t, steps[0].Err, conn.ErrReset, "%s: told by the new server, not by a timeout", names[i])
		assert.Equal(t, 1, steps[2].Attempt, "%s: back at the first attempt", names[i])
		assert.Equal(t, 1, p.Rejoins(), names[i])
		assert.NotEqual(t, oldIDs[i], p.ID(), "%s: a new session", names[i])
		_, reconnecting := p.Reconnecting()
		assert.False(t, reconnecting)
		assert.NoError(t, p.Err())
	}

	// The game plays on: the world arrives, and ann's buttons move her
	// ship (the server's word on it, on the score board).
	before := players[0].View(time.Now()).Replication.Snapshots
	start, ok := standing(players[0])
	require.True(t, ok)
	framesUntil(t, "ann moves", players, func(i int) sim.Input {
		if i == 0 {
			return sim.Thrust | sim.Right
		}
		return 0
	}, func() bool {
		now, ok := standing(players[0])
		return ok && now.Alive && math.Hypot(now.X-start.X, now.Y-start.Y) > 100
	})
	assert.Greater(t, players[0].View(time.Now()).Replication.Snapshots, before)
}

// TestPlayerRejoinsBesideItsGhost: a server that did not restart still
// has the old session of a player whose side lost it (its network went
// dark past its connection timeout, not the server's): the player
// reconnects and says Hello with the same name, which its ghost still
// has. The arena takes it (names are not unique): both seats are named
// ann until the ghost times out, and the player is in the game as ann.
func TestPlayerRejoinsBesideItsGhost(t *testing.T) {
	a := startArena(t, server.Config{ConnectionTimeout: time.Minute})
	var dark atomic.Bool
	dial := func(addr string) (transport.Conn, error) {
		c, err := transport.Dial(addr, transport.Config{Portable: true})
		if err != nil {
			return nil, err
		}
		return &darkened{Conn: c, dark: &dark}, nil
	}
	log := &stepLog{}
	p := player.New(player.Options{Name: "ann", Color: 4, Key: a.root.Public(), Dial: dial,
		ConnectionTimeout: 500 * time.Millisecond, Reconnect: client.Reconnect{OnEvent: log.add}})
	require.NoError(t, p.Connect(a.addr))
	t.Cleanup(p.Client().ForceDisconnect)
	players := []*player.Player{p}
	framesUntil(t, "ann in the game", players, idle, func() bool { return p.InGame() && sees(p, []string{"ann"}, []uint8{4}, "ann") })
	old := p.ID()

	dark.Store(true)
	framesUntil(t, "ann's session lost", players, idle, func() bool { _, ok := p.Reconnecting(); return ok })
	dark.Store(false)
	rc, _ := p.Reconnecting()
	assert.ErrorIs(t, rc.Lost, conn.ErrTimeout)
	assert.Equal(t, "the server went silent", rc.Why())
	framesUntil(t, "ann back", players, idle, func() bool { return p.InGame() && len(a.joined()) == 2 })
	assert.Equal(t, []string{"ann", "ann"}, a.joined(), "the ghost and the new session")
	assert.NotEqual(t, old, p.ID())
	framesUntil(t, "ann sees herself", players, idle, func() bool {
		v := p.View(time.Now())
		return len(v.Ships) > 0 && v.Ships[0].Local && v.Ships[0].Name == "ann" && v.Ships[0].Color == 4
	})
	assert.Equal(t, "done", log.names()[len(log.names())-1])
}

// darkened is a client's socket whose network can go dark: nothing is
// sent or received while dark is set.
type darkened struct {
	transport.Conn
	dark *atomic.Bool
}

func (d *darkened) WriteBatch(ds []transport.Datagram) (int, error) {
	if d.dark.Load() {
		return len(ds), nil
	}
	return d.Conn.WriteBatch(ds)
}

func (d *darkened) ReadBatch(ds []transport.Datagram) (int, error) {
	n, err := d.Conn.ReadBatch(ds)
	if d.dark.Load() {
		return 0, err
	}
	return n, err
}

// TestBotsSurviveARestart: bots in the game when their server crashes and
// starts again come back by themselves, each with its name, and the run
// goes on (its give-up time is not reached).
func TestBotsSurviveARestart(t *testing.T) {
	a := startArena(t, server.Config{})
	const n = 3
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- arena.BotsConfig{Server: a.addr, Key: a.root.Public(), Count: n, GiveUp: time.Minute}.Run(ctx)
	}()
	bots := []string{"bot1", "bot2", "bot3"}
	waitJoins := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); len(a.joined()) < n; time.Sleep(10 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "waited 20 s for %s: %q", what, a.out.String())
		}
	}
	waitJoins("the bots")
	require.ElementsMatch(t, bots, a.joined())
	a.restart()
	waitJoins("the bots to come back")
	assert.ElementsMatch(t, bots, a.joined(), "the new server's JOIN lines")
	select {
	case err := <-done:
		t.Fatalf("the bots stopped: %v", err)
	default:
	}
	cancel()
	assert.NoError(t, <-done)
}

// TestBotsGiveUpWhileReconnecting: bots whose server crashed and stays
// away reconnect in vain; once none has been in the game for the give-up
// time, reconnecting included, the run ends saying the server went away.
func TestBotsGiveUpWhileReconnecting(t *testing.T) {
	a := startArena(t, server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- arena.BotsConfig{Server: a.addr, Key: a.root.Public(), Count: 2, GiveUp: 3 * time.Second}.Run(ctx)
	}()
	for deadline := time.Now().Add(20 * time.Second); len(a.joined()) < 2; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the bots never joined")
	}
	// A new server of another key on the address: it cannot tell the bots
	// their sessions are gone, nor sign their handshakes.
	a.crash()
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: arena.NewHandler(io.Discard, 1), RootKey: other, Logger: slog.New(slog.DiscardHandler)}, a.addr)
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	err = <-done
	require.NoError(t, ctx.Err(), "the run ended by itself")
	var be *arena.BotsError
	require.ErrorAs(t, err, &be)
	assert.True(t, be.Joined)
	assert.True(t, strings.HasPrefix(err.Error(), "the server went away: no bot has been in the game for 3s: "), err.Error())
	assert.True(t, errors.Is(err, conn.ErrBadSignature) || errors.Is(err, conn.ErrTimeout) || errors.Is(err, conn.ErrHandshakeTimeout), "%v", err)
}
