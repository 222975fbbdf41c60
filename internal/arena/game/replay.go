package game

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/seat"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// A replay window (Options.Replay) shows a recording through one
// player's seat (package seat) instead of joining a server. The
// re-simulation is paced by the window's frames: each frame advances the
// recording by the frame's time times the speed, in the recording's
// ticks (their recorded deltas), as many as a frame's budget allows (at
// high speeds on a slow machine the replay runs slower than asked rather
// than freezing the window). It starts where the player connected (the
// game before that is run as fast as the budget allows), and only runs
// forward: Left or Home starts again from the recording's beginning.
//
// Keys: Space pauses, + (or ]) and - (or [) change the speed from 0.25×
// to 16×, Right skips 10 s ahead (run as fast as the budget allows), Left
// or Home restarts, N shows the replay's details, P saves a screenshot,
// Esc quits. Once the player left the game in the recording, the window
// keeps its last view of the world and says so (the replay goes on to the
// end of the recording, showing nothing new, so that the clock still
// tells the recording's time); at the end of the recording it says so
// and stays.

// Speeds is the replay's speeds, slowest first; it starts at 1×.
var Speeds = []float64{0.25, 0.5, 1, 2, 4, 8, 16}

// SkipAhead is how far Right skips in the recording.
const SkipAhead = 10 * time.Second

// replayBudget is the wall time a frame gives the re-simulation.
const replayBudget = 12 * time.Millisecond

// replayView is a window's state in replay mode.
type replayView struct {
	r      *seat.Replay
	speed  int // in Speeds
	paused bool
	// skipTo, when ahead of the time shown, is where the replay runs as
	// fast as it can: the player's arrival, or a skip (Right).
	skipTo time.Duration
	said   []string // what was written to Out: "in", "left", "end"
}

func newReplayView(r *seat.Replay) *replayView {
	return &replayView{r: r, speed: slices.Index(Speeds, 1), skipTo: r.Session().JoinAt}
}

// Replay returns the replay the window shows (nil for a window that
// plays).
func (g *Game) Replay() *seat.Replay {
	if g.rp == nil {
		return nil
	}
	return g.rp.r
}

// Speed returns the replay's speed; Paused whether it is paused.
func (g *Game) Speed() float64 { return Speeds[g.rp.speed] }
func (g *Game) Paused() bool   { return g.rp.paused }

// SetPaused pauses or resumes the replay, as Space does.
func (g *Game) SetPaused(on bool) { g.rp.paused = on }

// SetSpeed sets the replay's speed to s, one of Speeds; it reports
// whether s is one.
func (g *Game) SetSpeed(s float64) bool {
	i := slices.Index(Speeds, s)
	if i >= 0 {
		g.rp.speed = i
	}
	return i >= 0
}

// Faster and Slower change the replay's speed by a step, as + and - do,
// within Speeds.
func (g *Game) Faster() { g.rp.speed = min(g.rp.speed+1, len(Speeds)-1) }
func (g *Game) Slower() { g.rp.speed = max(g.rp.speed-1, 0) }

// SkipAhead makes the replay run SkipAhead further as fast as it can, as
// Right does (from where a skip under way goes).
func (g *Game) SkipAhead() {
	g.rp.skipTo = max(g.rp.skipTo, g.rp.r.At()) + SkipAhead
}

// Restart starts the replay again from the recording's beginning, as
// Left and Home do; it runs to the player's arrival as fast as it can.
func (g *Game) Restart() error {
	if err := g.rp.r.Restart(); err != nil {
		return err
	}
	g.p = g.rp.r.Player()
	g.rp.skipTo = g.rp.r.Session().JoinAt
	g.particles, g.lastKill, g.net, g.rp.said = nil, time.Time{}, netMeter{}, nil
	fmt.Fprintf(g.opts.Out, "replay: back to the beginning\n")
	return nil
}

// skipping reports whether the replay is running ahead as fast as it can.
func (rv *replayView) skipping() bool { return rv.skipTo > rv.r.At() && !rv.r.Ended() }

// updateReplay runs a frame of a replay window: keys, the re-simulation
// for the frame's time, effects on the recording's clock.
func (g *Game) updateReplay() error {
	start := time.Now()
	dt := 1.0 / 60
	if !g.lastFrame.IsZero() {
		dt = math.Min(0.1, start.Sub(g.lastFrame).Seconds())
	}
	g.lastFrame = start
	if g.quit.Load() || inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		return ebiten.Termination
	}
	pressed := func(keys ...ebiten.Key) bool { return slices.ContainsFunc(keys, inpututil.IsKeyJustPressed) }
	switch {
	case pressed(ebiten.KeyN):
		g.overlay = !g.overlay
	case pressed(ebiten.KeyP):
		g.shot = true
	case pressed(ebiten.KeySpace):
		g.rp.paused = !g.rp.paused
	case pressed(ebiten.KeyEqual, ebiten.KeyBracketRight, ebiten.KeyNumpadAdd):
		g.Faster()
	case pressed(ebiten.KeyMinus, ebiten.KeyBracketLeft, ebiten.KeyNumpadSubtract):
		g.Slower()
	case pressed(ebiten.KeyArrowRight):
		g.SkipAhead()
	case pressed(ebiten.KeyArrowLeft, ebiten.KeyHome):
		if err := g.Restart(); err != nil {
			return err
		}
	}
	g.advance(time.Duration(dt*Speeds[g.rp.speed]*float64(time.Second)), func() bool {
		return time.Since(start) < replayBudget
	})
	return nil
}

// advance moves the replay on by d of the recording (more, when not nil,
// bounds the work as for seat.Replay.RunTo): to where a skip goes, as far
// as more lets it, else by d unless paused; then the effects follow the
// recording's clock.
func (g *Game) advance(d time.Duration, more func() bool) {
	r := g.rp.r
	before := r.At()
	switch {
	case g.rp.skipping():
		r.RunTo(g.rp.skipTo, more)
	case !g.rp.paused:
		r.RunTo(before+d, more)
	}
	if step := r.At() - before; step > 0 {
		g.effects(r.Now(), step.Seconds())
	}
	g.reportReplay()
}

// reportReplay writes to Out what happened in the replay, once each, as
// it comes: the player in the game, gone, the end of the recording (each
// line says the recording's time).
func (g *Game) reportReplay() {
	r := g.rp.r
	say := func(key, line string) {
		if !slices.Contains(g.rp.said, key) {
			g.rp.said = append(g.rp.said, key)
			fmt.Fprintln(g.opts.Out, "replay: "+line)
		}
	}
	if s := r.Session(); g.p.InGame() && !r.Left() {
		// In the game: its ship shown, under its name once the server
		// announced it (its Hello).
		if v := g.p.View(r.Now()); len(v.Ships) > 0 && v.Ships[0].Local && (v.Ships[0].Name == s.Name || !s.Hello) {
			say("in", fmt.Sprintf("%s in the game at %s", s.Name, seat.Clock(r.At())))
		}
	}
	if r.Left() {
		say("left", g.p.Err().Error())
	}
	switch {
	case r.Ended() && r.Err() != nil:
		say("end", replayErr(r.Err()))
	case r.Ended():
		say("end", fmt.Sprintf("the end of the recording at %s", seat.Clock(r.At())))
	}
}

// replayErr is why a replay stopped early, for a person.
func replayErr(err error) string { return strings.TrimPrefix(err.Error(), "seat: ") }

// The replay bar's colors: the badge's red, its text.
func replayRed() color.RGBA { return color.RGBA{200, 36, 48, 255} }

// replayBarRect is where the replay bar is drawn: at the top, in the
// middle, between the kill feed and the score board.
func replayBarRect() plot.Rect { return plot.Rect{X: Width/2 - 260, Y: 8, W: 520, H: 28} }

// replayLine is the replay bar's text after its badge.
func (g *Game) replayLine() string {
	r := g.rp.r
	line := fmt.Sprintf("%s   %s / %s   tick %d   %s×", r.Session().Name, seat.Clock(r.At()), seat.Clock(r.Index().Duration),
		r.Tick(), speedText(Speeds[g.rp.speed]))
	switch {
	case r.Ended():
		line += "   END"
	case g.rp.skipping():
		line += "   SKIPPING"
	case g.rp.paused:
		line += "   PAUSED"
	}
	return line
}

func speedText(s float64) string {
	if s == math.Trunc(s) {
		return fmt.Sprintf("%.0f", s)
	}
	return fmt.Sprintf("%g", s)
}

// drawReplay draws the replay's bar, its status and its help line over
// the world.
func (g *Game) drawReplay(dst *ebiten.Image, v player.View) {
	var m plot.Mesh
	if g.rp.r.Left() {
		// What the player last saw, no longer news: dimmed.
		m.Rect(plot.Rect{W: Width, H: Height}, plot.Color{R: 0.03, G: 0.04, B: 0.08, A: 0.55})
	}
	r := replayBarRect()
	m.Rect(r, plot.Color{R: 0.03, G: 0.04, B: 0.08, A: 0.9})
	badge := plot.Rect{X: r.X, Y: r.Y, W: 86, H: r.H}
	red := replayRed()
	m.Rect(badge, plot.RGB(red.R, red.G, red.B))
	m.Frame(r, 1, plot.Color{R: 0.55, G: 0.2, B: 0.25, A: 1})
	g.painter.Draw(dst, &m)
	g.label(dst, "REPLAY", float64(badge.X+badge.W/2), float64(r.Y+4), g.face, white(), text.AlignCenter)
	g.label(dst, g.replayLine(), float64(badge.X+badge.W+10), float64(r.Y+5), g.face, white(), text.AlignStart)

	line, hint := g.replayStatus(v)
	if line != "" {
		lines := wrap(line, g.bold, Width-80)
		const lineH = 26
		y := float64(Height/2-30) - float64(len(lines)-1)*lineH/2
		for i, l := range lines {
			g.label(dst, l, Width/2, y+float64(i)*lineH, g.bold, white(), text.AlignCenter)
		}
		if hint != "" {
			g.label(dst, hint, Width/2, y+float64(len(lines)-1)*lineH+34, g.face, dim(), text.AlignCenter)
		}
	}
	if g.overlay {
		g.replayOverlay(dst, v)
	}
	g.label(dst, "Space pause   +/- speed   Right skip 10 s   Left/Home restart   N details   P screenshot   Esc quit", 12, Height-24, g.small, dim(), text.AlignStart)
}

// replayStatus is what the middle of a replay window says: where the
// replay is going, that the player is not in the game (yet, or any
// more), the end of the recording.
func (g *Game) replayStatus(v player.View) (line, hint string) {
	r := g.rp.r
	s := r.Session()
	const again = "Left or Home replays from the beginning, Esc quits"
	switch {
	case r.Ended() && r.Err() != nil:
		return failureText(replayErr(r.Err())), again
	case r.Ended() && !r.Left():
		return fmt.Sprintf("The end of the recording, at %s", seat.Clock(r.At())), again
	case r.Left():
		line = g.p.Err().Error() // it begins with the player's name, as it is
		if r.Ended() {
			return line, "The end of the recording. " + again
		}
		return line, "The replay runs on to the end of the recording. " + again
	case g.rp.skipping() && !r.Seated():
		return fmt.Sprintf("Going to %s's arrival at %s ...", s.Name, seat.Clock(s.JoinAt)), ""
	case g.rp.skipping():
		return fmt.Sprintf("Skipping to %s ...", seat.Clock(g.rp.skipTo)), ""
	case !r.Seated() || !g.p.InGame() || len(v.Ships) == 0:
		return fmt.Sprintf("%s is joining the game ...", s.Name), ""
	case !v.Ships[0].Alive && v.Ships[0].Local:
		return fmt.Sprintf("%s was destroyed. Respawning ...", s.Name), ""
	}
	return "", ""
}

// failureText is a sentence that starts in lower case as a line of its
// own.
func failureText(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; 'a' <= c && c <= 'z' {
		return string(c-'a'+'A') + s[1:]
	}
	return s
}

// replayOverlay draws the replay's details (N): the recording, the
// session and the replication as the seat received it.
func (g *Game) replayOverlay(dst *ebiten.Image, v player.View) {
	r := g.rp.r
	s := r.Session()
	now := r.Now()
	if n := len(g.net.t); n == 0 || now.Sub(g.net.t[n-1]) >= 100*time.Millisecond || now.Before(g.net.t[n-1]) {
		if n > 0 && now.Before(g.net.t[n-1]) {
			g.net = netMeter{}
		}
		g.net.sample(now, conn.Stats{}, v.Replication)
	}
	_, snapBytes := g.net.snapshotRate()
	left := "still in the game at the end"
	if s.Left {
		left = fmt.Sprintf("left at %s: %s", seat.Clock(s.LeaveAt), seat.Reason(s.Reason))
	}
	sessions := 0
	for _, o := range r.Index().Sessions {
		if o.Named(s.Name) {
			sessions++
		}
	}
	lines := []string{
		"recording " + filepath.Base(r.Path()),
		fmt.Sprintf("%s: token %d, one of %d session(s) by that name", s.Name, s.Token, sessions),
		fmt.Sprintf("joined at %s, %s", seat.Clock(s.JoinAt), left),
		replicationLine(v.Replication, snapBytes),
		"what the server sent this seat over a perfect link",
	}
	if st := r.Index().Stop; st != nil {
		lines = append(lines, fmt.Sprintf("runs to %s only: records lost", seat.Clock(r.Index().Duration)))
	}
	box := replayOverlayRect()
	var m plot.Mesh
	m.Rect(box, plot.Color{R: 0.05, G: 0.07, B: 0.12, A: 0.88})
	m.Frame(box, 1, plot.Color{R: 0.3, G: 0.35, B: 0.5, A: 1})
	g.painter.Draw(dst, &m)
	x, y := float64(box.X+12), float64(box.Y+6)
	g.label(dst, "replay (N hides)", x, y, g.face, white(), text.AlignStart)
	for _, l := range lines {
		y += 20
		g.label(dst, l, x, y, g.small, dim(), text.AlignStart)
	}
}

// replayOverlayRect is where the replay's details are drawn: room for a
// title and six lines, in the bottom right corner.
func replayOverlayRect() plot.Rect {
	const h = 30 + 20*6
	return plot.Rect{X: Width - 436, Y: Height - 34 - h, W: 420, H: h}
}
