package sim_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

const eps = 1e-9

// scripted returns the buttons ship id holds at tick: a varied but fixed
// pattern that changes every few ticks and fires often.
func scripted(id uint32, tick int) sim.Input {
	h := uint32(tick/7+1)*2654435761 ^ (id+1)*40503
	h ^= h >> 13
	h *= 0x5bd1e995
	h ^= h >> 15
	return sim.Input(h) & (sim.Thrust | sim.Left | sim.Right | sim.Fire)
}

// scriptedGame plays a game from seed: ships 1 to 6 join, ship 7 joins at
// tick 200, ship 3 leaves at tick 400, everybody follows scripted. It
// returns the world and every tick's events.
func scriptedGame(seed uint64, ticks int) (*sim.World, [][]sim.Event) {
	w := sim.NewWorld(seed)
	for id := uint32(1); id <= 6; id++ {
		w.AddShip(id)
	}
	var events [][]sim.Event
	for t := range ticks {
		switch t {
		case 200:
			w.AddShip(7)
		case 400:
			w.RemoveShip(3)
		}
		for _, s := range w.Ships {
			w.SetInput(s.ID, scripted(s.ID, t))
		}
		events = append(events, w.Step())
	}
	return w, events
}

func TestDeterminism(t *testing.T) {
	const ticks = 600
	a, ea := scriptedGame(42, ticks)
	b, eb := scriptedGame(42, ticks)
	require.Equal(t, a, b, "same seed and inputs must give the same world")
	require.Equal(t, ea, eb, "same seed and inputs must give the same events")
	require.Equal(t, uint32(ticks), a.Tick)
	require.Len(t, a.Ships, 6)

	// The script must have exercised the interesting parts.
	var fired bool
	for _, s := range a.Ships {
		fired = fired || s.Cooldown > 0
	}
	fired = fired || len(a.Bullets) > 0
	assert.True(t, fired, "the script should fire")

	// A clone taken mid-game continues exactly like the original.
	c, _ := scriptedGame(42, 300)
	d := c.Clone()
	for tick := 300; tick < 400; tick++ {
		for _, s := range c.Ships {
			c.SetInput(s.ID, scripted(s.ID, tick))
			d.SetInput(s.ID, scripted(s.ID, tick))
		}
		require.Equal(t, c.Step(), d.Step())
	}
	require.Equal(t, c, d)

	// Another seed spawns elsewhere.
	x, y := sim.NewWorld(1), sim.NewWorld(2)
	for id := uint32(1); id <= 4; id++ {
		sx, sy := x.AddShip(id), y.AddShip(id)
		assert.False(t, sx.X == sy.X && sx.Y == sy.Y, "ship %d spawned at the same point for seeds 1 and 2", id)
	}
	assert.NotEqual(t, x, y)
}

func TestCloneIsDeep(t *testing.T) {
	w, _ := scriptedGame(7, 250)
	require.NotEmpty(t, w.Ships)
	require.NotEmpty(t, w.Bullets, "the test needs bullets in flight")
	want, _ := scriptedGame(7, 250)

	c := w.Clone()
	require.Equal(t, w, c)
	c.Ships[0].X, c.Ships[0].Score, c.Ships[0].Input = -1, 99, sim.Fire
	c.Bullets[0].X, c.Bullets[0].TTL = -1, 1000
	c.Ship(c.Ships[1].ID).Alive = false
	c.AddShip(1000)
	c.RemoveShip(c.Ships[2].ID)
	c.SetInput(c.Ships[0].ID, sim.Thrust|sim.Fire)
	for range 100 {
		c.Step()
	}
	require.Equal(t, want, w, "changing the clone changed the original")

	// The random state is copied too: both spawn the next ship alike.
	c = w.Clone()
	assert.Equal(t, *w.AddShip(77), *c.AddShip(77))
}

// ship returns a live ship at the arena's center facing angle.
func ship(angle float64) sim.Ship {
	return sim.Ship{ID: 1, X: sim.Width / 2, Y: sim.Height / 2, Angle: angle, Alive: true}
}

func TestStepShipThrust(t *testing.T) {
	for _, angle := range []float64{0, math.Pi / 2, -math.Pi / 2, math.Pi, 0.7, -2.5, 3} {
		s := ship(angle)
		s.Input = sim.Thrust
		var speed float64
		for i := range 30 {
			sim.StepShip(&s, sim.Classic().Bounds)
			v := math.Hypot(s.VX, s.VY)
			require.Greater(t, v, speed, "angle %v tick %d: thrust must speed up", angle, i)
			speed = v
			// Velocity points where the ship faces.
			assert.InDelta(t, math.Cos(angle), s.VX/v, 1e-9, "angle %v", angle)
			assert.InDelta(t, math.Sin(angle), s.VY/v, 1e-9, "angle %v", angle)
		}
		// First tick: accelerate, then drag, then move.
		s = ship(angle)
		s.Input = sim.Thrust
		sim.StepShip(&s, sim.Classic().Bounds)
		dv := sim.Accel * sim.Dt * (1 - sim.Drag*sim.Dt)
		assert.InDelta(t, math.Cos(angle)*dv, s.VX, eps)
		assert.InDelta(t, math.Sin(angle)*dv, s.VY, eps)
		assert.InDelta(t, sim.Width/2+s.VX*sim.Dt, s.X, eps)
		assert.InDelta(t, sim.Height/2+s.VY*sim.Dt, s.Y, eps)
	}
}

func TestStepShipTurn(t *testing.T) {
	step := sim.TurnRate * sim.Dt
	for _, tc := range []struct {
		name  string
		in    sim.Input
		start float64
		want  float64
	}{
		{"left", sim.Left, 0.5, 0.5 - step},
		{"right", sim.Right, 0.5, 0.5 + step},
		{"both", sim.Left | sim.Right, 0.5, 0.5},
		{"none", 0, -1, -1},
		{"thrust only", sim.Thrust, 2, 2},
		{"right across pi", sim.Right, math.Pi - step/2, -math.Pi + step/2},
		{"left across -pi", sim.Left, -math.Pi + step/2, math.Pi - step/2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ship(tc.start)
			s.Input = tc.in
			sim.StepShip(&s, sim.Classic().Bounds)
			assert.InDelta(t, tc.want, s.Angle, 1e-12)
		})
	}
	for _, in := range []sim.Input{sim.Left, sim.Right, sim.Left | sim.Thrust, sim.Right | sim.Thrust} {
		s := ship(0)
		s.Input = in
		turned := 0.0
		for i := range 1000 {
			sim.StepShip(&s, sim.Classic().Bounds)
			if in&sim.Left != 0 {
				turned -= step
			} else {
				turned += step
			}
			require.True(t, s.Angle >= -math.Pi && s.Angle <= math.Pi, "tick %d: angle %v", i, s.Angle)
			require.InDelta(t, 0, math.Remainder(s.Angle-turned, 2*math.Pi), 1e-9, "tick %d", i)
		}
	}
}

func TestStepShipDrag(t *testing.T) {
	s := ship(1)
	s.VX, s.VY = 300, -200
	sim.StepShip(&s, sim.Classic().Bounds)
	assert.InDelta(t, 300*(1-sim.Drag*sim.Dt), s.VX, eps)
	assert.InDelta(t, -200*(1-sim.Drag*sim.Dt), s.VY, eps)
	assert.InDelta(t, 1.0, s.Angle, 0, "a coasting ship does not turn")
	speed := math.Hypot(s.VX, s.VY)
	for range 120 {
		sim.StepShip(&s, sim.Classic().Bounds)
		v := math.Hypot(s.VX, s.VY)
		require.Less(t, v, speed)
		speed = v
	}
	// After two seconds of drag, about exp(-1.8) of the speed is left.
	assert.InDelta(t, math.Hypot(300, -200)*math.Pow(1-sim.Drag*sim.Dt, 121), speed, 1e-6)
}

func TestStepShipMaxSpeed(t *testing.T) {
	for _, v := range [][2]float64{{1000, 1000}, {-5000, 0}, {0, 481}, {-300, 400}} {
		s := ship(math.Atan2(v[1], v[0]))
		s.VX, s.VY, s.Input = v[0], v[1], sim.Thrust
		sim.StepShip(&s, sim.Classic().Bounds)
		require.LessOrEqual(t, math.Hypot(s.VX, s.VY), sim.MaxSpeed+eps, "start %v", v)
	}
	// Long thrust while turning and bouncing off walls.
	rng := rand.New(rand.NewPCG(1, 2))
	s := ship(0)
	for i := range 20000 {
		if i%20 == 0 {
			s.Input = sim.Thrust | sim.Input(rng.IntN(4))<<1
		}
		sim.StepShip(&s, sim.Classic().Bounds)
		require.LessOrEqual(t, math.Hypot(s.VX, s.VY), sim.MaxSpeed+eps, "tick %d", i)
	}
}

func TestStepShipWalls(t *testing.T) {
	k := 1 - sim.Drag*sim.Dt
	const r = sim.ShipRadius
	for _, tc := range []struct {
		name           string
		x, y, vx, vy   float64
		wx, wy, wv, wu float64 // wanted X, Y, VX, VY
	}{
		{"left", r + 1, 500, -300, 10, r, 500 + 10*k*sim.Dt, 300 * k * sim.WallBounce, 10 * k},
		{"right", sim.Width - r - 1, 500, 300, -10, sim.Width - r, 500 - 10*k*sim.Dt, -300 * k * sim.WallBounce, -10 * k},
		{"top", 800, r + 1, 10, -300, 800 + 10*k*sim.Dt, r, 10 * k, 300 * k * sim.WallBounce},
		{"bottom", 800, sim.Height - r - 1, -10, 300, 800 - 10*k*sim.Dt, sim.Height - r, -10 * k, -300 * k * sim.WallBounce},
		{"corner", r + 1, r + 1, -300, -300, r, r, 300 * k * sim.WallBounce, 300 * k * sim.WallBounce},
		{"far corner", sim.Width - r, sim.Height - r, 200, 200, sim.Width - r, sim.Height - r, -200 * k * sim.WallBounce, -200 * k * sim.WallBounce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.Ship{X: tc.x, Y: tc.y, VX: tc.vx, VY: tc.vy, Alive: true}
			sim.StepShip(&s, sim.Classic().Bounds)
			assert.InDelta(t, tc.wx, s.X, eps, "X")
			assert.InDelta(t, tc.wy, s.Y, eps, "Y")
			assert.InDelta(t, tc.wv, s.VX, eps, "VX")
			assert.InDelta(t, tc.wu, s.VY, eps, "VY")
		})
	}
	// However it flies, a ship stays within the walls.
	rng := rand.New(rand.NewPCG(3, 4))
	s := ship(0)
	for i := range 20000 {
		if i%15 == 0 {
			s.Input = sim.Input(rng.IntN(16))
		}
		if i%1000 == 0 { // now and then a kick
			s.VX, s.VY = rng.Float64()*2000-1000, rng.Float64()*2000-1000
		}
		sim.StepShip(&s, sim.Classic().Bounds)
		requireInside(t, &s)
	}
}

func requireInside(t testing.TB, s *sim.Ship) {
	t.Helper()
	require.True(t, s.X >= sim.ShipRadius && s.X <= sim.Width-sim.ShipRadius &&
		s.Y >= sim.ShipRadius && s.Y <= sim.Height-sim.ShipRadius,
		"ship %d at (%v, %v) is outside the walls", s.ID, s.X, s.Y)
}

func TestStepShipDead(t *testing.T) {
	s := sim.Ship{ID: 3, X: 100, Y: 200, VX: 50, VY: -50, Angle: 1, RespawnIn: 30, Shield: 5, Cooldown: 5, Input: sim.Thrust | sim.Left | sim.Fire}
	want := s
	for range 10 {
		sim.StepShip(&s, sim.Classic().Bounds)
	}
	assert.Equal(t, want, s, "a dead ship must not change")
}

func TestStepShipCountdowns(t *testing.T) {
	s := ship(0)
	s.Cooldown, s.Shield = 3, 2
	for _, want := range [][2]int{{2, 1}, {1, 0}, {0, 0}, {0, 0}} {
		sim.StepShip(&s, sim.Classic().Bounds)
		assert.Equal(t, want, [2]int{s.Cooldown, s.Shield})
	}
}

// TestPrediction checks what client prediction relies on: a lone ship
// stepped by the world moves exactly like StepShip moves a copy of it.
func TestPrediction(t *testing.T) {
	for _, tc := range []struct {
		name string
		fire bool
	}{{"no fire", false}, {"fire", true}} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) {
				w := sim.NewWorld(seed)
				const id = 9
				pred := *w.AddShip(id)
				shots := 0
				for tick := range 3000 {
					in := scripted(id, tick)
					if !tc.fire {
						in &^= sim.Fire
					}
					w.SetInput(id, in)
					pred.Input = in
					require.Empty(t, w.Step())
					sim.StepShip(&pred, sim.Classic().Bounds)
					if n := len(w.Bullets); n > 0 && w.Bullets[n-1].TTL == sim.BulletLife-1 {
						shots++
					}
					got := *w.Ship(id)
					if tc.fire {
						// The gun's cooldown is the world's business;
						// everything StepShip computes must match.
						require.LessOrEqual(t, got.Cooldown, sim.FireCooldown)
						got.Cooldown = pred.Cooldown
					}
					require.Equal(t, pred, got, "seed %d tick %d", seed, tick)
				}
				if tc.fire {
					require.Positive(t, shots, "seed %d: the ship should have fired", seed)
				}
			}
		})
	}
}

// twoShips returns a world with ships 1 and 2 placed and unshielded.
func twoShips(x1, y1, a1, x2, y2, a2 float64) (*sim.World, *sim.Ship, *sim.Ship) {
	w := sim.NewWorld(1)
	w.AddShip(1)
	w.AddShip(2)
	a, b := w.Ship(1), w.Ship(2)
	a.X, a.Y, a.Angle, a.Shield = x1, y1, a1, 0
	b.X, b.Y, b.Angle, b.Shield = x2, y2, a2, 0
	return w, a, b
}

func TestFire(t *testing.T) {
	for _, angle := range []float64{0, 1, -2, math.Pi / 2, 3} {
		w := sim.NewWorld(1)
		s := w.AddShip(4)
		s.X, s.Y, s.VX, s.VY, s.Angle = 800, 500, 30, -40, angle
		w.SetInput(4, sim.Fire)
		require.Empty(t, w.Step())
		s = w.Ship(4)
		require.Len(t, w.Bullets, 1)
		b := w.Bullets[0]
		assert.Equal(t, uint32(4), b.Owner)
		assert.Equal(t, sim.BulletLife-1, b.TTL)
		assert.Equal(t, sim.FireCooldown, s.Cooldown)
		cx, cy := math.Cos(s.Angle), math.Sin(s.Angle)
		assert.InDelta(t, s.VX+cx*sim.BulletSpeed, b.VX, eps)
		assert.InDelta(t, s.VY+cy*sim.BulletSpeed, b.VY, eps)
		// Spawned ahead of the nose, then moved one tick.
		x0, y0 := b.X-b.VX*sim.Dt, b.Y-b.VY*sim.Dt
		assert.InDelta(t, sim.ShipRadius+sim.BulletRadius+1, math.Hypot(x0-s.X, y0-s.Y), eps)
		assert.InDelta(t, s.X+cx*(sim.ShipRadius+sim.BulletRadius+1), x0, eps)
		assert.InDelta(t, s.Y+cy*(sim.ShipRadius+sim.BulletRadius+1), y0, eps)
	}

	// Holding Fire shoots every FireCooldown ticks.
	w := sim.NewWorld(1)
	w.AddShip(1)
	w.SetInput(1, sim.Fire|sim.Right)
	var shots []int
	var ids []uint32
	for tick := 1; tick <= 100; tick++ {
		w.Step()
		for _, b := range w.Bullets {
			if !slices.Contains(ids, b.ID) {
				ids = append(ids, b.ID)
				shots = append(shots, tick)
			}
		}
	}
	require.NotEmpty(t, shots)
	assert.Equal(t, 1, shots[0])
	for i := 1; i < len(shots); i++ {
		assert.Equal(t, sim.FireCooldown, shots[i]-shots[i-1], "shots at %v", shots)
	}
	assert.Equal(t, len(ids), len(slices.Compact(slices.Sorted(slices.Values(ids)))), "bullet ids must be unique")
}

func TestBulletLife(t *testing.T) {
	// Fired rightwards from the left wall, a bullet has room to expire.
	w := sim.NewWorld(1)
	s := w.AddShip(1)
	s.X, s.Y, s.Angle = 40, 500, 0
	w.SetInput(1, sim.Fire)
	w.Step()
	w.SetInput(1, 0)
	require.Len(t, w.Bullets, 1)
	for tick := 2; tick < sim.BulletLife; tick++ {
		w.Step()
		require.Len(t, w.Bullets, 1, "tick %d", tick)
		require.Equal(t, sim.BulletLife-tick, w.Bullets[0].TTL)
	}
	w.Step()
	assert.Empty(t, w.Bullets, "the bullet should expire after BulletLife ticks")

	// Fired at each wall, a bullet goes as soon as it leaves the arena.
	for _, tc := range []struct {
		name        string
		x, y, angle float64
	}{
		{"up", 800, 300, -math.Pi / 2},
		{"down", 800, 700, math.Pi / 2},
		{"left", 300, 500, math.Pi},
		{"right", 1300, 500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.NewWorld(1)
			s := w.AddShip(1)
			s.X, s.Y, s.Angle = tc.x, tc.y, tc.angle
			w.SetInput(1, sim.Fire)
			w.Step()
			w.SetInput(1, 0)
			require.Len(t, w.Bullets, 1)
			last := w.Bullets[0]
			for tick := 2; len(w.Bullets) > 0; tick++ {
				require.Less(t, tick, sim.BulletLife, "the bullet should leave before it expires")
				b := w.Bullets[0]
				require.True(t, b.X >= 0 && b.X <= sim.Width && b.Y >= 0 && b.Y <= sim.Height, "bullet at (%v, %v)", b.X, b.Y)
				last = b
				w.Step()
			}
			nx, ny := last.X+last.VX*sim.Dt, last.Y+last.VY*sim.Dt
			assert.True(t, nx < 0 || nx > sim.Width || ny < 0 || ny > sim.Height, "the bullet vanished inside the arena at (%v, %v)", nx, ny)
		})
	}
}

func TestKill(t *testing.T) {
	w, _, b := twoShips(400, 500, 0, 600, 500, math.Pi)
	b.Input = sim.Left // turns on the spot
	w.SetInput(1, sim.Fire)
	var kill []sim.Event
	for tick := 1; tick < 30 && kill == nil; tick++ {
		kill = w.Step()
		w.SetInput(1, 0)
	}
	require.Len(t, kill, 1)
	v := w.Ship(2)
	assert.Equal(t, sim.Event{Kind: sim.Kill, Killer: 1, Victim: 2, X: v.X, Y: v.Y}, kill[0])
	assert.InDelta(t, 600, v.X, eps)
	assert.InDelta(t, 500, v.Y, eps)
	assert.False(t, v.Alive)
	assert.Equal(t, 1, v.Deaths)
	assert.Equal(t, 0, v.Score)
	assert.Equal(t, sim.RespawnTicks, v.RespawnIn)
	assert.Equal(t, sim.Input(0), v.Input, "a dead ship holds no buttons")
	k := w.Ship(1)
	assert.Equal(t, sim.KillScore, k.Score)
	assert.Equal(t, 0, k.Deaths)
	assert.True(t, k.Alive)
	assert.Empty(t, w.Bullets, "the bullet should be consumed")

	// The victim stays dead for RespawnTicks ticks and comes back shielded.
	for i := 1; i < sim.RespawnTicks; i++ {
		require.Empty(t, w.Step(), "tick %d after the kill", i)
		v = w.Ship(2)
		require.False(t, v.Alive)
		require.Equal(t, sim.RespawnTicks-i, v.RespawnIn)
	}
	ev := w.Step()
	v = w.Ship(2)
	require.Len(t, ev, 1)
	assert.Equal(t, sim.Event{Kind: sim.Respawn, Victim: 2, X: v.X, Y: v.Y}, ev[0])
	assert.True(t, v.Alive)
	assert.Equal(t, sim.ShieldTicks, v.Shield)
	assert.Equal(t, 0, v.RespawnIn)
	assert.Equal(t, 0, v.Cooldown)
	assert.Zero(t, v.VX)
	assert.Zero(t, v.VY)
	assert.Equal(t, 1, v.Deaths, "deaths survive respawning")
	requireInside(t, v)
	w.Step()
	assert.Equal(t, sim.ShieldTicks-1, w.Ship(2).Shield)
}

func TestBulletTargets(t *testing.T) {
	bullet := func(owner uint32, x, y float64) sim.Bullet {
		return sim.Bullet{ID: 100, Owner: owner, X: x, Y: y, VX: sim.BulletSpeed, TTL: sim.BulletLife}
	}
	for _, tc := range []struct {
		name   string
		setup  func(w *sim.World, a, b *sim.Ship)
		bullet sim.Bullet
		kill   bool
	}{
		{"hits another ship", nil, bullet(1, 600-sim.BulletSpeed*sim.Dt, 500), true},
		{"grazes another ship", nil, bullet(1, 600-sim.BulletSpeed*sim.Dt, 500+sim.ShipRadius+sim.BulletRadius-0.01), true},
		{"misses another ship", nil, bullet(1, 600-sim.BulletSpeed*sim.Dt, 500+sim.ShipRadius+sim.BulletRadius+0.01), false},
		{"never its owner", nil, bullet(2, 600-sim.BulletSpeed*sim.Dt, 500), false},
		{"not a shielded ship", func(_ *sim.World, _, b *sim.Ship) { b.Shield = 2 }, bullet(1, 600-sim.BulletSpeed*sim.Dt, 500), false},
		{"not a dead ship", func(_ *sim.World, _, b *sim.Ship) { b.Alive, b.RespawnIn = false, 50 }, bullet(1, 600-sim.BulletSpeed*sim.Dt, 500), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, a, b := twoShips(300, 500, 0, 600, 500, 0)
			if tc.setup != nil {
				tc.setup(w, a, b)
			}
			w.Bullets = append(w.Bullets, tc.bullet)
			ev := w.Step()
			if tc.kill {
				require.Len(t, ev, 1)
				assert.Equal(t, sim.Kill, ev[0].Kind)
				assert.Equal(t, tc.bullet.Owner, ev[0].Killer)
				assert.Equal(t, uint32(2), ev[0].Victim)
				assert.Empty(t, w.Bullets)
				assert.False(t, w.Ship(2).Alive)
				return
			}
			require.Empty(t, ev)
			require.Len(t, w.Bullets, 1, "a bullet that hits nothing flies on")
			assert.InDelta(t, 600, w.Bullets[0].X, eps)
			alive := w.Ship(2).Alive
			if tc.name == "not a dead ship" {
				assert.False(t, alive)
			} else {
				assert.True(t, alive)
			}
			assert.Zero(t, w.Ship(1).Score)
		})
	}

	// A bullet kills one ship only.
	w, _, _ := twoShips(300, 500, 0, 600, 500, 0)
	c := w.AddShip(3)
	c.X, c.Y, c.Shield = 610, 500+sim.ShipRadius*2+1, 0
	w.Bullets = append(w.Bullets, sim.Bullet{ID: 7, Owner: 1, X: 605, Y: 500 + sim.ShipRadius + 1, TTL: 10})
	ev := w.Step()
	require.Len(t, ev, 1)
	assert.Equal(t, uint32(2), ev[0].Victim)
	assert.True(t, w.Ship(3).Alive)
	assert.Empty(t, w.Bullets)
	assert.Equal(t, sim.KillScore, w.Ship(1).Score)
}

func TestShipCollision(t *testing.T) {
	for _, tc := range []struct {
		name             string
		ax, ay, avx, avy float64
		bx, by, bvx, bvy float64
		approaching      bool
	}{
		{"head on", 500, 500, 100, 0, 520, 500, -100, 0, true},
		{"one at rest", 500, 500, 200, 50, 510, 510, 0, 0, true},
		{"glancing", 500, 500, 150, 0, 520, 525, 0, -30, true},
		{"nearly on top", 800, 400, 3, 3, 800.5, 400.5, -3, -3, true},
		{"separating", 500, 500, -60, 0, 520, 500, 60, 0, false},
		{"overlapping at rest", 700, 700, 0, 0, 690, 720, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, a, b := twoShips(tc.ax, tc.ay, 0, tc.bx, tc.by, 0)
			a.VX, a.VY, b.VX, b.VY = tc.avx, tc.avy, tc.bvx, tc.bvy
			// What the ships are after moving, before colliding.
			pa, pb := *a, *b
			sim.StepShip(&pa, sim.Classic().Bounds)
			sim.StepShip(&pb, sim.Classic().Bounds)
			require.Less(t, math.Hypot(pb.X-pa.X, pb.Y-pa.Y), 2*sim.ShipRadius, "the case must overlap")
			w.Step()
			a, b = w.Ship(1), w.Ship(2)

			d := math.Hypot(b.X-a.X, b.Y-a.Y)
			assert.GreaterOrEqual(t, d, 2*sim.ShipRadius-1e-9, "pushed apart")
			assert.InDelta(t, (pa.X+pb.X)/2, (a.X+b.X)/2, eps, "pushed equally")
			assert.InDelta(t, (pa.Y+pb.Y)/2, (a.Y+b.Y)/2, eps, "pushed equally")
			// Pushed along the line between them.
			nx, ny := (pb.X - pa.X), (pb.Y - pa.Y)
			n := math.Hypot(nx, ny)
			nx, ny = nx/n, ny/n
			assert.InDelta(t, 0, (b.X-a.X)*ny-(b.Y-a.Y)*nx, 1e-9)

			// Momentum is kept.
			assert.InDelta(t, pa.VX+pb.VX, a.VX+b.VX, eps)
			assert.InDelta(t, pa.VY+pb.VY, a.VY+b.VY, eps)
			va, vb := pa.VX*nx+pa.VY*ny, pb.VX*nx+pb.VY*ny
			require.Equal(t, tc.approaching, va > vb)
			if tc.approaching {
				// Normal components exchanged, tangential ones kept.
				assert.InDelta(t, vb, a.VX*nx+a.VY*ny, eps)
				assert.InDelta(t, va, b.VX*nx+b.VY*ny, eps)
			} else {
				assert.InDelta(t, va, a.VX*nx+a.VY*ny, eps)
				assert.InDelta(t, vb, b.VX*nx+b.VY*ny, eps)
			}
			assert.InDelta(t, -pa.VX*ny+pa.VY*nx, -a.VX*ny+a.VY*nx, eps)
			assert.InDelta(t, -pb.VX*ny+pb.VY*nx, -b.VX*ny+b.VY*nx, eps)
		})
	}

	// A ship against a wall is not pushed through it.
	for _, tc := range []struct {
		name                     string
		ax, ay, bx, by, bvx, bvy float64
	}{
		{"left", sim.ShipRadius, 500, sim.ShipRadius + 12, 503, -200, 0},
		{"right", sim.Width - sim.ShipRadius, 500, sim.Width - sim.ShipRadius - 12, 497, 200, 0},
		{"top", 700, sim.ShipRadius, 702, sim.ShipRadius + 10, 0, -300},
		{"bottom", 700, sim.Height - sim.ShipRadius, 698, sim.Height - sim.ShipRadius - 10, 0, 300},
		{"corner", sim.ShipRadius, sim.ShipRadius, sim.ShipRadius + 8, sim.ShipRadius + 9, -100, -100},
	} {
		t.Run("wall "+tc.name, func(t *testing.T) {
			w, _, b := twoShips(tc.ax, tc.ay, 0, tc.bx, tc.by, 0)
			b.VX, b.VY = tc.bvx, tc.bvy
			d0 := math.Hypot(tc.bx-tc.ax, tc.by-tc.ay)
			w.Step()
			a, b := w.Ship(1), w.Ship(2)
			requireInside(t, a)
			requireInside(t, b)
			assert.Greater(t, math.Hypot(b.X-a.X, b.Y-a.Y), d0, "still pushed apart")
			// Within a few ticks they are apart.
			for range 10 {
				w.Step()
				requireInside(t, w.Ship(1))
				requireInside(t, w.Ship(2))
			}
			a, b = w.Ship(1), w.Ship(2)
			assert.GreaterOrEqual(t, math.Hypot(b.X-a.X, b.Y-a.Y), 2*sim.ShipRadius-1e-9)
		})
	}

	// A dead ship is not pushed.
	w, _, b := twoShips(500, 500, 0, 510, 500, 0)
	b.Alive, b.RespawnIn = false, 100
	w.Step()
	assert.Equal(t, 500.0, w.Ship(1).X)
	assert.Equal(t, 510.0, w.Ship(2).X)
}

func TestShips(t *testing.T) {
	w := sim.NewWorld(5)
	s := w.AddShip(5)
	require.NotNil(t, s)
	s.X, s.Score = 123, 4
	again := w.AddShip(5)
	assert.Same(t, s, again, "adding an id twice returns the same ship")
	assert.Equal(t, 123.0, again.X, "adding an id twice must not respawn it")
	assert.Equal(t, 4, again.Score)
	require.Len(t, w.Ships, 1)

	for _, id := range []uint32{1, 9, 3, 7, 0, math.MaxUint32, 2} {
		w.AddShip(id)
	}
	ids := func() []uint32 {
		var ids []uint32
		for _, s := range w.Ships {
			ids = append(ids, s.ID)
		}
		return ids
	}
	require.Equal(t, []uint32{0, 1, 2, 3, 5, 7, 9, math.MaxUint32}, ids())
	for _, id := range ids() {
		require.NotNil(t, w.Ship(id))
		require.Equal(t, id, w.Ship(id).ID)
	}
	assert.Nil(t, w.Ship(4))
	assert.Nil(t, w.Ship(10))

	// Bullets of 3 and of 7 in flight.
	for _, id := range []uint32{3, 7} {
		w.SetInput(id, sim.Fire)
	}
	w.Step()
	require.Len(t, w.Bullets, 2)

	// Unknown ids change nothing.
	before := w.Clone()
	w.SetInput(4, sim.Thrust)
	w.RemoveShip(4)
	assert.Equal(t, before, w)

	w.RemoveShip(3)
	assert.Nil(t, w.Ship(3))
	assert.Equal(t, []uint32{0, 1, 2, 5, 7, 9, math.MaxUint32}, ids())
	require.Len(t, w.Bullets, 1)
	assert.Equal(t, uint32(7), w.Bullets[0].Owner)
	w.RemoveShip(7)
	assert.Empty(t, w.Bullets)
	assert.Equal(t, []uint32{0, 1, 2, 5, 9, math.MaxUint32}, ids())

	// Coming back gives a fresh ship.
	s = w.AddShip(3)
	assert.Equal(t, 0, s.Score)
	assert.True(t, s.Alive)
	assert.Equal(t, []uint32{0, 1, 2, 3, 5, 9, math.MaxUint32}, ids())
}

// badSeed is the one seed whose generator state starts at zero, where
// xorshift would be stuck.
func badSeed() uint64 {
	const k = 0x9E3779B97F4A7C15
	inv := uint64(k)
	for range 6 {
		inv *= 2 - k*inv
	}
	return -inv
}

func TestSpawn(t *testing.T) {
	seeds := []uint64{0, 1, 2, 3, 42, math.MaxUint64, badSeed()}
	for s := range uint64(50) {
		seeds = append(seeds, s*0x1234567+99)
	}
	for _, seed := range seeds {
		w := sim.NewWorld(seed)
		for id := uint32(1); id <= 12; id++ {
			s := w.AddShip(id)
			assert.True(t, s.Alive)
			assert.Equal(t, sim.ShieldTicks, s.Shield)
			assert.Zero(t, s.VX)
			assert.Zero(t, s.VY)
			requireInside(t, s)
			require.True(t, s.X >= 4*sim.ShipRadius && s.X <= sim.Width-4*sim.ShipRadius &&
				s.Y >= 4*sim.ShipRadius && s.Y <= sim.Height-4*sim.ShipRadius, "seed %d: spawned at (%v, %v)", seed, s.X, s.Y)
			assert.InDelta(t, math.Atan2(sim.Height/2-s.Y, sim.Width/2-s.X), s.Angle, eps, "faces the center")
		}
		for i, a := range w.Ships {
			for _, b := range w.Ships[i+1:] {
				require.GreaterOrEqual(t, math.Hypot(a.X-b.X, a.Y-b.Y), 2*sim.ShipRadius,
					"seed %#x: ships %d and %d spawned on top of each other", seed, a.ID, b.ID)
			}
		}
	}
}

// TestLongGame plays a long game of random inputs and checks the world's
// invariants every tick.
func TestLongGame(t *testing.T) {
	ticks := 20000
	if testing.Short() {
		ticks = 3000
	}
	rng := rand.New(rand.NewPCG(2024, 7))
	w := sim.NewWorld(rng.Uint64())
	const n = 8
	hold := make([]int, n+1)
	for id := uint32(1); id <= n; id++ {
		w.AddShip(id)
	}
	kills, respawns := 0, 0
	finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
		return true
	}
	for tick := range ticks {
		for id := uint32(1); id <= n; id++ {
			if hold[id]--; hold[id] <= 0 {
				hold[id] = 1 + rng.IntN(40)
				w.SetInput(id, sim.Input(rng.IntN(16)))
			}
		}
		for _, e := range w.Step() {
			switch e.Kind {
			case sim.Kill:
				kills++
				require.NotEqual(t, e.Killer, e.Victim)
				require.NotNil(t, w.Ship(e.Killer))
				require.False(t, w.Ship(e.Victim).Alive)
			case sim.Respawn:
				respawns++
				require.True(t, w.Ship(e.Victim).Alive)
			default:
				t.Fatalf("tick %d: event kind %d", tick, e.Kind)
			}
			require.True(t, finite(e.X, e.Y))
		}
		score, deaths := 0, 0
		for i := range w.Ships {
			s := &w.Ships[i]
			require.True(t, finite(s.X, s.Y, s.VX, s.VY, s.Angle), "tick %d: ship %+v", tick, *s)
			requireInside(t, s)
			require.True(t, s.Angle >= -math.Pi && s.Angle <= math.Pi)
			score += s.Score
			deaths += s.Deaths
		}
		require.Equal(t, deaths, score, "tick %d: every death is somebody's kill", tick)
		require.Equal(t, kills, deaths)
		for _, b := range w.Bullets {
			require.True(t, finite(b.X, b.Y, b.VX, b.VY))
			require.True(t, b.X >= 0 && b.X <= sim.Width && b.Y >= 0 && b.Y <= sim.Height,
				"tick %d: bullet at (%v, %v)", tick, b.X, b.Y)
			require.True(t, b.TTL > 0 && b.TTL < sim.BulletLife)
			require.NotNil(t, w.Ship(b.Owner))
		}
	}
	t.Logf("%d ticks: %d kills, %d respawns", ticks, kills, respawns)
	require.Positive(t, kills, "random play should kill now and then")
}
