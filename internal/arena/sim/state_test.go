package sim_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// battleAfter returns a battle world with three ships that fought for
// ticks ticks: ships, bullets, broken asteroids and asteroids due.
func battleAfter(ticks int) *sim.World {
	w := sim.NewSceneWorld(7, sim.Battle())
	for _, id := range []uint32{1, 2, 3} {
		w.AddShip(id)
	}
	for tick := range ticks {
		for i, id := range []uint32{1, 2, 3} {
			w.SetInput(id, []sim.Input{sim.Thrust | sim.Fire, sim.Left | sim.Fire, sim.Right | sim.Thrust | sim.Fire}[(tick/30+i)%3])
		}
		w.Step()
	}
	return w
}

// TestStateRoundTrip: a world's encoded state parses to exactly its
// State, and two equal states have no Diff.
func TestStateRoundTrip(t *testing.T) {
	w := battleAfter(600)
	want := w.State()
	require.NotEmpty(t, want.Bullets)
	got, err := sim.ParseState(w.AppendState(nil))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Nil(t, sim.Diff(&got, &want, 0))

	part, err := sim.ParseState(w.AppendPartial(nil))
	require.NoError(t, err)
	assert.True(t, part.Partial)
	assert.Empty(t, part.Asteroids)
	assert.Equal(t, want.Ships, part.Ships)
	assert.Equal(t, want.Bullets, part.Bullets)
	assert.Nil(t, sim.Diff(&part, &want, 0), "a partial state compares without asteroids")
	assert.Less(t, len(w.AppendPartial(nil))*5, len(w.AppendState(nil)))
}

// TestStateDiffNamesWhatDiffers: a ship moved, an asteroid hit and a
// bullet gone are each named, with the fields and both values; max
// bounds the lines.
func TestStateDiffNamesWhatDiffers(t *testing.T) {
	w := battleAfter(200)
	want := w.State()
	got := w.State()
	got.Ships[1].X += 1
	got.Ships[1].Score++
	got.Asteroids[5].HP--
	got.Bullets = got.Bullets[1:]
	lines := sim.Diff(&got, &want, 0)
	require.Len(t, lines, 3, strings.Join(lines, "\n"))
	assert.Contains(t, lines[0], "ship 2: x ")
	assert.Contains(t, lines[0], "score 1 (recorded 0)")
	assert.Contains(t, lines[1], "only in the recording")
	assert.Regexp(t, `^asteroid \d+: hp \d+ \(recorded \d+\)$`, lines[2])

	short := sim.Diff(&got, &want, 1)
	assert.Equal(t, []string{lines[0], "and 2 more"}, short)
}

// TestParseStateRefusesMalformed: every truncation of a state, a wrong
// version, trailing bytes and a count larger than the bytes are refused.
func TestParseStateRefusesMalformed(t *testing.T) {
	b := battleAfter(120).AppendState(nil)
	for _, b := range [][]byte{b, battleAfter(120).AppendPartial(nil)} {
		for n := range len(b) {
			_, err := sim.ParseState(b[:n])
			require.Error(t, err, "truncated at %d", n)
			require.True(t, errors.Is(err, sim.ErrState))
		}
	}
	_, err := sim.ParseState(append(b, 0))
	assert.ErrorIs(t, err, sim.ErrState)
	bad := append([]byte{9}, b[1:]...)
	_, err = sim.ParseState(bad)
	assert.ErrorIs(t, err, sim.ErrState)
	// A header claiming 2^40 ships in a few bytes.
	huge := append(append([]byte(nil), b[:21]...), 0x80, 0x80, 0x80, 0x80, 0x80, 0x40)
	_, err = sim.ParseState(huge)
	assert.ErrorIs(t, err, sim.ErrState)
}

// FuzzParseState: any input parses or is refused, never allocating more
// than a fixed multiple of its length; what parses re-encodes to the same
// bytes.
func FuzzParseState(f *testing.F) {
	f.Add(battleAfter(60).AppendState(nil))
	f.Add([]byte{1})
	f.Add(battleAfter(60).AppendPartial(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := sim.ParseState(b)
		if err != nil {
			return
		}
		size := len(s.Ships)*int(shipSize) + len(s.Bullets)*int(bulletSize) + len(s.Asteroids)*int(asteroidSize) + 4*len(s.AsteroidsDue)
		if size > 32*len(b)+64 {
			t.Fatalf("%d bytes of state from %d bytes", size, len(b))
		}
	})
}

const (
	shipSize     = unsafe.Sizeof(sim.Ship{})
	bulletSize   = unsafe.Sizeof(sim.Bullet{})
	asteroidSize = unsafe.Sizeof(sim.Asteroid{})
)
