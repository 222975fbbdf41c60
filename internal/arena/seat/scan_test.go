package seat

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/server"
)

// tape writes a recording by hand, as a server would: its clock moves a
// tick at a time.
type tape struct {
	w    *record.Writer
	now  time.Time
	tick uint64
}

func newTape(t *testing.T, dir string, game rerun.Game) *tape {
	t.Helper()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w, err := record.NewWriter(dir, record.Config{}, now)
	require.NoError(t, err)
	w.Game(now, game.Encode())
	return &tape{w: w, now: now}
}

func arenaGame() rerun.Game {
	return rerun.Game{Game: "arena", Arena: rerun.ArenaOf(arena.Options{Seed: 3, Scene: sim.Classic()})}
}

func (tp *tape) ticks(n int) {
	for range n {
		tp.tick++
		tp.now = tp.now.Add(time.Second / sim.TickRate)
		tp.w.Tick(tp.now, tp.tick, time.Second/sim.TickRate)
	}
}

func (tp *tape) connect(peer uint32) {
	tp.w.Connect(tp.now, peer, netip.MustParseAddrPort("127.0.0.1:9"))
	tp.w.Message(tp.now, peer, wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}))
}

func (tp *tape) hello(peer uint32, name string, color uint8) {
	tp.w.Message(tp.now, peer, wire.AppendHello(nil, wire.Hello{Name: name, Color: color}))
}

func (tp *tape) close(t *testing.T) {
	t.Helper()
	require.NoError(t, tp.w.Close())
}

// TestScanNamesAsTheServerDoes: a recording written by hand, whose
// players name themselves in every way a Hello can: cleaned names,
// nothing (the default name), no Hello at all, renames, a flood of them
// over the rate limit, and a player who leaves and joins again. Scan
// gives each session the names the handler gave it, which the same
// recording run through the handler confirms (its JOIN lines, the names
// it ends with).
func TestScanNamesAsTheServerDoes(t *testing.T) {
	dir := t.TempDir()
	tp := newTape(t, dir, arenaGame())
	tp.ticks(3)
	tp.connect(11)
	tp.hello(11, "ann lee", 3)
	tp.ticks(5)
	tp.connect(22) // never says its name: player2
	tp.connect(33)
	tp.hello(33, "\u200b", 1) // nothing left: player3
	tp.ticks(2)
	for _, n := range []string{"c1", "c2", "c3", "zed"} { // over the burst: zed is dropped
		tp.hello(33, n, 1)
	}
	tp.hello(33, "c3", 1) // the same again: nothing
	tp.ticks(10)
	tp.w.Disconnect(tp.now, 11, server.LeftTimedOut)
	tp.ticks(10)
	tp.connect(44)
	tp.hello(44, "ann_lee", 5)
	tp.ticks(40)
	tp.hello(44, "annie", 5)
	tp.ticks(4)
	tp.close(t)

	ix, err := Scan(dir)
	require.NoError(t, err)
	require.NoError(t, ix.Stop)
	assert.Equal(t, 74, ix.Ticks)
	assert.Equal(t, 74*(time.Second/sim.TickRate), ix.Duration)
	assert.Equal(t, uint64(1), ix.FirstTick)
	assert.Equal(t, uint64(74), ix.LastTick)
	require.Len(t, ix.Sessions, 4)
	ann, p2, p3, ann2 := ix.Sessions[0], ix.Sessions[1], ix.Sessions[2], ix.Sessions[3]
	assert.Equal(t, Session{Token: 11, Ordinal: 0, Name: "ann_lee", Names: []string{"ann_lee"}, Color: 3, Hello: true,
		JoinAt: 3 * (time.Second / sim.TickRate), Left: true, LeaveAt: 20 * (time.Second / sim.TickRate), Reason: server.LeftTimedOut}, ann)
	assert.Equal(t, Session{Token: 22, Ordinal: 1, Name: "player2", Names: []string{"player2"}, Color: 1,
		JoinAt: 8 * (time.Second / sim.TickRate)}, p2)
	assert.Equal(t, []string{"player3", "c1", "c2", "c3"}, p3.Names)
	assert.Equal(t, "player3", p3.Name)
	assert.Equal(t, []string{"ann_lee", "annie"}, ann2.Names)
	assert.Equal(t, uint8(5), ann2.Color)

	for _, c := range []struct {
		name  string
		n     int
		token uint32
	}{{"ann lee", 1, 11}, {"ann_lee", 2, 44}, {"annie", 1, 44}, {"player2", 1, 22}, {"player3", 1, 33}, {"c2", 1, 33}} {
		s, err := ix.Find(c.name, c.n)
		if assert.NoError(t, err, c.name) {
			assert.Equal(t, c.token, s.Token, c.name)
		}
	}
	for _, c := range []struct {
		name string
		n    int
		msg  string
	}{
		{"zed", 1, `no player named "zed"`},
		{"ann_lee", 3, `"ann_lee" has 2 session(s) in the recording, not 3`},
		{"ann_lee", 0, "sessions count from 1"},
	} {
		_, err := ix.Find(c.name, c.n)
		var unknown *UnknownError
		require.ErrorAs(t, err, &unknown)
		assert.Contains(t, err.Error(), c.msg)
		assert.Contains(t, err.Error(), "its players: ann_lee (2 sessions), player2, player3, c1, c2, c3, annie")
	}

	// The handler agrees.
	r, err := record.Open(dir)
	require.NoError(t, err)
	defer r.Close()
	var out bytes.Buffer
	u := rerun.New(r, rerun.Config{Out: &out})
	defer u.Close()
	for {
		if _, err := u.Next(); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
	}
	assert.Equal(t, "JOIN ann_lee\nJOIN player3\nLEAVE ann_lee active=2\nJOIN ann_lee\n", out.String())
	for _, s := range []Session{p2, p3, ann2} {
		assert.Equal(t, s.Names[len(s.Names)-1], u.Handler().Name(s.Token))
	}
}

// TestScanRefusesWhatItCannotRun: a recording of another game, or none,
// is an error; records lost while recording end what can be run (Stop),
// and a replay stops there with the reason.
func TestScanRefusesWhatItCannotRun(t *testing.T) {
	dir := t.TempDir()
	tp := newTape(t, dir, rerun.Game{Game: "echo"})
	tp.ticks(2)
	tp.close(t)
	_, err := Scan(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `of game "echo"`)

	_, err = Scan(t.TempDir())
	require.Error(t, err, "an empty directory")

	dir = t.TempDir()
	tp = newTape(t, dir, arenaGame())
	tp.connect(7)
	tp.hello(7, "ann", 0)
	tp.ticks(30)
	tp.w.Flush(tp.now)
	tp.w.Message(tp.now, 7, make([]byte, record.MaxRecordBytes+1)) // lost: too large
	tp.w.Flush(tp.now)
	tp.ticks(30)
	tp.close(t)
	ix, err := Scan(dir)
	require.NoError(t, err)
	require.Error(t, ix.Stop)
	assert.Contains(t, ix.Stop.Error(), "1 records were lost")
	assert.Equal(t, 30*(time.Second/sim.TickRate), ix.Duration, "what comes before")

	rp, err := OpenAs(dir, "ann", 1)
	require.NoError(t, err)
	defer rp.Close()
	assert.True(t, rp.RunTo(time.Hour, nil))
	assert.True(t, rp.Ended())
	require.Error(t, rp.Err())
	assert.True(t, strings.HasPrefix(rp.Err().Error(), "seat: the replay stops at 0:00.5: "), rp.Err().Error())
	assert.Equal(t, ix.Duration, rp.At())
	assert.True(t, rp.Seated(), "ann had not left")
	v := rp.Player().View(rp.Now())
	require.NotEmpty(t, v.Ships)
	assert.True(t, v.Ships[0].Local)
	assert.Equal(t, "ann", v.Ships[0].Name)
}
