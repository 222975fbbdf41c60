package seat

import (
	"errors"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/seat/seattest"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// recorded is a real game recorded once for the tests of this package:
// a server with three bots.
var recorded struct {
	dir, out string
	done     bool
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mpgs-seat")
	if err != nil {
		panic(err)
	}
	recorded.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recording returns the recorded game, recording it on the first call.
func recording(t *testing.T) (dir, out string) {
	t.Helper()
	if !recorded.done {
		recorded.out = seattest.Record(t, recorded.dir, 3, 1500*time.Millisecond)
		recorded.done = true
	}
	return recorded.dir, recorded.out
}

// TestScanFindsTheBots: a recorded server's players are found by the
// names its JOIN lines printed, each a session of its own; an unknown
// name lists them.
func TestScanFindsTheBots(t *testing.T) {
	dir, out := recording(t)
	ix, err := Scan(dir)
	require.NoError(t, err)
	require.NoError(t, ix.Stop)
	assert.Positive(t, ix.Duration)
	assert.Positive(t, ix.Ticks)
	var joined []string
	for _, m := range regexp.MustCompile(`(?m)^JOIN (\S+)$`).FindAllStringSubmatch(out, -1) {
		joined = append(joined, m[1])
	}
	var hellos []string
	for _, s := range ix.Sessions {
		if s.Hello {
			hellos = append(hellos, s.Name)
		}
	}
	// Sessions come in the order the bots connected, JOIN lines in the
	// order their Hellos came: the same names, not always in one order.
	slices.Sort(joined)
	slices.Sort(hellos)
	assert.Equal(t, joined, hellos, "a session for each JOIN line, by the same name")
	for _, name := range []string{"bot1", "bot2", "bot3"} {
		s, err := ix.Find(name, 1)
		require.NoError(t, err, name)
		assert.Equal(t, name, s.Name)
		assert.True(t, s.Left, "the bots left before the server stopped")
		assert.LessOrEqual(t, s.JoinAt, s.LeaveAt)
	}
	_, err = ix.Find("nobody", 1)
	var unknown *UnknownError
	require.ErrorAs(t, err, &unknown)
	assert.Contains(t, err.Error(), `no player named "nobody"`)
	assert.Contains(t, err.Error(), "its players: bot")
	for _, name := range []string{"bot1", "bot2", "bot3"} {
		assert.Contains(t, err.Error(), name)
	}
}

// TestReplayShowsTheSeatsShip runs a recorded game through a seat, tick
// by tick: whenever a snapshot reached the seat at the tick it was made,
// the seat's own ship is the re-simulated world's ship of that session
// at that tick (the snapshot's data carries it at full precision); the
// other ships the seat shows are the other players', where the world had
// them a moment before; the seat sends nothing; and at the end it knows
// its player left.
func TestReplayShowsTheSeatsShip(t *testing.T) {
	dir, _ := recording(t)
	rp, err := OpenAs(dir, "bot2", 1)
	require.NoError(t, err)
	defer rp.Close()
	s := rp.Session()
	p := rp.Player()

	// Where the world had each ship, by world tick.
	history := map[uint32]map[uint32]sim.Ship{}
	var exact, others, named int
	lastSnaps := uint64(0)
	for {
		var before uint32
		if h := rp.Handler(); h != nil {
			before = h.World().Tick
		}
		err := rp.Step()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		w := rp.Handler().World()
		ships := map[uint32]sim.Ship{}
		for _, sh := range w.Ships {
			ships[sh.ID] = sh
		}
		history[w.Tick] = ships
		if !rp.Seated() {
			continue
		}
		v := p.View(rp.Now())
		if len(v.Ships) == 0 || !v.Ships[0].Local {
			continue
		}
		me := v.Ships[0]
		assert.Equal(t, s.Token, me.ID)
		if me.Name == s.Name {
			named++
			assert.Equal(t, s.Color, me.Color)
		}
		// A snapshot came this tick, made at its one step: the ship is
		// the world's, now.
		if v.Replication.Snapshots > lastSnaps && w.Tick == before+1 && w.Tick%2 == 0 {
			want := ships[s.Token]
			assert.Equal(t, want.Alive, me.Alive, "tick %d", w.Tick)
			if want.Alive {
				assert.InDelta(t, want.X, me.X, 0.01, "tick %d", w.Tick)
				assert.InDelta(t, want.Y, me.Y, 0.01, "tick %d", w.Tick)
				assert.InDelta(t, 0, math.Remainder(want.Angle-me.Angle, 2*math.Pi), 1e-4, "tick %d", w.Tick)
				assert.InDelta(t, want.VX, me.VX, 0.01, "tick %d", w.Tick)
			}
			exact++
		}
		lastSnaps = v.Replication.Snapshots
		for _, o := range v.Ships[1:] {
			require.NotEqual(t, s.Token, o.ID, "the seat's ship is drawn once")
			if near(history, w.Tick, o) {
				others++
			} else {
				t.Errorf("tick %d: ship %d shown at (%.0f, %.0f), where the world never had it of late", w.Tick, o.ID, o.X, o.Y)
			}
		}
	}
	t.Logf("%d ticks; own ship compared at %d, %d other ships checked; %d snapshots", rp.Tick(), exact, others, lastSnaps)
	assert.Positive(t, exact, "the seat's ship was compared with the world's")
	assert.Positive(t, others, "the other players' ships showed")
	assert.Positive(t, named, "the ship carried its player's name")
	assert.Zero(t, rp.link.sends, "a spectator sends nothing")
	assert.True(t, rp.Ended())
	assert.NoError(t, rp.Err())
	assert.True(t, rp.Left(), "the bot left before the end of the recording")
	var left *LeftError
	require.ErrorAs(t, p.Err(), &left)
	assert.Equal(t, "bot2", left.Name)
	assert.Equal(t, s.LeaveAt, left.At)
	assert.False(t, p.InGame())
}

// near reports whether the world had ship o's player near where o is
// shown in the last half second before tick (others are shown a little
// in the past, interpolated).
func near(history map[uint32]map[uint32]sim.Ship, tick uint32, o player.Ship) bool {
	for k := uint32(0); k <= 30 && k <= tick; k++ {
		if w, ok := history[tick-k][o.ID]; ok && math.Hypot(w.X-o.X, w.Y-o.Y) < 2*sim.ShipRadius {
			return true
		}
	}
	return false
}

// TestReplayRunsToAndRestarts: RunTo stops where its budget says and
// goes on from there, never back; the world and the seat are the same
// at the same time however the run was cut; Restart starts over and
// shows the same again.
func TestReplayRunsToAndRestarts(t *testing.T) {
	dir, _ := recording(t)
	rp, err := OpenAs(dir, "bot1", 1)
	require.NoError(t, err)
	defer rp.Close()
	mid := rp.Session().JoinAt + rp.Index().Duration/8 + time.Second/2
	if end := rp.Index().Duration; mid > end {
		mid = end
	}

	// In one go.
	assert.True(t, rp.RunTo(mid, nil))
	assert.Equal(t, mid, rp.At())
	one := rp.Player().View(rp.Now())
	sum, tick := rp.Handler().Checksum(), rp.Tick()
	assert.False(t, rp.RunTo(mid-time.Second, nil) && rp.At() < mid, "never back")
	assert.Equal(t, mid, rp.At())

	// Again, five ticks a call.
	require.NoError(t, rp.Restart())
	assert.Zero(t, rp.At())
	calls := 0
	for {
		n := 0
		calls++
		if rp.RunTo(mid, func() bool { n++; return n <= 5 }) {
			break
		}
		require.Less(t, calls, 100000)
	}
	assert.Greater(t, calls, 1, "the budget cut the run")
	assert.Equal(t, mid, rp.At())
	assert.Equal(t, tick, rp.Tick())
	assert.Equal(t, sum, rp.Handler().Checksum(), "the same world")
	two := rp.Player().View(rp.Now())
	require.NotEmpty(t, one.Ships)
	assert.Equal(t, one.Ships[0], two.Ships[0], "the same seat")
	assert.Equal(t, len(one.Ships), len(two.Ships))

	// To the end: the time stops there.
	assert.True(t, rp.RunTo(time.Hour, nil))
	assert.True(t, rp.Ended())
	assert.Equal(t, rp.Index().Duration, rp.At())
	assert.Equal(t, rp.Index().LastTick, rp.Tick())
	assert.ErrorIs(t, rp.Step(), io.EOF)
}

func TestClock(t *testing.T) {
	assert.Equal(t, "0:00.0", Clock(0))
	assert.Equal(t, "0:01.5", Clock(1500*time.Millisecond))
	assert.Equal(t, "2:05.3", Clock(2*time.Minute+5*time.Second+260*time.Millisecond))
	assert.True(t, strings.HasPrefix(Clock(61*time.Minute), "61:"))
}
