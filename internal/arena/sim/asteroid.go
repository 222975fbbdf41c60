package sim

import (
	"math"
	"slices"
)

// Asteroids. They drift in straight lines, spin, bounce off the walls
// without losing speed, and pass through each other; ships bounce off
// them; bullets chip them (hit points by size) and destroy them.
const (
	AsteroidMinRadius = 18.0
	AsteroidMaxRadius = 60.0
	AsteroidMinSpeed  = 5.0  // units per second
	AsteroidMaxSpeed  = 40.0 // units per second
	AsteroidMinSpin   = 0.1  // radians per second, either way
	AsteroidMaxSpin   = 0.6  // radians per second, either way
	// AsteroidWallGap is how far from a wall an asteroid's edge turns
	// back: a lane along the walls where a ship is never crushed between
	// an asteroid and a wall.
	AsteroidWallGap = 2*ShipRadius + 2
	// AsteroidRespawnTicks is how long after an asteroid is destroyed a
	// new one appears in its stead.
	AsteroidRespawnTicks = 5 * TickRate
	// AsteroidClearance is how far from every live ship, edge to edge, a
	// new asteroid appears, when there is such room.
	AsteroidClearance = 200.0
	// asteroidHPSize is the radius worth one hit point on top of the
	// first.
	asteroidHPSize = 15.0
	// asteroidTries is how many random places a new asteroid tries
	// before settling for the best of them.
	asteroidTries = 16
	// asteroidPasses is how many times at most a step pushes a ship out
	// of the asteroids it overlaps.
	asteroidPasses = 4
)

// Asteroid is a rock drifting through the world. Its position and
// velocity change only by its drift (X += VX*Dt each tick), by bouncing
// off a wall (a velocity component changes sign, AsteroidWallGap from the
// wall) and by being destroyed; ships do not push it.
type Asteroid struct {
	ID     uint32 // never reused within a world
	X, Y   float64
	VX, VY float64 // units per second
	Radius float64
	Angle  float64 // radians, in [-π, π]; for drawing only
	Spin   float64 // radians per second
	HP     int     // hits left, from MaxHP down; destroyed at 0
}

// MaxHP is a's hit points when whole: 1 and one more per 15 units of
// radius.
func (a *Asteroid) MaxHP() int {
	return asteroidHP(a.Radius)
}

func asteroidHP(radius float64) int {
	return 1 + int(radius/asteroidHPSize)
}

// Bounce pushes ship s out of asteroid a if they overlap, along the line
// between their centers, and if s was moving into a it bounces off like
// off a wall: its velocity relative to a loses the normal component and
// gets WallBounce of it back the other way. It reports whether they
// touched. World.Step bounces every live ship off the asteroids it
// overlaps after moving it; a client predicting its own ship can do the
// same with the asteroids it knows.
func (a *Asteroid) Bounce(s *Ship) bool {
	dx, dy := s.X-a.X, s.Y-a.Y
	reach := a.Radius + ShipRadius
	if dx*dx+dy*dy >= reach*reach {
		return false
	}
	d := math.Hypot(dx, dy)
	nx, ny := 1.0, 0.0 // dead center: out to the right
	if d > 0 {
		nx, ny = dx/d, dy/d
	}
	s.X, s.Y = a.X+nx*reach, a.Y+ny*reach
	if vn := (s.VX-a.VX)*nx + (s.VY-a.VY)*ny; vn < 0 {
		s.VX -= (1 + WallBounce) * vn * nx
		s.VY -= (1 + WallBounce) * vn * ny
	}
	return true
}

// moveAsteroids drifts and spins the asteroids and bounces them off the
// walls.
func (w *World) moveAsteroids() {
	b := w.scene.Bounds
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		a.X += a.VX * Dt
		a.Y += a.VY * Dt
		a.Angle += a.Spin * Dt
		switch { // a tick's spin is far less than a turn
		case a.Angle > math.Pi:
			a.Angle -= 2 * math.Pi
		case a.Angle < -math.Pi:
			a.Angle += 2 * math.Pi
		}
		a.X, a.VX = bounceWall(a.X, a.VX, a.Radius+AsteroidWallGap, b.Width-a.Radius-AsteroidWallGap)
		a.Y, a.VY = bounceWall(a.Y, a.VY, a.Radius+AsteroidWallGap, b.Height-a.Radius-AsteroidWallGap)
	}
}

// bounceWall returns coordinate x and velocity v bounced off lo or hi if
// x is past it. It mirrors the position as well as the velocity, so that
// the bounce is exact, as if it happened during the tick.
func bounceWall(x, v, lo, hi float64) (float64, float64) {
	switch {
	case x < lo:
		return 2*lo - x, math.Abs(v)
	case x > hi:
		return 2*hi - x, -math.Abs(v)
	}
	return x, v
}

// collideAsteroids registers the asteroids in the grid and bounces the
// live ships off those they overlap.
func (w *World) collideAsteroids() {
	if len(w.Asteroids) == 0 {
		return
	}
	g := &w.scratch.rocks
	g.begin(w.scene.Bounds)
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		// Reach ShipRadius past the rock, more than BulletRadius: one
		// cell then holds every asteroid that a ship or a bullet
		// centered in it can touch.
		g.add(a.X, a.Y, a.Radius+ShipRadius)
	}
	g.finish()
	for i := range w.Ships {
		s := &w.Ships[i]
		if !s.Alive {
			continue
		}
		// Pushed out of one asteroid, a ship can end up in another that
		// overlaps it: a few passes settle it.
		near := g.at(s.X, s.Y)
		for range asteroidPasses {
			moved := false
			for _, j := range near {
				moved = bounceShip(s, &w.Asteroids[j], w.scene.Bounds) || moved
			}
			if !moved {
				break
			}
		}
	}
}

// bounceShip bounces s off a (Asteroid.Bounce), keeps it inside the
// walls of b and reports whether they touched.
func bounceShip(s *Ship, a *Asteroid, b Bounds) bool {
	if !a.Bounce(s) {
		return false
	}
	clampToWalls(s, b)
	return true
}

// shootAsteroid applies bullet b to the first asteroid it is in, if any,
// and reports whether it hit one. An asteroid at 0 HP is destroyed: its
// shooter scores, an AsteroidDestroyed event is added, and its
// replacement is due AsteroidRespawnTicks later. The destroyed asteroid
// stays in w.Asteroids, at 0 HP, until the end of the step.
func (w *World) shootAsteroid(b *Bullet, events []Event) ([]Event, bool) {
	for _, j := range w.scratch.rocks.at(b.X, b.Y) {
		a := &w.Asteroids[j]
		if a.HP <= 0 || math.Hypot(a.X-b.X, a.Y-b.Y) >= a.Radius+BulletRadius {
			continue
		}
		if a.HP--; a.HP == 0 {
			if k := w.Ship(b.Owner); k != nil {
				k.AsteroidScore++
			}
			events = append(events, Event{Kind: AsteroidDestroyed, Killer: b.Owner, Asteroid: a.ID, X: a.X, Y: a.Y})
			w.asteroidsDue = append(w.asteroidsDue, w.Tick+AsteroidRespawnTicks)
		}
		return events, true
	}
	return events, false
}

// replaceAsteroids removes the destroyed asteroids and adds those due.
func (w *World) replaceAsteroids() {
	w.Asteroids = slices.DeleteFunc(w.Asteroids, func(a Asteroid) bool { return a.HP <= 0 })
	n := 0
	for n < len(w.asteroidsDue) && int32(w.Tick-w.asteroidsDue[n]) >= 0 { // due, even across a wrap of Tick
		w.addAsteroid()
		n++
	}
	if n > 0 {
		w.asteroidsDue = w.asteroidsDue[:copy(w.asteroidsDue, w.asteroidsDue[n:])]
	}
}

// addAsteroid adds a whole asteroid with a new ID, of random size, speed,
// heading and spin, at a random place at least AsteroidClearance from the
// live ships and clear of the other asteroids. When a few tries find no
// such place, it takes the one farthest from the ships.
func (w *World) addAsteroid() {
	b := w.scene.Bounds
	u := w.rand()
	r := AsteroidMinRadius + (AsteroidMaxRadius-AsteroidMinRadius)*u*u // small ones are commoner
	r = min(r, b.Width/2-AsteroidWallGap, b.Height/2-AsteroidWallGap)  // a small custom scene
	lo := r + AsteroidWallGap
	var x, y float64
	bestC := math.Inf(-1)
	for range asteroidTries {
		cx := lo + w.rand()*(b.Width-2*lo)
		cy := lo + w.rand()*(b.Height-2*lo)
		c := w.shipClearance(cx, cy) - r
		if c >= AsteroidClearance && !w.onAsteroid(cx, cy, r) {
			x, y = cx, cy
			break
		}
		if c > bestC {
			x, y, bestC = cx, cy, c
		}
	}
	heading := 2 * math.Pi * w.rand()
	speed := AsteroidMinSpeed + (AsteroidMaxSpeed-AsteroidMinSpeed)*w.rand()
	spin := AsteroidMinSpin + (AsteroidMaxSpin-AsteroidMinSpin)*w.rand()
	if w.scene.Calm {
		speed, spin = 0, 0
	}
	if w.rand() < 0.5 {
		spin = -spin
	}
	w.nextAsteroid++
	w.Asteroids = append(w.Asteroids, Asteroid{
		ID: w.nextAsteroid, X: x, Y: y,
		VX: speed * math.Cos(heading), VY: speed * math.Sin(heading),
		Radius: r, Angle: 2*math.Pi*w.rand() - math.Pi, Spin: spin,
		HP: asteroidHP(r),
	})
}

// shipClearance returns the distance from (x, y) to the nearest live
// ship's edge, +Inf when there is none.
func (w *World) shipClearance(x, y float64) float64 {
	d := math.Inf(1)
	for i := range w.Ships {
		s := &w.Ships[i]
		if s.Alive {
			d = min(d, math.Hypot(s.X-x, s.Y-y)-ShipRadius)
		}
	}
	return d
}

// onAsteroid reports whether a disc of radius r at (x, y) overlaps an
// asteroid.
func (w *World) onAsteroid(x, y, r float64) bool {
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		dx, dy, reach := a.X-x, a.Y-y, a.Radius+r
		if a.HP > 0 && dx*dx+dy*dy < reach*reach {
			return true
		}
	}
	return false
}
