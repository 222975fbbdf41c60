package arena

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// Bot is a computer player: a player.Player steered by a simple pilot
// that hunts the nearest ship in view, leads its shots, keeps off the
// walls and out of the asteroids' way, and otherwise roams the world to
// places of its own choosing, shooting the asteroids in front of it.
type Bot struct {
	P     *player.Player
	rng   *rand.Rand
	aim   float64 // how sloppy its aim is, in radians
	reach float64
	// The place it roams to while no ship is in view, and how many
	// frames it still tries to get there.
	goalX, goalY float64
	hold         int
}

// NewBot returns a bot named name with the given color whose play
// follows seed.
func NewBot(name string, color uint8, key *conn.PublicKey, seed uint64) *Bot {
	rng := rand.New(rand.NewPCG(seed, 0xB07))
	return &Bot{
		P:     player.New(player.Options{Name: name, Color: color, Key: key}),
		rng:   rng,
		aim:   0.05 + rng.Float64()*0.15,
		reach: 450 + rng.Float64()*350,
	}
}

// Input decides the buttons for this frame from what the bot sees: it is
// Steer of the player's view.
func (b *Bot) Input(now time.Time) sim.Input {
	return b.Steer(b.P.View(now))
}

// The pilot's distances, in world units.
const (
	// botWallMargin is how close to a wall a bot turns back inward.
	botWallMargin = 140.0
	// botRoamMargin keeps the places a bot roams to this far from the
	// walls.
	botRoamMargin = 300.0
	// botArrived is how close to the place it roams to a bot has got
	// there, and picks another.
	botArrived = 200.0
	// botClearance is how far, edge to edge, a bot means to pass an
	// asteroid.
	botClearance = 20.0
	// botLookAhead is how far ahead a bot looks for asteroids in its way
	// at least, and botLookAheadTime how many seconds of its speed more.
	botLookAhead     = 160.0
	botLookAheadTime = 1.2
	// botPassSpeed is the least speed at which a bot means to pass an
	// asteroid.
	botPassSpeed = 150.0
)

// botRoamFrames bounds how long a bot tries to get to a place before it
// picks another: 20 to 40 s.
const (
	botRoamFrames     = 20 * sim.TickRate
	botRoamFramesMore = 20 * sim.TickRate
)

// Steer decides the buttons for a frame in which the bot sees v. Near a
// wall it turns back inward; otherwise it chases the nearest ship in view
// that can be hit, leading its shots, or, with none, roams to a random
// place in the world (a new one once there), shooting the asteroids in
// front of it. Whatever it does, it steers around an asteroid in its
// path. Its choices follow its seed: the same views give the same
// buttons.
func (b *Bot) Steer(v player.View) sim.Input {
	if len(v.Ships) == 0 || !v.Ships[0].Local || !v.Ships[0].Alive {
		return 0
	}
	me := v.Ships[0]
	bounds := v.Scene.Bounds
	if bounds.Width <= 0 || bounds.Height <= 0 {
		bounds = sim.Classic().Bounds // not welcomed yet
	}
	var target *player.Ship
	best := math.Inf(1)
	for i := 1; i < len(v.Ships); i++ {
		s := &v.Ships[i]
		if !s.Alive || s.Shield {
			continue // a protected ship cannot be hit: leave it time to get away
		}
		if d := math.Hypot(s.X-me.X, s.Y-me.Y); d < best {
			best, target = d, s
		}
	}
	var want float64
	var in sim.Input
	nearWall := me.X < botWallMargin || me.X > bounds.Width-botWallMargin ||
		me.Y < botWallMargin || me.Y > bounds.Height-botWallMargin
	switch {
	case nearWall:
		// Straight away from the wall (or the walls of a corner), not to
		// the center: in a big world bots keep to their part of it.
		in3 := min(3*botWallMargin, bounds.Width/2)
		jn3 := min(3*botWallMargin, bounds.Height/2)
		ix := min(max(me.X, in3), bounds.Width-in3)
		iy := min(max(me.Y, jn3), bounds.Height-jn3)
		want = math.Atan2(iy-me.Y, ix-me.X)
		in |= sim.Thrust
	case target != nil:
		// Lead the target: aim where it will be when the bullet gets there.
		t := best / sim.BulletSpeed
		tx, ty := target.X+target.VX*t, target.Y+target.VY*t
		want = math.Atan2(ty-me.Y, tx-me.X)
		if best > b.reach*0.7 {
			in |= sim.Thrust
		}
	default:
		b.roam(me, bounds)
		want = math.Atan2(b.goalY-me.Y, b.goalX-me.X)
		in |= sim.Thrust
	}
	// An asteroid in the way, nearer than the target, comes first: pass
	// it on the side it is not.
	if a, ok := inPath(me, v.Asteroids); ok && (target == nil || math.Hypot(a.X-me.X, a.Y-me.Y)-a.Radius < best) {
		want = around(me, a)
	}
	diff := math.Remainder(want-me.Angle, 2*math.Pi)
	switch {
	case diff > 0.04:
		in |= sim.Right
	case diff < -0.04:
		in |= sim.Left
	}
	if math.Abs(diff) > 1.2 {
		in &^= sim.Thrust // turn first
	}
	switch {
	case target != nil && !nearWall && math.Abs(diff) < b.aim && best < b.reach:
		in |= sim.Fire
	case target == nil && inSights(me, v.Asteroids, b.reach):
		in |= sim.Fire // no ship to hunt: break rocks
	}
	// The laser when the beam would meet the target where it is shown
	// (the server judges it there): no need to lead.
	if target != nil && !target.Shield && best < sim.LaserRange {
		dx, dy := math.Cos(me.Angle), math.Sin(me.Angle)
		ox, oy := target.X-me.X, target.Y-me.Y
		if ox*dx+oy*dy > 0 && math.Abs(ox*dy-oy*dx) < sim.ShipRadius*0.8 {
			in |= sim.Laser
		}
	}
	return in
}

// roam keeps the place the bot roams to: a new random one, away from the
// walls, when it got to the last or tried long enough.
func (b *Bot) roam(me player.Ship, bounds sim.Bounds) {
	if b.hold--; b.hold > 0 && math.Hypot(b.goalX-me.X, b.goalY-me.Y) > botArrived {
		return
	}
	mx := min(botRoamMargin, bounds.Width/4)
	my := min(botRoamMargin, bounds.Height/4)
	b.goalX = mx + b.rng.Float64()*(bounds.Width-2*mx)
	b.goalY = my + b.rng.Float64()*(bounds.Height-2*my)
	b.hold = botRoamFrames + b.rng.IntN(botRoamFramesMore)
}

// inPath returns the nearest asteroid that ship s would run into
// (within botClearance) going on its way: along its velocity, or its
// heading when it hardly moves, within botLookAhead plus
// botLookAheadTime seconds of its speed.
func inPath(s player.Ship, rocks []player.Asteroid) (player.Asteroid, bool) {
	ux, uy := way(s)
	look := botLookAhead + math.Hypot(s.VX, s.VY)*botLookAheadTime
	var found player.Asteroid
	nearest, ok := math.Inf(1), false
	for _, a := range rocks {
		dx, dy := a.X-s.X, a.Y-s.Y
		along := dx*ux + dy*uy
		side := ux*dy - uy*dx
		reach := a.Radius + sim.ShipRadius + botClearance
		if along <= 0 || along-a.Radius > look || math.Abs(side) >= reach {
			continue
		}
		if d := along - a.Radius; d < nearest {
			found, nearest, ok = a, d, true
		}
	}
	return found, ok
}

// way returns the unit vector of the way ship s goes: along its velocity,
// or its heading when it hardly moves.
func way(s player.Ship) (ux, uy float64) {
	if speed := math.Hypot(s.VX, s.VY); speed > 40 {
		return s.VX / speed, s.VY / speed
	}
	return math.Cos(s.Angle), math.Sin(s.Angle)
}

// around returns the heading to thrust along for ship s to pass asteroid
// a botClearance from its edge: the change of velocity that turns s's
// way (see way) onto the tangent to that circle, on the side away from
// a (straight across when s is already that close). Thrusting along the
// tangent alone would not do: the ship's momentum would carry it into
// the asteroid.
func around(s player.Ship, a player.Asteroid) float64 {
	dx, dy := a.X-s.X, a.Y-s.Y
	d := math.Hypot(dx, dy)
	reach := a.Radius + sim.ShipRadius + botClearance
	off := math.Pi / 2
	if d > reach {
		off = math.Asin(reach / d)
	}
	to := math.Atan2(dy, dx)
	// Which side of the way a is on: positive angles turn clockwise on
	// screen (Right), towards a when it is on the right.
	ux, uy := way(s)
	tangent := to + off
	if ux*dy-uy*dx > 0 {
		tangent = to - off // a on the right: pass it on the left
	}
	speed := max(math.Hypot(s.VX, s.VY), botPassSpeed)
	return math.Atan2(speed*math.Sin(tangent)-s.VY, speed*math.Cos(tangent)-s.VX)
}

// inSights reports whether a bullet of ship s fired now would hit an
// asteroid within reach: one that its heading crosses.
func inSights(s player.Ship, rocks []player.Asteroid, reach float64) bool {
	ux, uy := math.Cos(s.Angle), math.Sin(s.Angle)
	for _, a := range rocks {
		dx, dy := a.X-s.X, a.Y-s.Y
		along := dx*ux + dy*uy
		side := ux*dy - uy*dx
		if along > 0 && along-a.Radius < reach && math.Abs(side) < a.Radius*0.8 {
			return true
		}
	}
	return false
}

// DefaultBotsGiveUp is BotsConfig.GiveUp's default.
const DefaultBotsGiveUp = 10 * time.Second

// botRetry is how long a bot waits before it connects again.
const botRetry = time.Second

// BotsConfig configures computer players for BotsConfig.Run.
type BotsConfig struct {
	Server string          // the arena server, host:port
	Key    *conn.PublicKey // its pinned key (nil trusts the server's)
	Count  int             // how many bots
	// GiveUp bounds how long the bots keep trying while none of them is
	// in the game: none joined since the start, or the server went away
	// and none is back, reconnecting or not (DefaultBotsGiveUp).
	GiveUp time.Duration
	// RequireJoin makes Run fail with a *BotsError when ctx is done
	// before any bot was in the game: a command that was interrupted
	// while its bots were still knocking has not played.
	RequireJoin bool
}

// BotsError is why bots stopped before they were asked to: no bot
// joined the game within BotsConfig.GiveUp, or, once they had, none was
// back within GiveUp of losing the server. Reason is the bots' most
// telling failure (conn.ErrHandshakeTimeout: nothing answered;
// conn.ErrBadSignature: the server's key is not the pinned one;
// player.ErrNotArena or a *player.VersionError: not an arena server of
// this version).
type BotsError struct {
	Server string
	Joined bool // some bot had been in the game
	// Interrupted: ctx was done first, before any bot joined
	// (BotsConfig.RequireJoin).
	Interrupted bool
	After       time.Duration
	Reason      error
}

func (e *BotsError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("stopped after %v before any bot joined the game: %s", e.After, player.Explain(e.Reason, e.Server))
	}
	if e.Joined {
		return fmt.Sprintf("the server went away: no bot has been in the game for %v: %s", e.After, player.Explain(e.Reason, e.Server))
	}
	return fmt.Sprintf("no bot could join the game in %v: %s", e.After, player.Explain(e.Reason, e.Server))
}

func (e *BotsError) Unwrap() error { return e.Reason }

// RunBots connects n bots to the arena server at addr and plays until ctx
// is done; then they disconnect and it returns nil. It is
// BotsConfig{Server: addr, Key: key, Count: n}.Run.
func RunBots(ctx context.Context, addr string, key *conn.PublicKey, n int) error {
	return BotsConfig{Server: addr, Key: key, Count: n}.Run(ctx)
}

// Run connects the bots to the server and plays until ctx is done; then
// they disconnect and it returns nil. One goroutine drives every bot at 60
// frames a second, as many game windows would. A bot that loses a session
// it had (the server restarted, went silent or closed it) reconnects as
// a player does, with backoff, and rejoins with its name and color (see
// player.Reconnecting); one that never got in, or gave up on the server,
// connects again a second later. But when no bot has been in the game
// for GiveUp, reconnecting or not (or, with RequireJoin, none had joined
// when ctx is done), Run returns a *BotsError; and an address that cannot
// be used is an error at once.
func (cfg BotsConfig) Run(ctx context.Context) error {
	giveUp := cfg.GiveUp
	if giveUp <= 0 {
		giveUp = DefaultBotsGiveUp
	}
	bots := make([]*Bot, cfg.Count)
	for i := range bots {
		bots[i] = NewBot(fmt.Sprintf("bot%d", i+1), uint8(wire.Colors-1-i%wire.Colors), cfg.Key, uint64(i)+uint64(time.Now().UnixNano()))
		if err := bots[i].P.Connect(cfg.Server); err != nil {
			for _, b := range bots[:i] {
				b.P.Client().ForceDisconnect()
			}
			return fmt.Errorf("bot %d: %s", i+1, player.Explain(err, cfg.Server))
		}
	}
	defer func() {
		for _, b := range bots {
			b.P.Client().Disconnect() // no more attempts, when reconnecting
			b.P.Client().WaitForDisconnect()
		}
	}()
	reasons := make([]error, len(bots)) // each bot's latest failure
	retry := make([]time.Time, len(bots))
	start := time.Now()
	lastIn, joined := start, false
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			if cfg.RequireJoin && !joined {
				return &BotsError{Server: cfg.Server, Interrupted: true, After: time.Since(start).Round(100 * time.Millisecond), Reason: telling(bots, reasons)}
			}
			return nil
		case now := <-frame.C:
			in := false
			for i, b := range bots {
				if err := b.P.Err(); err != nil {
					reasons[i] = err
				}
				rc, reconnecting := b.P.Reconnecting()
				if reconnecting {
					// It lost a session it had: its client connects
					// again by itself, from Frame, and it rejoins as
					// itself. Its reason is the last attempt's failure,
					// or the loss.
					reasons[i] = cmp.Or(rc.Failed, rc.Lost)
				}
				if !reconnecting && b.P.Client().Status().Closed() {
					// It never got in, gave up reconnecting, or gave up on
					// a server that is not ours: try again a little later.
					switch {
					case retry[i].IsZero():
						retry[i] = now.Add(botRetry)
					case !now.Before(retry[i]):
						retry[i] = time.Time{}
						if err := b.P.Connect(cfg.Server); err != nil {
							reasons[i] = err
						}
					}
					continue
				}
				b.P.Frame(now, b.Input(now))
				if b.P.InGame() {
					in, reasons[i] = true, nil
				}
			}
			if in {
				lastIn, joined = now, true
				continue
			}
			if now.Sub(lastIn) >= giveUp {
				return &BotsError{Server: cfg.Server, Joined: joined, After: giveUp, Reason: telling(bots, reasons)}
			}
		}
	}
}

// telling returns the most telling reason the bots are out of the game:
// a wrong game or version over a wrong key over anything else over
// silence. A bot without a failure yet counts by its state: still
// connecting is silence; connected but not in the game, the wrong game.
func telling(bots []*Bot, reasons []error) error {
	rank := func(err error) int {
		var ve *player.VersionError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ve):
			return 6
		case errors.Is(err, player.ErrNotArena):
			return 5
		case errors.Is(err, conn.ErrBadSignature):
			return 4
		case errors.Is(err, conn.ErrHandshakeTimeout):
			return 1
		case errors.Is(err, conn.ErrTimeout), errors.Is(err, conn.ErrPeerClosed), errors.Is(err, conn.ErrReset), errors.Is(err, conn.ErrLocalClose):
			return 2
		}
		return 3
	}
	var best error
	for i, b := range bots {
		err := reasons[i]
		if err == nil {
			switch st := b.P.Client().Status(); {
			case st == conn.Connecting:
				err = conn.ErrHandshakeTimeout
			case st == conn.Connected && !b.P.InGame():
				err = player.ErrNotArena
			}
		}
		if rank(err) > rank(best) {
			best = err
		}
	}
	if best == nil {
		best = conn.ErrHandshakeTimeout
	}
	return best
}
