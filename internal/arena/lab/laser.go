package lab

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

// LaserScenario is the laser's test: a shooter that fires its laser only
// when its beam meets the target on its screen, and a target that flies
// about at speed and never shoots, on links of the same profile, for
// Duration of game time.
type LaserScenario struct {
	Link     netsim.Profile
	Duration time.Duration
	Seed     uint64
	// NoLagComp judges the shots against the present (arena.Options).
	NoLagComp bool
	// MaxRewind is the server's cap (arena.DefaultMaxRewind when 0).
	MaxRewind time.Duration
}

// LaserReport is what a LaserScenario measured.
type LaserReport struct {
	// Shooter is the shooter's count of its shots and verdicts.
	Shooter player.Lasers
	// Server is what the server judged.
	Server arena.LaserStats
	// Prediction is each player's own-ship prediction: the shooter's,
	// then the target's.
	Prediction [2]player.Mispredictions
	Simulated  time.Duration
}

// Share returns the share of the hits seen on the shooter's screen that
// the server registered, in percent.
func (r *LaserReport) Share() float64 {
	if r.Shooter.Seen == 0 {
		return 0
	}
	return 100 * float64(r.Shooter.Registered) / float64(r.Shooter.Seen)
}

// Print writes the report's line: "laser: seen=N registered=M ...".
func (r *LaserReport) Print(w io.Writer, prefix string) {
	s := &r.Shooter
	fmt.Fprintf(w, "%s seen=%d registered=%d (%.1f%%) shots=%d unseen-hits=%d", prefix, s.Seen, s.Registered, r.Share(), s.Fired, s.Unseen)
	if r.Server.Compensated > 0 {
		fmt.Fprintf(w, " rewind mean %v max %v capped=%d",
			(r.Server.RewindSum / time.Duration(r.Server.Compensated)).Round(time.Millisecond), r.Server.RewindMax.Round(time.Millisecond), r.Server.Capped)
	}
	fmt.Fprintln(w)
}

// Percentile returns the p-th quantile (0..1) of samples.
func Percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// Run runs the scenario.
func (sc LaserScenario) Run() (*LaserReport, error) {
	l := New(arena.Options{Seed: sc.Seed, NoLagComp: sc.NoLagComp, MaxRewind: sc.MaxRewind}, sc.Seed)
	defer l.Close()
	rng := rand.New(rand.NewPCG(sc.Seed, 0x1a5e7))
	shooter, err := l.Add("shooter", sc.Link, Marksman())
	if err != nil {
		return nil, err
	}
	target, err := l.Add("target", sc.Link, Dodger(rng))
	if err != nil {
		return nil, err
	}
	l.Run(3 * time.Second)
	if !shooter.InGame() || !target.InGame() {
		return nil, fmt.Errorf("lab: the players did not join in 3 s (shooter %v, target %v)", shooter.Err(), target.Err())
	}
	l.Run(sc.Duration)
	return &LaserReport{
		Shooter: shooter.Lasers(), Server: l.Game.Lasers(),
		Prediction: [2]player.Mispredictions{shooter.Mispredictions(), target.Mispredictions()},
		Simulated:  sc.Duration,
	}, nil
}

// Marksman is a bot that turns towards the nearest other ship as its
// screen shows it, closes in to a few hundred units, and fires its laser
// whenever the beam would meet that ship on its screen (alive,
// unshielded, in range). It never fires bullets.
func Marksman() Bot {
	return func(p *player.Player, now time.Time) sim.Input {
		v := p.View(now)
		if len(v.Ships) == 0 || !v.Ships[0].Local || !v.Ships[0].Alive {
			return 0
		}
		me := v.Ships[0]
		var target *player.Ship
		best := math.Inf(1)
		for i := range v.Ships[1:] {
			s := &v.Ships[1+i]
			if !s.Alive {
				continue
			}
			if d := math.Hypot(s.X-me.X, s.Y-me.Y); d < best {
				best, target = d, s
			}
		}
		if target == nil {
			return 0
		}
		var in sim.Input
		want := math.Atan2(target.Y-me.Y, target.X-me.X)
		switch turn := math.Remainder(want-me.Angle, 2*math.Pi); {
		case turn > 0.03:
			in |= sim.Right
		case turn < -0.03:
			in |= sim.Left
		}
		if best > 450 && math.Abs(math.Remainder(want-me.Angle, 2*math.Pi)) < 0.5 {
			in |= sim.Thrust
		}
		// The beam from where the ship will be after this input: the
		// predicted step is the one the laser fires from.
		next := sim.Ship{X: me.X, Y: me.Y, VX: me.VX, VY: me.VY, Angle: me.Angle, Alive: true, Input: in}
		sim.StepShip(&next, v.Scene.Bounds)
		if !target.Shield && beamMeets(next.X, next.Y, next.Angle, target.X, target.Y) {
			in |= sim.Laser
		}
		return in
	}
}

// beamMeets reports whether a beam from (x, y) at angle passes within a
// ship's radius of (tx, ty), ahead and in range.
func beamMeets(x, y, angle, tx, ty float64) bool {
	dx, dy := math.Cos(angle), math.Sin(angle)
	ox, oy := tx-x, ty-y
	along := ox*dx + oy*dy
	if along < 0 || along > sim.LaserRange {
		return false
	}
	return math.Abs(ox*dy-oy*dx) < sim.ShipRadius
}

// Dodger is a bot that flies about at speed: it thrusts most of the
// time and turns one way or the other for random spells, away from the
// walls. It never shoots.
func Dodger(rng *rand.Rand) Bot {
	var (
		until time.Time
		in    sim.Input
	)
	return func(p *player.Player, now time.Time) sim.Input {
		v := p.View(now)
		if len(v.Ships) == 0 || !v.Ships[0].Local || !v.Ships[0].Alive {
			return 0
		}
		me := v.Ships[0]
		b := v.Scene.Bounds
		const margin = 150
		if me.X < margin || me.Y < margin || me.X > b.Width-margin || me.Y > b.Height-margin {
			// Head for the middle.
			want := math.Atan2(b.Height/2-me.Y, b.Width/2-me.X)
			if math.Remainder(want-me.Angle, 2*math.Pi) > 0 {
				return sim.Thrust | sim.Right
			}
			return sim.Thrust | sim.Left
		}
		if now.After(until) {
			until = now.Add(time.Duration(200+rng.IntN(600)) * time.Millisecond)
			in = []sim.Input{sim.Thrust, sim.Thrust | sim.Left, sim.Thrust | sim.Right, sim.Left, sim.Right, sim.Thrust}[rng.IntN(6)]
		}
		return in
	}
}
