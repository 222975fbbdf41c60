package sim_test

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

func TestScenes(t *testing.T) {
	c := sim.Classic()
	assert.Equal(t, "classic", c.Name)
	assert.Equal(t, sim.Bounds{Width: sim.Width, Height: sim.Height}, c.Bounds)
	assert.Zero(t, c.Asteroids)

	b := sim.Battle()
	assert.Equal(t, "battle", b.Name)
	assert.Equal(t, sim.Bounds{Width: 6400, Height: 4000}, b.Bounds, "4 by 4 classic arenas")
	assert.Equal(t, 1200, b.Asteroids)

	calm := sim.Calm()
	assert.Equal(t, "calm", calm.Name)
	assert.Equal(t, b.Bounds, calm.Bounds, "the battle's world")
	assert.True(t, calm.Calm)

	require.Equal(t, []sim.Scene{c, b, calm}, sim.Scenes())
	for _, sc := range sim.Scenes() {
		got, ok := sim.SceneByName(sc.Name)
		require.True(t, ok, sc.Name)
		assert.Equal(t, sc, got)
	}
	for _, name := range []string{"", "Battle", "classic ", "arena"} {
		_, ok := sim.SceneByName(name)
		assert.False(t, ok, "%q is no scene", name)
	}

	// Nothing drifts in a calm world.
	w := sim.NewSceneWorld(1, calm)
	require.Len(t, w.Asteroids, calm.Asteroids)
	before := slices.Clone(w.Asteroids)
	for range 120 {
		w.Step()
	}
	assert.Equal(t, before, w.Asteroids, "calm asteroids stay put")

	// NewWorld is the classic scene, random choices and all.
	for seed := range uint64(4) {
		w, c := sim.NewWorld(seed), sim.NewSceneWorld(seed, sim.Classic())
		require.Equal(t, w, c)
		assert.Equal(t, sim.Classic(), w.Scene())
		assert.Empty(t, w.Asteroids)
		for id := uint32(1); id <= 5; id++ {
			require.Equal(t, *w.AddShip(id), *c.AddShip(id))
		}
		for range 50 {
			require.Equal(t, w.Step(), c.Step())
		}
		require.Equal(t, w, c)
	}

	for _, bad := range []sim.Scene{
		{Name: "none"},
		{Name: "narrow", Bounds: sim.Bounds{Width: 100, Height: 1000}},
		{Name: "flat", Bounds: sim.Bounds{Width: 1000, Height: 100}},
		{Name: "nan", Bounds: sim.Bounds{Width: math.NaN(), Height: 1000}},
		{Name: "minus", Bounds: sim.Bounds{Width: 1000, Height: 1000}, Asteroids: -1},
	} {
		assert.Panics(t, func() { sim.NewSceneWorld(1, bad) }, bad.Name)
	}
}

func TestBattleWorld(t *testing.T) {
	for _, seed := range []uint64{0, 1, 99, badSeed()} {
		w := sim.NewSceneWorld(seed, sim.Battle())
		require.Equal(t, sim.Battle(), w.Scene())
		require.Len(t, w.Asteroids, 1200)
		var screens [4][4]int
		for i := range w.Asteroids {
			a := &w.Asteroids[i]
			require.Equal(t, uint32(i+1), a.ID, "IDs in order from 1")
			requireAsteroidSane(t, w, a)
			assert.Equal(t, a.MaxHP(), a.HP, "whole")
			screens[int(a.X/sim.Width)][int(a.Y/sim.Height)]++
		}
		// Spread over the whole world: each of the 16 screens has its
		// share, 75 on average.
		for x := range screens {
			for y, n := range screens[x] {
				assert.Greater(t, n, 30, "seed %d: screen (%d, %d) has %d asteroids", seed, x, y, n)
			}
		}
	}
	assert.NotEqual(t, sim.NewSceneWorld(1, sim.Battle()).Asteroids, sim.NewSceneWorld(2, sim.Battle()).Asteroids)

	// Hit points go by size.
	for _, tc := range []struct {
		r  float64
		hp int
	}{{18, 2}, {29.9, 2}, {30, 3}, {44, 3}, {45, 4}, {60, 5}} {
		a := sim.Asteroid{Radius: tc.r}
		assert.Equal(t, tc.hp, a.MaxHP(), "radius %v", tc.r)
	}
}

// requireAsteroidSane checks what holds for every asteroid at all times.
func requireAsteroidSane(t testing.TB, w *sim.World, a *sim.Asteroid) {
	t.Helper()
	b := w.Scene().Bounds
	v, spin := math.Hypot(a.VX, a.VY), math.Abs(a.Spin)
	lo := a.Radius + sim.AsteroidWallGap
	switch {
	case a.Radius < sim.AsteroidMinRadius || a.Radius > sim.AsteroidMaxRadius:
		t.Fatalf("asteroid %d: radius %v", a.ID, a.Radius)
	case v < sim.AsteroidMinSpeed-1e-9 || v > sim.AsteroidMaxSpeed+1e-9:
		t.Fatalf("asteroid %d: speed %v", a.ID, v)
	case spin < sim.AsteroidMinSpin || spin > sim.AsteroidMaxSpin:
		t.Fatalf("asteroid %d: spin %v", a.ID, a.Spin)
	case a.Angle < -math.Pi || a.Angle > math.Pi:
		t.Fatalf("asteroid %d: angle %v", a.ID, a.Angle)
	case a.X < lo || a.X > b.Width-lo || a.Y < lo || a.Y > b.Height-lo:
		t.Fatalf("asteroid %d at (%v, %v), radius %v, is outside its walls", a.ID, a.X, a.Y, a.Radius)
	case a.HP < 1 || a.HP > a.MaxHP():
		t.Fatalf("asteroid %d: HP %d", a.ID, a.HP)
	}
}

// TestAsteroidsDrift: with nobody shooting, every asteroid moves in a
// straight line at a constant velocity, except that a velocity component
// changes sign where it meets a wall.
func TestAsteroidsDrift(t *testing.T) {
	w := sim.NewSceneWorld(3, sim.Battle())
	b := w.Scene().Bounds
	linear, bounces := 0, 0
	var prev []sim.Asteroid
	const ticks = 1200 // 20 s
	for tick := range ticks {
		prev = append(prev[:0], w.Asteroids...)
		require.Empty(t, w.Step())
		require.Len(t, w.Asteroids, len(prev))
		for i := range w.Asteroids {
			a, p := &w.Asteroids[i], &prev[i]
			requireAsteroidSane(t, w, a)
			if a.ID != p.ID || a.Radius != p.Radius || a.Spin != p.Spin || a.HP != p.HP {
				t.Fatalf("tick %d: asteroid %+v became %+v", tick, *p, *a)
			}
			if d := math.Remainder(a.Angle-p.Angle-p.Spin*sim.Dt, 2*math.Pi); math.Abs(d) > 1e-12 {
				t.Fatalf("tick %d: asteroid %d turned from %v to %v at %v", tick, a.ID, p.Angle, a.Angle, p.Spin)
			}
			lo := a.Radius + sim.AsteroidWallGap
			bx, err := drifted(p.X, p.VX, a.X, a.VX, lo, b.Width-lo)
			if err != "" {
				t.Fatalf("tick %d: asteroid %d: x %s", tick, a.ID, err)
			}
			by, err := drifted(p.Y, p.VY, a.Y, a.VY, lo, b.Height-lo)
			if err != "" {
				t.Fatalf("tick %d: asteroid %d: y %s", tick, a.ID, err)
			}
			if bx || by {
				bounces++
			} else {
				linear++
			}
		}
	}
	t.Logf("%d straight moves, %d bounces", linear, bounces)
	assert.Positive(t, bounces, "some asteroids should meet the walls in 20 s")
	assert.Greater(t, linear, 1000*bounces, "bounces are rare events")
}

// drifted checks one coordinate of an asteroid's tick, from x at v to
// nx at nv, when its center turns back at lo and hi: either straight on
// at the same velocity, or a bounce at lo or hi, mirrored in it, with the
// velocity reversed. It reports whether it bounced, or what is wrong.
func drifted(x, v, nx, nv, lo, hi float64) (bounced bool, wrong string) {
	next := x + v*sim.Dt
	switch {
	case nv == v:
		if math.Abs(nx-next) > 1e-9 {
			return false, fmt.Sprintf("went from %v to %v at %v", x, nx, v)
		}
		return false, ""
	case nv != -v:
		return true, fmt.Sprintf("velocity %v became %v", v, nv)
	case next < lo && v < 0:
		if math.Abs(nx-(2*lo-next)) > 1e-9 {
			return true, fmt.Sprintf("bounced at %v from %v to %v", lo, x, nx)
		}
	case next > hi && v > 0:
		if math.Abs(nx-(2*hi-next)) > 1e-9 {
			return true, fmt.Sprintf("bounced at %v from %v to %v", hi, x, nx)
		}
	default:
		return true, fmt.Sprintf("velocity %v became %v away from the walls at %v", v, nv, nx)
	}
	return true, ""
}

// rock returns a world of a size-b scene with one asteroid, placed as
// given and whole, and its ships as added.
func rock(b sim.Bounds, x, y, vx, vy, r float64, ships ...uint32) (*sim.World, *sim.Asteroid) {
	w := sim.NewSceneWorld(1, sim.Scene{Name: "test", Bounds: b, Asteroids: 1})
	a := &w.Asteroids[0]
	a.X, a.Y, a.VX, a.VY, a.Radius = x, y, vx, vy, r
	a.HP = a.MaxHP()
	for _, id := range ships {
		w.AddShip(id).Shield = 0
	}
	return w, &w.Asteroids[0]
}

func TestAsteroidWalls(t *testing.T) {
	b := sim.Bounds{Width: 1000, Height: 800}
	const r = 30.0
	const lo = r + sim.AsteroidWallGap // where the center turns back
	for _, tc := range []struct {
		name                  string
		x, y, vx, vy          float64
		wantX, wantY, wvx, wy float64
	}{
		{"left", lo + 0.1, 400, -30, 12, lo + 0.4, 400 + 0.2, 30, 12},
		{"right", 1000 - lo - 0.1, 400, 30, -12, 1000 - lo - 0.4, 400 - 0.2, -30, -12},
		{"top", 500, lo + 0.2, 6, -36, 500.1, lo + 0.4, 6, 36},
		{"bottom", 500, 800 - lo - 0.2, -6, 36, 499.9, 800 - lo - 0.4, -6, -36},
		{"corner", lo + 0.1, lo + 0.1, -30, -30, lo + 0.4, lo + 0.4, 30, 30},
		{"not yet", lo + 0.5, 400, -30, 0, lo, 400, -30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := rock(b, tc.x, tc.y, tc.vx, tc.vy, r)
			require.Empty(t, w.Step())
			a := w.Asteroids[0]
			assert.InDelta(t, tc.wantX, a.X, 1e-9, "X")
			assert.InDelta(t, tc.wantY, a.Y, 1e-9, "Y")
			assert.Equal(t, tc.wvx, a.VX, "VX")
			assert.Equal(t, tc.wy, a.VY, "VY")
		})
	}
	// Over a long time, an asteroid stays in and keeps its speed.
	w, a := rock(b, 500, 400, 31, -23, 55)
	speed := math.Hypot(a.VX, a.VY)
	for range 20000 {
		w.Step()
		a := &w.Asteroids[0]
		requireAsteroidSane(t, w, a)
		require.Equal(t, speed, math.Hypot(a.VX, a.VY))
	}
}

// TestShootAsteroid: bullets chip an asteroid down, the last one
// destroys it, and a new one appears a while later elsewhere.
func TestShootAsteroid(t *testing.T) {
	w, a := rock(sim.Bounds{Width: 1600, Height: 1000}, 900, 500, 0, 0, 40, 1)
	id, hp := a.ID, a.MaxHP()
	require.Equal(t, 3, hp)
	s := w.Ship(1)
	s.X, s.Y, s.Angle = 600, 500, 0
	w.SetInput(1, sim.Fire)

	var destroyed []sim.Event
	shots, hits := 0, 0
	for tick := 1; destroyed == nil; tick++ {
		require.Less(t, tick, 200, "the asteroid should be destroyed by now")
		ev := w.Step()
		if w.Ship(1).Cooldown == sim.FireCooldown {
			shots++
		}
		if len(ev) > 0 {
			destroyed = ev
			break
		}
		require.Len(t, w.Asteroids, 1)
		hits = hp - w.Asteroids[0].HP
		require.Equal(t, shots-len(w.Bullets), hits, "tick %d: each bullet that is gone hit the asteroid", tick)
		require.Less(t, hits, hp)
	}
	require.Len(t, destroyed, 1)
	assert.Equal(t, sim.Event{Kind: sim.AsteroidDestroyed, Killer: 1, Asteroid: id, X: 900, Y: 500}, destroyed[0])
	assert.Empty(t, w.Asteroids, "destroyed at once")
	assert.Equal(t, hp, shots-len(w.Bullets), "it took MaxHP hits")
	s = w.Ship(1)
	assert.Equal(t, 1, s.AsteroidScore)
	assert.Zero(t, s.Score, "Score is kills only")
	assert.Zero(t, s.Deaths)

	// A new one comes AsteroidRespawnTicks later, with a new ID, away
	// from the ship.
	w.SetInput(1, 0)
	for i := 1; i < sim.AsteroidRespawnTicks; i++ {
		require.Empty(t, w.Step())
		require.Empty(t, w.Asteroids, "%d ticks after", i)
	}
	require.Empty(t, w.Step())
	require.Len(t, w.Asteroids, 1)
	n := &w.Asteroids[0]
	assert.Equal(t, id+1, n.ID, "a fresh ID")
	requireAsteroidSane(t, w, n)
	assert.Equal(t, n.MaxHP(), n.HP)
	s = w.Ship(1)
	assert.GreaterOrEqual(t, math.Hypot(n.X-s.X, n.Y-s.Y)-n.Radius-sim.ShipRadius, sim.AsteroidClearance)
}

func TestBulletsAndAsteroids(t *testing.T) {
	const r = 40.0
	reach := r + sim.BulletRadius
	for _, tc := range []struct {
		name string
		dy   float64 // the bullet's offset from the asteroid's center line
		hit  bool
	}{
		{"center", 0, true},
		{"grazes", reach - 0.01, true},
		{"grazes below", -reach + 0.01, true},
		{"misses", reach + 0.01, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := rock(sim.Bounds{Width: 1600, Height: 1000}, 900, 500, 0, 0, r, 1, 2)
			w.Ship(1).X, w.Ship(1).Y = 200, 200
			w.Ship(2).X, w.Ship(2).Y = 200, 800
			x := 900 - math.Sqrt(max(reach*reach-tc.dy*tc.dy, 0)) + 0.001
			if !tc.hit {
				x = 900
			}
			w.Bullets = append(w.Bullets, sim.Bullet{ID: 50, Owner: 2, X: x - sim.BulletSpeed*sim.Dt, Y: 500 + tc.dy, VX: sim.BulletSpeed, TTL: 20})
			require.Empty(t, w.Step())
			if tc.hit {
				assert.Empty(t, w.Bullets, "consumed")
				assert.Equal(t, w.Asteroids[0].MaxHP()-1, w.Asteroids[0].HP)
			} else {
				assert.Len(t, w.Bullets, 1, "flies on")
				assert.Equal(t, w.Asteroids[0].MaxHP(), w.Asteroids[0].HP)
			}
		})
	}

	// A bullet that would hit a ship and an asteroid at once kills the
	// ship only.
	w, _ := rock(sim.Bounds{Width: 1600, Height: 1000}, 900, 500, 0, 0, r, 1, 2)
	w.Ship(1).X, w.Ship(1).Y = 200, 200
	w.Ship(2).X, w.Ship(2).Y = 900-r-sim.ShipRadius, 500
	w.Bullets = append(w.Bullets, sim.Bullet{ID: 50, Owner: 1, X: 900 - r + 1 - sim.BulletSpeed*sim.Dt, Y: 500, VX: sim.BulletSpeed, TTL: 20})
	ev := w.Step()
	require.Len(t, ev, 1)
	assert.Equal(t, sim.Kill, ev[0].Kind)
	assert.Equal(t, w.Asteroids[0].MaxHP(), w.Asteroids[0].HP)
	assert.Empty(t, w.Bullets)
}

func TestBounce(t *testing.T) {
	a := sim.Asteroid{X: 500, Y: 500, VX: 10, VY: -5, Radius: 40}
	reach := a.Radius + sim.ShipRadius
	for _, tc := range []struct {
		name           string
		x, y, vx, vy   float64
		touch, towards bool
	}{
		{"head on", 500 - reach + 3, 500, 200, 0, true, true},
		{"from below", 505, 500 + reach - 1, 30, -250, true, true},
		{"glancing", 500 - 30, 500 - 40, 100, 100, true, true},
		{"leaving", 500 + reach - 2, 500, 300, 0, true, false},
		{"dead center", 500, 500, 0, 0, true, true},
		{"apart", 500 - reach - 0.01, 500, 300, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.Ship{X: tc.x, Y: tc.y, VX: tc.vx, VY: tc.vy, Alive: true}
			before := s
			require.Equal(t, tc.touch, a.Bounce(&s))
			if !tc.touch {
				assert.Equal(t, before, s)
				return
			}
			assert.InDelta(t, reach, math.Hypot(s.X-a.X, s.Y-a.Y), 1e-9, "pushed out to touching")
			nx, ny := (s.X-a.X)/reach, (s.Y-a.Y)/reach
			if tc.x != a.X || tc.y != a.Y {
				// Along the line between the centers.
				assert.InDelta(t, 0, (tc.x-a.X)*ny-(tc.y-a.Y)*nx, 1e-9)
				assert.Positive(t, (tc.x-a.X)*nx+(tc.y-a.Y)*ny)
			}
			vn := (before.VX-a.VX)*nx + (before.VY-a.VY)*ny
			require.Equal(t, tc.towards, vn < 0)
			gotN := (s.VX-a.VX)*nx + (s.VY-a.VY)*ny
			if tc.towards {
				assert.InDelta(t, -vn*sim.WallBounce, gotN, 1e-9, "bounces back")
			} else {
				assert.InDelta(t, vn, gotN, 1e-9, "leaves as it was")
			}
			// The tangential velocity stays.
			assert.InDelta(t, -before.VX*ny+before.VY*nx, -s.VX*ny+s.VY*nx, 1e-9)
		})
	}
}

// TestShipMeetsAsteroid: a ship flying into an asteroid never gets into
// it and does not pass through.
func TestShipMeetsAsteroid(t *testing.T) {
	const r = 50.0
	for _, tc := range []struct {
		name                 string
		offset, avx, avy     float64
		input                sim.Input
		throughBlocked, back bool
	}{
		{"head on", 0, 0, 0, sim.Thrust, true, true},
		{"off center", 30, 0, 0, sim.Thrust, false, false},
		{"rock comes", 0, -40, 0, 0, true, false},
		{"both come", 0, -40, 0, sim.Thrust, true, false},
		{"both come aslant", 10, -40, 5, sim.Thrust, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := rock(sim.Bounds{Width: 1600, Height: 1000}, 900, 500, tc.avx, tc.avy, r, 1)
			s := w.Ship(1)
			s.X, s.Y, s.Angle = 700, 500+tc.offset, 0
			w.SetInput(1, tc.input)
			touched, bounced := false, false
			for tick := range 300 {
				require.Empty(t, w.Step())
				s, a := w.Ship(1), &w.Asteroids[0]
				d := math.Hypot(s.X-a.X, s.Y-a.Y)
				require.GreaterOrEqual(t, d, r+sim.ShipRadius-1e-9, "tick %d: ship in the asteroid", tick)
				touched = touched || d < r+sim.ShipRadius+1
				bounced = bounced || s.VX < 0
				if tc.throughBlocked {
					require.Less(t, s.X, a.X, "tick %d: through the asteroid", tick)
				}
			}
			assert.True(t, touched, "the case should meet the asteroid")
			if tc.back {
				assert.True(t, bounced, "head on, it bounces back")
			}
		})
	}

	// An asteroid drifting into a wall does not crush a ship in between:
	// it turns back before.
	w, _ := rock(sim.Bounds{Width: 1600, Height: 1000}, 120, 500, -40, 0, 60, 1)
	s := w.Ship(1)
	s.X, s.Y = sim.ShipRadius+2, 505
	for tick := range 300 {
		w.Step()
		s, a := w.Ship(1), &w.Asteroids[0]
		requireInside(t, s)
		require.GreaterOrEqual(t, math.Hypot(s.X-a.X, s.Y-a.Y), a.Radius+sim.ShipRadius-1e-9, "tick %d", tick)
	}
}

func TestBattleWalls(t *testing.T) {
	b := sim.Battle().Bounds
	const r = sim.ShipRadius
	k := 1 - sim.Drag*sim.Dt
	for _, tc := range []struct {
		name           string
		x, y, vx, vy   float64
		wx, wy, wv, wu float64
	}{
		{"past the classic right wall", sim.Width - r - 1, 500, 300, 0, sim.Width - r - 1 + 300*k*sim.Dt, 500, 300 * k, 0},
		{"right", b.Width - r - 1, 500, 300, -10, b.Width - r, 500 - 10*k*sim.Dt, -300 * k * sim.WallBounce, -10 * k},
		{"bottom", 800, b.Height - r - 1, -10, 300, 800 - 10*k*sim.Dt, b.Height - r, -10 * k, -300 * k * sim.WallBounce},
		{"far corner", b.Width - r, b.Height - r, 200, 200, b.Width - r, b.Height - r, -200 * k * sim.WallBounce, -200 * k * sim.WallBounce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.Ship{X: tc.x, Y: tc.y, VX: tc.vx, VY: tc.vy, Alive: true}
			sim.StepShip(&s, b)
			assert.InDelta(t, tc.wx, s.X, eps, "X")
			assert.InDelta(t, tc.wy, s.Y, eps, "Y")
			assert.InDelta(t, tc.wv, s.VX, eps, "VX")
			assert.InDelta(t, tc.wu, s.VY, eps, "VY")
		})
	}

	// However they fly, ships in a battle stay within its walls, and
	// go beyond the classic ones; so do their bullets.
	w := sim.NewSceneWorld(11, sim.Battle())
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 16
	for id := uint32(1); id <= n; id++ {
		w.AddShip(id)
	}
	var far, farBullets bool
	for tick := range 6000 {
		if tick%15 == 0 {
			for id := uint32(1); id <= n; id++ {
				w.SetInput(id, sim.Thrust|sim.Input(rng.IntN(8))<<1)
			}
		}
		w.Step()
		for i := range w.Ships {
			s := &w.Ships[i]
			requireInsideBattle(t, s)
			far = far || s.X > sim.Width || s.Y > sim.Height
		}
		for _, bu := range w.Bullets {
			require.True(t, bu.X >= 0 && bu.X <= b.Width && bu.Y >= 0 && bu.Y <= b.Height)
			farBullets = farBullets || bu.X > sim.Width || bu.Y > sim.Height
		}
	}
	assert.True(t, far, "some ship should leave the first screen")
	assert.True(t, farBullets, "some bullet should fly beyond the first screen")

	// StepShip alone too.
	s := sim.Ship{ID: 1, X: b.Width / 2, Y: b.Height / 2, Alive: true}
	for i := range 40000 {
		if i%15 == 0 {
			s.Input = sim.Input(rng.IntN(16))
		}
		if i%1000 == 0 {
			s.VX, s.VY = rng.Float64()*2000-1000, rng.Float64()*2000-1000
		}
		sim.StepShip(&s, b)
		requireInsideBattle(t, &s)
	}
}

func requireInsideBattle(t testing.TB, s *sim.Ship) {
	t.Helper()
	b := sim.Battle().Bounds
	require.True(t, s.X >= sim.ShipRadius && s.X <= b.Width-sim.ShipRadius &&
		s.Y >= sim.ShipRadius && s.Y <= b.Height-sim.ShipRadius,
		"ship %d at (%v, %v) is outside the battle's walls", s.ID, s.X, s.Y)
}

// battle plays a battle from seed: ships 1 to n join, ship n+1 joins at
// tick 300, ship 2 leaves at tick 500, everybody follows scripted and
// fires when its script does or every other second.
func battle(seed uint64, n uint32, ticks int) (*sim.World, [][]sim.Event) {
	w := sim.NewSceneWorld(seed, sim.Battle())
	for id := uint32(1); id <= n; id++ {
		w.AddShip(id)
	}
	var events [][]sim.Event
	for t := range ticks {
		playBattleTick(w, n, t)
		events = append(events, w.Step())
	}
	return w, events
}

func playBattleTick(w *sim.World, n uint32, t int) {
	switch t {
	case 300:
		w.AddShip(n + 1)
	case 500:
		w.RemoveShip(2)
	}
	for _, s := range w.Ships {
		in := scripted(s.ID, t)
		if (t/60+int(s.ID))%2 == 0 {
			in |= sim.Fire
		}
		w.SetInput(s.ID, in)
	}
}

func TestBattleDeterminism(t *testing.T) {
	const ticks = 1500
	a, ea := battle(42, 48, ticks)
	b, eb := battle(42, 48, ticks)
	require.Equal(t, a, b, "same seed and inputs must give the same world")
	require.Equal(t, ea, eb, "same seed and inputs must give the same events")
	kinds := map[sim.EventKind]int{}
	for _, ev := range ea {
		for _, e := range ev {
			kinds[e.Kind]++
		}
	}
	t.Logf("events: %v", kinds)
	assert.Positive(t, kinds[sim.AsteroidDestroyed], "the battle should break asteroids")

	// A clone taken mid-battle continues exactly like the original, and
	// changing it does not change the original.
	c, _ := battle(42, 48, 700)
	d := c.Clone()
	require.Equal(t, c, d)
	for tick := 700; tick < 1000; tick++ {
		playBattleTick(c, 48, tick)
		playBattleTick(d, 48, tick)
		require.Equal(t, c.Step(), d.Step())
	}
	require.Equal(t, c, d)
	want := c.Clone()
	d.Asteroids[0].X, d.Asteroids[0].HP = -1, 100
	d.Asteroids = d.Asteroids[:10]
	for range 400 {
		d.Step()
	}
	require.Equal(t, want, c, "changing the clone changed the original")

	// Another seed, another field.
	x, y := sim.NewSceneWorld(1, sim.Battle()), sim.NewSceneWorld(2, sim.Battle())
	assert.NotEqual(t, x.Asteroids[0], y.Asteroids[0])
}

// TestBattleInvariants plays a battle and checks every tick: asteroid IDs
// are never reused, a destroyed asteroid is replaced AsteroidRespawnTicks
// later so the count comes back, asteroids move only as they may, new
// ones appear away from the ships, ships spawn clear of asteroids and
// end no tick inside one, and only asteroids that were there are
// destroyed.
func TestBattleInvariants(t *testing.T) {
	ticks := 2400
	if testing.Short() {
		ticks = 900
	}
	const n = 64
	w := sim.NewSceneWorld(7, sim.Battle())
	for id := uint32(1); id <= n; id++ {
		w.AddShip(id)
		requireClearOfAsteroids(t, w, w.Ship(id), sim.ShipRadius)
	}
	gone := map[uint32]bool{}
	lastID := w.Asteroids[len(w.Asteroids)-1].ID
	var destroyedAt []uint32 // ticks
	kills, respawns := 0, 0
	var prev []sim.Asteroid
	for tick := range ticks {
		playBattleTick(w, n, tick)
		prev = append(prev[:0], w.Asteroids...)
		find := func(id uint32) (*sim.Asteroid, bool) {
			i, ok := slices.BinarySearchFunc(prev, id, func(a sim.Asteroid, id uint32) int { return cmp.Compare(a.ID, id) })
			if !ok {
				return nil, false
			}
			return &prev[i], true
		}
		for _, e := range w.Step() {
			switch e.Kind {
			case sim.AsteroidDestroyed:
				p, ok := find(e.Asteroid)
				require.True(t, ok, "tick %d: unknown asteroid %d destroyed", tick, e.Asteroid)
				assert.InDelta(t, p.X+p.VX*sim.Dt, e.X, 1, "where it was")
				require.NotNil(t, w.Ship(e.Killer))
				gone[e.Asteroid] = true
				destroyedAt = append(destroyedAt, w.Tick)
			case sim.Kill:
				kills++
			case sim.Respawn:
				respawns++
				requireClearOfAsteroids(t, w, w.Ship(e.Victim), -wedged)
			default:
				t.Fatalf("tick %d: event kind %d", tick, e.Kind)
			}
		}
		missing := 0
		for _, at := range destroyedAt {
			if w.Tick-at < sim.AsteroidRespawnTicks {
				missing++
			}
		}
		require.Len(t, w.Asteroids, 1200-missing, "tick %d", tick)
		for i := range w.Asteroids {
			a := &w.Asteroids[i]
			requireAsteroidSane(t, w, a)
			if gone[a.ID] {
				t.Fatalf("tick %d: asteroid %d is back", tick, a.ID)
			}
			if i > 0 && w.Asteroids[i-1].ID >= a.ID {
				t.Fatalf("tick %d: asteroids %d and %d out of order", tick, w.Asteroids[i-1].ID, a.ID)
			}
			p, ok := find(a.ID)
			if !ok {
				require.Greater(t, a.ID, lastID, "tick %d: a new asteroid has a new ID", tick)
				lastID = a.ID
				for j := range w.Ships {
					if s := &w.Ships[j]; s.Alive {
						require.GreaterOrEqual(t, math.Hypot(a.X-s.X, a.Y-s.Y)-a.Radius-sim.ShipRadius, sim.AsteroidClearance,
							"tick %d: new asteroid %d next to ship %d", tick, a.ID, s.ID)
					}
				}
				continue
			}
			// Only the walls change velocities; otherwise, a straight
			// line.
			switch {
			case a.VX != p.VX && a.VX != -p.VX, a.VY != p.VY && a.VY != -p.VY:
				t.Fatalf("tick %d: asteroid %d: velocity (%v, %v) became (%v, %v)", tick, a.ID, p.VX, p.VY, a.VX, a.VY)
			case a.VX == p.VX && a.VY == p.VY:
				if math.Abs(p.X+p.VX*sim.Dt-a.X) > 1e-9 || math.Abs(p.Y+p.VY*sim.Dt-a.Y) > 1e-9 {
					t.Fatalf("tick %d: asteroid %d went from (%v, %v) to (%v, %v) at (%v, %v)", tick, a.ID, p.X, p.Y, a.X, a.Y, p.VX, p.VY)
				}
			}
		}
		for i := range w.Ships {
			s := &w.Ships[i]
			requireInsideBattle(t, s)
			if s.Alive {
				requireClearOfAsteroids(t, w, s, -wedged)
			}
		}
	}
	t.Logf("%d ticks: %d asteroids destroyed, %d kills, %d respawns", ticks, len(destroyedAt), kills, respawns)
	require.Positive(t, len(destroyedAt))
	require.Less(t, destroyedAt[0]+sim.AsteroidRespawnTicks, w.Tick, "a replacement should have come")
}

// wedged is how far a ship may stay in an asteroid at the end of a step:
// pushed out of one into another, in the crevice between two that
// overlap, it is not always pushed all the way out in one step.
const wedged = 4.0

// requireClearOfAsteroids checks that ship s is at least gap away from
// every asteroid.
func requireClearOfAsteroids(t testing.TB, w *sim.World, s *sim.Ship, gap float64) {
	t.Helper()
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		reach := a.Radius + sim.ShipRadius + gap
		if dx, dy := a.X-s.X, a.Y-s.Y; dx*dx+dy*dy < reach*reach {
			t.Fatalf("tick %d: ship %d at (%v, %v) and asteroid %d at (%v, %v), radius %v, are %v apart",
				w.Tick, s.ID, s.X, s.Y, a.ID, a.X, a.Y, a.Radius, math.Hypot(dx, dy)-a.Radius-sim.ShipRadius)
		}
	}
}

func TestBattleSpawn(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, badSeed()} {
		w := sim.NewSceneWorld(seed, sim.Battle())
		for id := uint32(1); id <= 256; id++ {
			s := w.AddShip(id)
			requireInsideBattle(t, s)
			requireClearOfAsteroids(t, w, s, sim.ShipRadius)
			b := w.Scene().Bounds
			assert.InDelta(t, math.Atan2(b.Height/2-s.Y, b.Width/2-s.X), s.Angle, eps, "faces the center")
		}
		for i, a := range w.Ships {
			for _, b := range w.Ships[i+1:] {
				require.GreaterOrEqual(t, math.Hypot(a.X-b.X, a.Y-b.Y), 2*sim.ShipRadius,
					"seed %#x: ships %d and %d spawned on top of each other", seed, a.ID, b.ID)
			}
		}
	}
}

// TestStepAllocations: once warmed up, a battle step allocates nothing
// but the events it returns.
func TestStepAllocations(t *testing.T) {
	// Ships that fly but do not fire: nothing happens, nothing is
	// allocated.
	w := sim.NewSceneWorld(9, sim.Battle())
	for id := uint32(1); id <= 64; id++ {
		w.AddShip(id)
	}
	tick := 0
	fly := func() {
		for _, s := range w.Ships {
			w.SetInput(s.ID, scripted(s.ID, tick)&^sim.Fire)
		}
		require.Empty(t, w.Step())
		tick++
	}
	for range 60 {
		fly()
	}
	assert.Zero(t, testing.AllocsPerRun(200, fly))

	// A battle: the events slices only.
	w, _ = battle(9, 64, 600)
	var before, after runtime.MemStats
	var events [][]sim.Event
	runtime.ReadMemStats(&before)
	for tick := 600; tick < 900; tick++ {
		playBattleTick(w, 64, tick)
		if ev := w.Step(); ev != nil {
			events = append(events, ev)
		}
	}
	runtime.ReadMemStats(&after)
	allowed := uint64(bits.Len(uint(cap(events))) + 1) // appending to events
	for _, ev := range events {
		allowed += uint64(bits.Len(uint(len(ev))) + 1) // growing ev by doubling
	}
	t.Logf("%d allocations in 300 steps, %d with events, %d allowed", after.Mallocs-before.Mallocs, len(events), allowed)
	assert.LessOrEqual(t, after.Mallocs-before.Mallocs, allowed)
	assert.NotEmpty(t, events)
}

// BenchmarkStepBattle steps a battle of 64 ships that fire all the time
// among 1,200 asteroids.
func BenchmarkStepBattle(b *testing.B) {
	benchmarkBattle(b, 64)
}

// BenchmarkStepBattle256 is BenchmarkStepBattle with 256 ships.
func BenchmarkStepBattle256(b *testing.B) {
	benchmarkBattle(b, 256)
}

func benchmarkBattle(b *testing.B, n uint32) {
	w := sim.NewSceneWorld(1, sim.Battle())
	for id := uint32(1); id <= n; id++ {
		w.AddShip(id)
	}
	tick := 0
	step := func() {
		for i := range w.Ships {
			s := &w.Ships[i]
			s.Input = scripted(s.ID, tick) | sim.Fire
		}
		w.Step()
		tick++
	}
	for range 600 { // bullets in flight, scratch grown
		step()
	}
	bullets := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
		bullets += len(w.Bullets)
	}
	b.ReportMetric(float64(bullets)/float64(b.N), "bullets/op")
}

// BenchmarkChecksumBattle256 digests a battle of 256 ships among 1,200
// asteroids, as a recording server does after every tick.
func BenchmarkChecksumBattle256(b *testing.B) {
	w := sim.NewSceneWorld(1, sim.Battle())
	for id := uint32(1); id <= 256; id++ {
		w.AddShip(id)
	}
	for tick := range 300 {
		for i := range w.Ships {
			w.Ships[i].Input = scripted(w.Ships[i].ID, tick) | sim.Fire
		}
		w.Step()
	}
	b.ReportAllocs()
	var sum uint64
	for b.Loop() {
		sum ^= w.Checksum()
	}
	_ = sum
}
