// Package game is the arena's client window, an Ebitengine game: the
// "client sandbox" mode of mpgameserver. Its Update calls the network
// client once a frame (through player.Player) and never blocks; Draw
// renders the arena, a score board, a kill feed, the connection state and
// a network overlay (N: latency, packets and bytes per second, loss, the
// replication's entities, delay and snapshot rate, the laser's verdicts
// and rewind, a latency graph).
//
// The window shows one classic arena's worth of the world at Scale. In
// the classic scene that is the whole world, as it always was; in a
// bigger one (the battle scene) the view follows the player's ship
// without showing beyond the walls, asteroids drift through it, and a
// minimap in the bottom left corner shows the whole world with every
// player on it. The score board lists the best ten players, and the
// player after them when lower.
//
// Controls: Left/Right or A/D turn, Up or W thrusts, Space fires, X or
// Shift fires the laser (a beam that hits at once, judged by the server
// against what this screen showed: the overlay shows how far back), N
// toggles the network overlay, P saves a screenshot, R reconnects after a
// failure, Esc quits.
//
// When the server restarts, goes silent or closes the session, the window
// reconnects by itself (player.Reconnecting): it says "Reconnecting ..."
// with the attempt and the reason in a few words over the last world it
// showed, and a line for each step on Options.Out; the player rejoins
// with its name and color. Only after the attempts of
// Options.Reconnect.Attempts, when set, failed does it show the failure
// (and R retries).
//
// With Options.Replay the window shows a recording through one player's
// seat instead (`mpgameserver play --replay FILE|DIR --as NAME`, package
// seat): a REPLAY bar with the recording's time, tick and speed, and keys
// of its own (see replay.go).
package game

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/assets"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/seat"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// The window's logical size; the arena is drawn at Scale.
const (
	Width  = 1280
	Height = 800
	Scale  = Width / sim.Width
)

// Options configure the window.
type Options struct {
	Server string          // host:port
	Key    *conn.PublicKey // pinned server key (nil trusts the server's)
	Name   string
	Color  uint8 // index into Palette
	// Out receives a line for each change of the connection's state
	// (connecting, in the game, failed and why) and the paths of
	// screenshots (key P); standard output when nil.
	Out io.Writer
	// ScreenshotDir is where key P saves screenshots, made when missing
	// ("screenshots" when empty).
	ScreenshotDir string
	// HandshakeTimeout is how long connecting waits for the server (2 s).
	HandshakeTimeout time.Duration
	// IdentTimeout is how long the window waits, once connected, for the
	// server to say it hosts the arena (player.DefaultIdentTimeout).
	IdentTimeout time.Duration
	// NoReconnect shows a lost session's failure at once instead of
	// reconnecting (player.Options.NoReconnect).
	NoReconnect bool
	// Reconnect tunes reconnecting (player.Options.Reconnect): Attempts,
	// when set, bounds the attempts in a row before the window shows the
	// failure. Its OnEvent, when set, is told each step after the window.
	Reconnect client.Reconnect
	// Replay, when set, makes the window show this replay of a recording
	// through a player's seat instead of joining Server (Server, Key,
	// Name, Color and the timeouts go unused): see replay.go's keys. The
	// caller closes it after the window.
	Replay *seat.Replay
}

// Palette returns the players' colors, indexed by the color they chose.
func Palette() [wire.Colors]color.RGBA {
	return [wire.Colors]color.RGBA{
		{255, 99, 71, 255}, {65, 170, 255, 255}, {120, 220, 90, 255}, {255, 200, 40, 255},
		{200, 110, 255, 255}, {40, 220, 210, 255}, {255, 140, 200, 255}, {255, 150, 60, 255},
		{170, 230, 255, 255}, {220, 255, 120, 255}, {180, 160, 255, 255}, {240, 240, 240, 255},
	}
}

type particle struct {
	x, y, vx, vy float64
	life, max    float64 // seconds
	c            color.RGBA
	size         float64
}

// Game is the client window's ebiten.Game.
type Game struct {
	opts    Options
	p       *player.Player
	pal     [wire.Colors]color.RGBA
	plotPal []plot.Color // pal, for meshes
	painter paint.Painter
	mesh    plot.Mesh    // the world's, reused every frame
	rockPts []plot.Point // an asteroid's outline, reused

	overlay   bool
	started   time.Time
	lastFrame time.Time
	lastKill  time.Time // newest kill exploded
	particles []particle
	starPts   [][3]float32
	rng       *rand.Rand
	latency   []float64 // ms, one sample a tenth of a second
	lastLat   time.Time
	net       netMeter
	connErr   error
	said      string      // the state last written to Out
	shot      bool        // a screenshot was asked for
	shotReq   atomic.Bool // a screenshot was asked for from another goroutine
	quit      atomic.Bool
	rp        *replayView // in replay mode (Options.Replay), else nil

	ship, flame, spark, bullet *ebiten.Image
	face, bold, small          *text.GoTextFace
}

// New returns the game and starts connecting.
func New(opts Options) (*Game, error) {
	g, err := newWindow(opts)
	if err != nil {
		return nil, err
	}
	if opts.Replay != nil {
		g.rp = newReplayView(opts.Replay)
		g.p = opts.Replay.Player()
		return g, nil
	}
	rc := opts.Reconnect
	rc.OnEvent = g.reconnectEvent
	g.p = player.New(player.Options{Name: opts.Name, Color: opts.Color % wire.Colors, Key: opts.Key,
		HandshakeTimeout: opts.HandshakeTimeout, IdentTimeout: opts.IdentTimeout,
		NoReconnect: opts.NoReconnect, Reconnect: rc})
	g.connect()
	return g, nil
}

// newWindow returns the game with its sprites, fonts and stars loaded
// and no player yet.
func newWindow(opts Options) (*Game, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.ScreenshotDir == "" {
		opts.ScreenshotDir = "screenshots"
	}
	g := &Game{opts: opts, pal: Palette(), overlay: true, rng: rand.New(rand.NewPCG(7, 11))}
	var err error
	load := func(name string) *ebiten.Image {
		if err != nil {
			return nil
		}
		img, e := assets.Sprite(name)
		if e != nil {
			err = e
			return nil
		}
		return ebiten.NewImageFromImage(img)
	}
	g.ship, g.flame, g.spark, g.bullet = load(assets.Ship), load(assets.Flame), load(assets.Particle), load(assets.Bullet)
	if err != nil {
		return nil, err
	}
	reg, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
	if err != nil {
		return nil, err
	}
	bold, err := text.NewGoTextFaceSource(bytes.NewReader(gobold.TTF))
	if err != nil {
		return nil, err
	}
	g.face = &text.GoTextFace{Source: reg, Size: 15}
	g.small = &text.GoTextFace{Source: reg, Size: 12}
	g.bold = &text.GoTextFace{Source: bold, Size: 20}
	for range 180 {
		g.starPts = append(g.starPts, [3]float32{g.rng.Float32() * Width, g.rng.Float32() * Height, 0.3 + g.rng.Float32()*0.7})
	}
	g.plotPal = make([]plot.Color, len(g.pal))
	for i, c := range g.pal {
		g.plotPal[i] = plot.RGB(c.R, c.G, c.B)
	}
	return g, nil
}

func (g *Game) connect() {
	g.said = "connecting to " + g.opts.Server
	fmt.Fprintln(g.opts.Out, g.said)
	g.connErr = g.p.Connect(g.opts.Server)
	g.latency = g.latency[:0]
	g.net = netMeter{}
}

// Quit makes the next Update end the game, as Esc does. Safe from any
// goroutine.
func (g *Game) Quit() { g.quit.Store(true) }

// SaveScreenshot makes the next frame save a screenshot, as P does. Safe
// from any goroutine (a signal's).
func (g *Game) SaveScreenshot() { g.shotReq.Store(true) }

// Player returns the network side of the game.
func (g *Game) Player() *player.Player { return g.p }

// SetOverlay shows or hides the network overlay.
func (g *Game) SetOverlay(on bool) { g.overlay = on }

// Layout returns the window's fixed logical size.
func (g *Game) Layout(int, int) (int, int) { return Width, Height }

// buttons reads the keyboard.
func buttons() sim.Input {
	var in sim.Input
	pressed := func(keys ...ebiten.Key) bool {
		return slices.ContainsFunc(keys, ebiten.IsKeyPressed)
	}
	if pressed(ebiten.KeyArrowUp, ebiten.KeyW) {
		in |= sim.Thrust
	}
	if pressed(ebiten.KeyArrowLeft, ebiten.KeyA) {
		in |= sim.Left
	}
	if pressed(ebiten.KeyArrowRight, ebiten.KeyD) {
		in |= sim.Right
	}
	if pressed(ebiten.KeySpace) {
		in |= sim.Fire
	}
	if pressed(ebiten.KeyX, ebiten.KeyShiftLeft, ebiten.KeyShiftRight) {
		in |= sim.Laser
	}
	return in
}

// Update runs one frame: input, one network update (never blocking),
// effects.
func (g *Game) Update() error {
	if g.rp != nil {
		return g.updateReplay()
	}
	now := time.Now()
	if g.started.IsZero() {
		g.started = now
	}
	dt := 1.0 / sim.TickRate
	if !g.lastFrame.IsZero() {
		dt = math.Min(0.1, now.Sub(g.lastFrame).Seconds())
	}
	g.lastFrame = now
	if g.quit.Load() || inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		return ebiten.Termination
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyN) {
		g.overlay = !g.overlay
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyP) {
		g.shot = true
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyR) {
		g.retry()
	}
	g.p.Frame(now, buttons())
	g.effects(now, dt)
	g.report()
	return nil
}

// retry connects again after a failure (key R), and reports whether it
// did: not while connecting, playing or reconnecting.
func (g *Game) retry() bool {
	if !g.failed() {
		return false
	}
	g.connect()
	return true
}

// failed reports whether the connection ended or could not start, or the
// player gave up on the server (another game, another version); not
// while it reconnects.
func (g *Game) failed() bool {
	if g.connErr != nil {
		return true
	}
	if _, ok := g.p.Reconnecting(); ok {
		return false
	}
	return g.p.Err() != nil || g.p.Client().Status().Closed()
}

// reconnectEvent says each step of reconnecting on Out, one line, and
// starts the network meter over on a new session.
func (g *Game) reconnectEvent(e client.ReconnectEvent) {
	server := g.opts.Server
	var s string
	switch e.Step {
	case client.ReconnectLost:
		s = fmt.Sprintf("lost the game at %s: %s; reconnecting in %v", server, player.Reason(e.Err), roundWait(e.Wait))
	case client.ReconnectAttempt:
		s = fmt.Sprintf("reconnecting to %s (attempt %d)", server, e.Attempt)
	case client.ReconnectFailed:
		s = fmt.Sprintf("attempt %d failed: %s; next in %v", e.Attempt, player.Reason(e.Err), roundWait(e.Wait))
	case client.ReconnectDone:
		s = fmt.Sprintf("reconnected to %s (attempt %d): joining the game", server, e.Attempt)
		g.latency = g.latency[:0]
		g.net = netMeter{}
	case client.ReconnectGaveUp:
		s = fmt.Sprintf("gave up reconnecting to %s after %d attempts", server, e.Attempt)
	}
	if s != "" {
		g.said = s
		fmt.Fprintln(g.opts.Out, s)
	}
	if f := g.opts.Reconnect.OnEvent; f != nil {
		f(e)
	}
}

// roundWait rounds a wait for a line: to 10 ms.
func roundWait(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

// reason is why the game failed (see failed), the first cause found.
func (g *Game) reason() error {
	switch {
	case g.connErr != nil:
		return g.connErr
	case g.p.Err() != nil:
		return g.p.Err()
	}
	return g.p.Client().Err()
}

// Err returns, while the game has failed (the connection ended or could
// not start, or the server hosts another game), why: a *Failure. It is
// nil while connecting, reconnecting or playing, and for a replay.
func (g *Game) Err() error {
	if g.rp != nil || !g.failed() {
		return nil
	}
	return &Failure{Server: g.opts.Server, Err: g.reason()}
}

// Failure is why a game window could not play: its message is the one the
// window shows (player.Explain), and it unwraps to the cause.
type Failure struct {
	Server string
	Err    error
}

func (f *Failure) Error() string { return player.Explain(f.Err, f.Server) }
func (f *Failure) Unwrap() error { return f.Err }

// report writes the connection's state to Out when it changed, one line,
// so that the terminal the window was started from says what it shows;
// connect says "connecting".
func (g *Game) report() {
	var s string
	switch {
	case g.failed():
		s = player.Explain(g.reason(), g.opts.Server) + " (R in the window retries)"
	case g.p.InGame():
		s = "in the game at " + g.opts.Server
	default:
		return // connecting (said by connect) or joining
	}
	if s != g.said {
		g.said = s
		fmt.Fprintln(g.opts.Out, s)
	}
}

// effects spawns and ages particles: explosions for new kills, exhaust
// for thrusting ships; and samples the latency and loss.
func (g *Game) effects(now time.Time, dt float64) {
	v := g.p.View(now)
	for _, k := range v.Kills {
		if k.At.After(g.lastKill) {
			g.explode(k.X, k.Y)
			g.lastKill = k.At
		}
	}
	for _, s := range v.Ships {
		if s.Alive && s.Thrust && g.rng.IntN(2) == 0 {
			back := s.Angle + math.Pi + (g.rng.Float64()-0.5)*0.6
			speed := 80 + g.rng.Float64()*80
			g.particles = append(g.particles, particle{
				x: s.X - math.Cos(s.Angle)*sim.ShipRadius, y: s.Y - math.Sin(s.Angle)*sim.ShipRadius,
				vx: s.VX + math.Cos(back)*speed, vy: s.VY + math.Sin(back)*speed,
				max: 0.35, c: color.RGBA{255, 170, 60, 255}, size: 0.5,
			})
		}
	}
	live := g.particles[:0]
	for _, p := range g.particles {
		p.life += dt
		if p.life >= p.max {
			continue
		}
		p.x += p.vx * dt
		p.y += p.vy * dt
		p.vx *= 1 - 1.5*dt
		p.vy *= 1 - 1.5*dt
		live = append(live, p)
	}
	g.particles = live
	if c := g.p.Client(); c != nil && now.Sub(g.lastLat) >= 100*time.Millisecond {
		g.lastLat = now
		g.latency = append(g.latency, float64(c.Latency())/float64(time.Millisecond))
		if len(g.latency) > 150 {
			g.latency = g.latency[1:]
		}
		g.net.sample(now, c.Stats(), v.Replication)
	}
}
