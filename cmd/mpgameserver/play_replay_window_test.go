//go:build !headless && unix

package main

import (
	"image"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/game"
	"github.com/mpgs/mpgameserver/internal/paint"
)

// TestPlayReplayWindow records an arena with three bots, then opens
// `play --replay DIR --as bot2` in a child process (a window of its own,
// on the test's display): its terminal says what it replays and when
// bot2 is in the game; a screenshot (SIGUSR1) shows the REPLAY bar and
// the ships in the bots' colors; SIGTERM closes it, exit status 0.
func TestPlayReplayWindow(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the play command needs a window (apt-get install xvfb)")
	}
	dir := recordArena(t, 3)
	shots := t.TempDir()
	// A quarter of the speed: the screenshot is likely taken while bot2
	// plays (it passes, dimmed, once the replay ended).
	cmd, sc, stderr := child(t, "play", "--replay", dir, "--as", "bot2", "--screenshots", shots, "--speed", "0.25")
	out := lines(sc)
	waitLine(t, out, stderr, regexp.MustCompile(`(?m)^replaying \S+ \(.*\) as bot2: session 1 of 1, joined at `), 0)
	waitLine(t, out, stderr, regexp.MustCompile(`(?m)^replay: bot2 in the game at \d+:\d\d\.\d$`), 0)
	// Screenshots until one shows the ships of bot2 and bot3 in their
	// colors (bot1's is near white, like text), in the world below the
	// bar and above the help line, off the score board (top right) and
	// the replay's details (N, bottom right); dimmed once the replay
	// passed bot2's leaving. A quarter of the speed gives the window
	// time; the replay's end bounds the tries.
	pal := game.Palette()
	world := image.Rect(0, 50, game.Width, game.Height-40)
	off := []image.Rectangle{image.Rect(game.Width-220, 0, game.Width, 140), image.Rect(game.Width-440, game.Height-190, game.Width, game.Height)}
	var img *image.RGBA
	var badge, ships int
	for try := 0; ships <= 50; try++ {
		ended := strings.Contains(out.String(), "replay: the end of the recording")
		img = shot(t, cmd.Process, shots, out, stderr)
		// The REPLAY badge, red, at the top in the middle.
		badge = countNear(img, image.Rect(game.Width/2-300, 0, game.Width/2+300, 50), nil, [3]uint8{200, 36, 48}, 6)
		ships = 0
		for _, c := range pal[9:11] {
			ships += countNear(img, world, off, [3]uint8{c.R, c.G, c.B}, 12)
			dim := func(v uint8, bg float64) uint8 { return uint8(float64(v)*0.45 + bg*0.55) }
			ships += countNear(img, world, off, [3]uint8{dim(c.R, 7.65), dim(c.G, 10.2), dim(c.B, 20.4)}, 12)
		}
		t.Logf("screenshot %d: REPLAY badge %d pixels, ships %d", try, badge, ships)
		if ended {
			break
		}
	}
	if dir := os.Getenv("MPGS_SCREENSHOTS"); dir != "" {
		path, err := paint.SavePNG(img, dir, "play-replay")
		require.NoError(t, err)
		t.Logf("screenshot saved to %s", path)
	}
	assert.Greater(t, badge, 1000, "the REPLAY badge")
	assert.Greater(t, ships, 50, "ships drawn in their players' colors")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "the window stops on SIGTERM; stderr: %s", stderr.String())
}

// countNear counts the pixels of img within r, outside the rectangles
// off, whose color is within tol of c.
func countNear(img *image.RGBA, r image.Rectangle, off []image.Rectangle, c [3]uint8, tol int) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if slices.ContainsFunc(off, image.Point{x, y}.In) {
				continue
			}
			p := img.Pix[img.PixOffset(x, y):]
			ok := true
			for i := range 3 {
				if d := int(p[i]) - int(c[i]); d > tol || d < -tol {
					ok = false
				}
			}
			if ok {
				n++
			}
		}
	}
	return n
}
