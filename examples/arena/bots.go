package arena

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/examples/arena/player"
	"github.com/mpgs/mpgameserver/examples/arena/sim"
	"github.com/mpgs/mpgameserver/examples/arena/wire"
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
		if !s.Alive {
			continue
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

// RunBots connects n bots to the arena server at addr and plays until ctx
// is done; then they disconnect. One goroutine drives every bot at 60
// frames a second, as n game windows would. A bot that loses its
// connection reconnects.
func RunBots(ctx context.Context, addr string, key *conn.PublicKey, n int) error {
	bots := make([]*Bot, n)
	for i := range bots {
		bots[i] = NewBot(fmt.Sprintf("bot%d", i+1), uint8(wire.Colors-1-i%wire.Colors), key, uint64(i)+uint64(time.Now().UnixNano()))
		if err := bots[i].P.Connect(addr); err != nil {
			return fmt.Errorf("arena: bot %d: %w", i+1, err)
		}
	}
	defer func() {
		for _, b := range bots {
			b.P.Client().WaitForDisconnect()
		}
	}()
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-frame.C:
			for _, b := range bots {
				if b.P.Client().Status().Closed() {
					_ = b.P.Connect(addr) // the server restarted or dropped us
					continue
				}
				b.P.Frame(now, b.Input(now))
			}
		}
	}
}
