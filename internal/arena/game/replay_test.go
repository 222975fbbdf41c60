package game

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/seat"
	"github.com/mpgs/mpgameserver/internal/arena/seat/seattest"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// TestReplayWindowShowsTheSeat opens the window on a recorded game with
// bots, through bot1's seat. The test drives the replay itself, tick by
// tick, with the window paused (the frames then move nothing), until the
// seat shows its own ship and another alive: the frame draws both in
// their colors where the view has them, and the REPLAY bar with the
// recording's time and tick, the speed and PAUSED.
func TestReplayWindowShowsTheSeat(t *testing.T) {
	w := guitest.Get(t, win)
	dir := t.TempDir()
	seattest.Record(t, dir, 3, 1500*time.Millisecond)
	r, err := seat.OpenAs(dir, "bot1", 1)
	require.NoError(t, err)
	defer r.Close()
	out := &syncbuf.Buffer{}
	g, err := New(Options{Replay: r, Out: out, ScreenshotDir: t.TempDir()})
	require.NoError(t, err)
	w.Between(func() { g.SetPaused(true) }) // before the window runs it
	defer w.Show(g)()

	var v player.View
	ready := false
	for !ready {
		var err error
		w.Between(func() {
			g.rp.skipTo = 0 // the test runs it
			err = r.Step()
			v = g.Player().View(r.Now())
			alive := 0
			for _, s := range v.Ships {
				if s.Alive {
					alive++
				}
			}
			ready = len(v.Ships) > 1 && v.Ships[0].Local && v.Ships[0].Alive && alive >= 2
		})
		require.NoError(t, err, "the recording ended before bot1's ship and another showed alive")
	}
	var line string
	w.Between(func() {
		g.reportReplay()
		line = g.replayLine()
	})
	img := w.Capture(t)
	save(t, img, "arena-replay")
	assert.Regexp(t, `^bot1   \d:\d\d\.\d / \d:\d\d\.\d   tick \d+   1×   PAUSED$`, line)
	assert.Contains(t, line, seat.Clock(r.At()))

	pal := Palette()
	cam := cameraFor(bounds(v), v.CamX, v.CamY)
	for _, s := range v.Ships {
		if !s.Alive {
			continue
		}
		x, y := cam.screen(s.X, s.Y)
		n := near(img, x, y, 30, pal[s.Color], 12)
		t.Logf("ship %s (color %d, local %v) at %.0f,%.0f: %d pixels of its color", s.Name, s.Color, s.Local, x, y, n)
		assert.Greater(t, n, 15, "ship %s drawn in its color", s.Name)
	}

	// The bar: its red badge, and text on it.
	bar := replayBarRect()
	red := replayRed()
	badge, bright := 0, 0
	for y := int(bar.Y); y < int(bar.Bottom()); y++ {
		for x := int(bar.X); x < int(bar.Right()); x++ {
			o := img.PixOffset(x, y)
			p := img.Pix[o : o+3]
			if abs(int(p[0])-int(red.R)) < 6 && abs(int(p[1])-int(red.G)) < 6 && abs(int(p[2])-int(red.B)) < 6 {
				badge++
			}
			if p[0] > 170 && p[1] > 170 && p[2] > 170 {
				bright++
			}
		}
	}
	assert.Greater(t, badge, 1000, "the REPLAY badge")
	assert.Greater(t, bright, 200, "the bar's text")
	assert.Contains(t, out.String(), "replay: bot1 in the game at ")
}

// TestReplayWindowKeys: the speed steps between 0.25× and 16× and stops
// there; a skip runs 10 s further as fast as the frames let it (past the
// end of a short recording: to its end); a restart goes back to the
// beginning and on to the player's arrival. The window is not shown: the
// test runs its frames.
func TestReplayWindowKeys(t *testing.T) {
	dir := t.TempDir()
	seattest.Record(t, dir, 2, 500*time.Millisecond)
	r, err := seat.OpenAs(dir, "bot2", 1)
	require.NoError(t, err)
	defer r.Close()
	out := &syncbuf.Buffer{}
	g, err := New(Options{Replay: r, Out: out})
	require.NoError(t, err)

	assert.Equal(t, 1.0, g.Speed())
	for range 10 {
		g.Faster()
	}
	assert.Equal(t, 16.0, g.Speed())
	for range 10 {
		g.Slower()
	}
	assert.Equal(t, 0.25, g.Speed())
	g.Faster()
	g.Faster()
	assert.Equal(t, 1.0, g.Speed())

	// The first frames go to the player's arrival, paused or not.
	g.SetPaused(true)
	frame := func() { g.advance(0, nil) }
	frame()
	join := r.Session().JoinAt
	assert.Equal(t, join, r.At())
	assert.False(t, g.rp.skipping())

	// Paused, frames move nothing.
	g.advance(time.Second, nil)
	assert.Equal(t, join, r.At())
	g.SetPaused(false)
	g.advance(100*time.Millisecond, nil)
	assert.Equal(t, join+100*time.Millisecond, r.At())

	// A skip, three ticks a frame.
	g.SkipAhead()
	frames := 0
	for g.rp.skipping() {
		n := 0
		g.advance(0, func() bool { n++; return n <= 3 })
		frames++
		require.Less(t, frames, 100000)
	}
	assert.Greater(t, frames, 1)
	want := min(join+100*time.Millisecond+SkipAhead, r.Index().Duration)
	assert.Equal(t, want, r.At())
	if r.Ended() {
		assert.Contains(t, g.replayLine(), "END")
		assert.Contains(t, out.String(), "replay: the end of the recording at "+seat.Clock(r.At()))
	}

	require.NoError(t, g.Restart())
	assert.Zero(t, r.At())
	assert.True(t, g.rp.skipping())
	line, _ := g.replayStatus(g.Player().View(r.Now()))
	assert.Equal(t, "Going to bot2's arrival at "+seat.Clock(join)+" ...", line)
	frame()
	assert.Equal(t, join, r.At())
	assert.Equal(t, 1, strings.Count(out.String(), "replay: back to the beginning\n"))
}
