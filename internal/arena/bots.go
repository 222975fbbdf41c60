package arena

import (
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
// that hunts the nearest ship, leads its shots, and keeps off the walls.
type Bot struct {
	P     *player.Player
	rng   *rand.Rand
	aim   float64 // how sloppy its aim is, in radians
	reach float64
	hold  int // frames left on the current wandering choice
	wand  sim.Input
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

// Input decides the buttons for this frame from what the bot sees.
func (b *Bot) Input(now time.Time) sim.Input {
	v := b.P.View(now)
	if len(v.Ships) == 0 || !v.Ships[0].Local || !v.Ships[0].Alive {
		return 0
	}
	me := v.Ships[0]
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
	const margin = 140.0
	nearWall := me.X < margin || me.X > sim.Width-margin || me.Y < margin || me.Y > sim.Height-margin
	switch {
	case nearWall:
		want = math.Atan2(sim.Height/2-me.Y, sim.Width/2-me.X)
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
		if b.hold--; b.hold <= 0 {
			b.hold = 30 + b.rng.IntN(60)
			b.wand = sim.Input(b.rng.IntN(4)) &^ sim.Fire
		}
		return b.wand | sim.Thrust
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
	if target != nil && !nearWall && math.Abs(diff) < b.aim && best < b.reach {
		in |= sim.Fire
	}
	return in
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
	// (DefaultBotsGiveUp).
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
// frames a second, as many game windows would. A bot that loses its
// connection, or gives up on the server, connects again a second later.
// But when no bot has been in the game for GiveUp (or, with RequireJoin,
// none had joined when ctx is done), Run returns a *BotsError; and an
// address that cannot be used is an error at once.
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
				if b.P.Client().Status().Closed() {
					// The server restarted, dropped us, never answered,
					// or is not ours: try again a little later.
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
		case errors.Is(err, conn.ErrTimeout), errors.Is(err, conn.ErrPeerClosed), errors.Is(err, conn.ErrLocalClose):
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
