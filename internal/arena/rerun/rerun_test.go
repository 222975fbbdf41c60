package rerun_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/seat/seattest"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/record"
)

// TestRecordingReplaysToItsChecksums records a real server with bots and
// runs the recording through a fresh handler: after every tick the world's
// checksum is the recorded one, and the handler's JOIN lines are the
// server's.
func TestRecordingReplaysToItsChecksums(t *testing.T) {
	dir := t.TempDir()
	printed := seattest.Record(t, dir, 3, 500*time.Millisecond)
	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	var out bytes.Buffer
	u := rerun.New(r, rerun.Config{Out: &out})
	defer u.Close()
	assert.Nil(t, u.Handler(), "no handler before the Game record")
	checked := 0
	var lastTick uint64
	for {
		rec, err := u.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch rec.Kind {
		case record.KindTick:
			assert.Equal(t, rec.Tick, u.Tick())
			lastTick = rec.Tick
		case record.KindChecksum:
			require.Equal(t, rec.Sum, u.Handler().Checksum(), "tick %d", rec.Tick)
			assert.Equal(t, lastTick, rec.Tick, "a checksum follows its tick")
			checked++
		}
	}
	assert.Positive(t, checked)
	assert.Equal(t, checked, u.Ticks(), "a checksum after every tick")
	assert.GreaterOrEqual(t, u.Clients(), 3)
	joins := func(s string) []string {
		var l []string
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "JOIN ") {
				l = append(l, line)
			}
		}
		return l
	}
	assert.Equal(t, joins(printed), joins(out.String()))
	assert.NotEmpty(t, joins(out.String()))
}

// tape writes a recording by hand.
type tape struct {
	w    *record.Writer
	now  time.Time
	tick uint64
}

func newTape(t *testing.T, dir string, game []byte) *tape {
	t.Helper()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w, err := record.NewWriter(dir, record.Config{}, now)
	require.NoError(t, err)
	if game != nil {
		w.Game(now, game)
	}
	return &tape{w: w, now: now}
}

func (tp *tape) ticks(n int) {
	for range n {
		tp.tick++
		tp.now = tp.now.Add(time.Second / sim.TickRate)
		tp.w.Tick(tp.now, tp.tick, time.Second/sim.TickRate)
	}
}

func (tp *tape) close(t *testing.T) {
	t.Helper()
	require.NoError(t, tp.w.Close())
}

func arenaGame(scene string) []byte {
	g := rerun.Game{Game: "arena", Arena: rerun.ArenaOf(arena.Options{Seed: 9, Scene: sim.Classic()})}
	if scene != "" {
		g.Arena.Scene = scene
	}
	return g.Encode()
}

// runAll runs the recording in dir to its end or its first error, which
// it returns with the records run before it.
func runAll(t *testing.T, dir string, cfg rerun.Config) (*rerun.Runner, []record.Kind, error) {
	t.Helper()
	r, err := record.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	u := rerun.New(r, cfg)
	t.Cleanup(u.Close)
	var kinds []record.Kind
	for {
		rec, err := u.Next()
		if errors.Is(err, io.EOF) {
			return u, kinds, nil
		}
		if err != nil {
			return u, kinds, err
		}
		kinds = append(kinds, rec.Kind)
	}
}

// TestRerunRefusesWhatItCannotRun: a recording of another game, one that
// does not begin with its game, one of a scene this binary does not know,
// one with records lost and one holding a second game are errors that say
// so, at the record where it happens.
func TestRerunRefusesWhatItCannotRun(t *testing.T) {
	write := func(game []byte, then func(tp *tape)) string {
		dir := t.TempDir()
		tp := newTape(t, dir, game)
		tp.ticks(2)
		if then != nil {
			then(tp)
		}
		tp.close(t)
		return dir
	}

	_, _, err := runAll(t, write(rerun.Game{Game: "echo"}.Encode(), nil), rerun.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `of game "echo", not the arena's`)

	_, _, err = runAll(t, write([]byte("{not json"), nil), rerun.Config{})
	require.Error(t, err)

	_, kinds, err := runAll(t, write(nil, nil), rerun.Config{})
	assert.ErrorIs(t, err, rerun.ErrNotArena, "no Game record first")
	assert.Empty(t, kinds)

	_, _, err = runAll(t, write(arenaGame("nowhere"), nil), rerun.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scene "nowhere"`)

	u, kinds, err := runAll(t, write(arenaGame(""), func(tp *tape) {
		tp.w.Flush(tp.now)
		tp.w.Message(tp.now, 1, make([]byte, record.MaxRecordBytes+1)) // too large: lost
		tp.w.Flush(tp.now)
		tp.ticks(2)
	}), rerun.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 records were lost")
	assert.Equal(t, []record.Kind{record.KindGame, record.KindTick, record.KindTick}, kinds, "it stops at the marker")
	assert.Equal(t, 2, u.Ticks())

	_, kinds, err = runAll(t, write(arenaGame(""), func(tp *tape) {
		tp.w.Game(tp.now, arenaGame(""))
		tp.ticks(1)
	}), rerun.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "second game")
	assert.Len(t, kinds, 3)
}

// peer is a handler's peer that keeps what it is sent.
type peer struct {
	token uint32
	got   [][]byte
}

func (p *peer) Token() uint32 { return p.token }
func (p *peer) Send(b []byte, _ conn.RetryMode, _ func(bool)) error {
	p.got = append(p.got, append([]byte(nil), b...))
	return nil
}
func (p *peer) Log() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (p *peer) SetLabel(string)   {}

// TestRerunMakesPeersWithNewPeer: each Connect gets its peer from
// Config.NewPeer, which the handler then sends to (a Welcome first, the
// answer to Identify); the peer is known while connected; a nil peer
// makes a silent one; Tamper sees every tick before its Update.
func TestRerunMakesPeersWithNewPeer(t *testing.T) {
	dir := t.TempDir()
	tp := newTape(t, dir, arenaGame(""))
	tp.ticks(1)
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	tp.w.Connect(tp.now, 5, addr)
	tp.w.Connect(tp.now, 6, addr)
	tp.w.Message(tp.now, 5, wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}))
	tp.w.Message(tp.now, 5, wire.AppendHello(nil, wire.Hello{Name: "ann"}))
	tp.ticks(10)
	tp.w.Disconnect(tp.now, 6, 2)
	tp.ticks(1)
	tp.close(t)

	var asked []uint32
	mine := map[uint32]*peer{}
	var tampered []uint64
	u, _, err := runAll(t, dir, rerun.Config{
		NewPeer: func(token uint32) arena.Peer {
			asked = append(asked, token)
			if token == 6 {
				return nil // silent
			}
			p := &peer{token: token}
			mine[token] = p
			return p
		},
		Tamper: func(h *arena.Handler, tick uint64) {
			require.NotNil(t, h)
			tampered = append(tampered, tick)
		},
	})
	require.NoError(t, err)
	assert.Equal(t, []uint32{5, 6}, asked)
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, tampered)
	assert.Equal(t, 12, u.Ticks())
	assert.Equal(t, 2, u.Clients())
	assert.Equal(t, uint64(12), u.Tick())
	p, ok := u.Peer(5)
	require.True(t, ok)
	assert.Same(t, mine[5], p)
	_, ok = u.Peer(6)
	assert.False(t, ok, "gone after its Disconnect")

	got := mine[5].got
	require.NotEmpty(t, got)
	w, err := wire.ParseWelcome(got[0])
	require.NoError(t, err, "the Welcome first")
	assert.Equal(t, uint32(5), w.ID)
	kinds := map[wire.Kind]int{}
	for _, m := range got {
		k, _ := wire.KindOf(m)
		kinds[k]++
	}
	assert.Equal(t, 1, kinds[wire.KindIdentity], "Identify answered")
	assert.Positive(t, kinds[wire.KindEvent], "ann's join announced to her")
	assert.Equal(t, "ann", u.Handler().Name(5))
}
