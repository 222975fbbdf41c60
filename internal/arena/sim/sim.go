// Package sim is the arena game's simulation: ships that rotate, thrust
// and fire in a walled arena, bullets, collisions, kills, respawns and
// scores. It is pure and deterministic: no graphics, no network, no clock,
// no global state; a World steps by a fixed tick, and the same inputs give
// the same world. The server runs the authoritative World; clients run
// StepShip alone to predict their own ship.
//
// A world is made for a Scene, which sets its size and its asteroids.
// The Classic scene (NewWorld) is one screen, Width by Height, with no
// asteroids. The Battle scene is 4 by 4 screens with 1,200 asteroids that
// drift in straight lines, bounce off the walls, stop ships and bullets,
// and break after a few hits, to be replaced elsewhere a while later.
// Scenes have names (SceneByName), so a client told the name knows the
// Bounds to give StepShip. Collisions go through a uniform grid, so that
// a step stays cheap with hundreds of ships, a thousand asteroids and as
// many bullets, and once warmed up a step allocates nothing but the
// events it returns.
package sim

import (
	"fmt"
	"math"
	"slices"
)

// Constants of the arena. Distances are in world units (the play window
// shows one unit as 0.8 pixel), times in ticks of 1/60 s. Width and
// Height are the classic scene's; other scenes have their own Bounds.
const (
	TickRate     = 60
	Dt           = 1.0 / TickRate
	Width        = 1600.0
	Height       = 1000.0
	ShipRadius   = 16.0
	TurnRate     = 4.2   // radians per second
	Accel        = 420.0 // thrust, units per second squared
	Drag         = 0.9   // fraction of velocity lost per second
	MaxSpeed     = 480.0
	WallBounce   = 0.5 // share of speed kept bouncing off a wall
	BulletSpeed  = 760.0
	BulletLife   = 75 // ticks
	BulletRadius = 3.0
	FireCooldown = 14 // ticks between shots
	RespawnTicks = 120
	// ShieldTicks is the spawn protection: a (re)spawned ship takes no
	// hits for 2.5 s, long enough to get away from whoever is near, or
	// until it fires.
	ShieldTicks = 150
	KillScore   = 1
	// LaserCooldown is the ticks between laser shots, LaserRange how far
	// a beam reaches (unless an asteroid or a wall stops it first). The
	// laser is a hitscan weapon: it hits at once along its beam, and the
	// arena's server judges it against the world as the shooter saw it
	// (package lagcomp).
	LaserCooldown = 45
	LaserRange    = 900.0
)

// Input is a player's buttons for one tick.
type Input uint8

// Buttons.
const (
	Thrust Input = 1 << iota
	Left
	Right
	Fire
	Laser
)

// Buttons is every button: an Input with another bit is not one.
const Buttons = Thrust | Left | Right | Fire | Laser

// Ship is a player's ship.
type Ship struct {
	ID        uint32
	X, Y      float64
	VX, VY    float64
	Angle     float64 // radians, 0 points right, positive turns clockwise on screen
	Alive     bool
	RespawnIn int // ticks until respawn while dead
	Shield    int // ticks of spawn protection left (firing ends it)
	Cooldown  int // ticks until the gun is ready
	Score     int
	Deaths    int
	// AsteroidScore counts the asteroids the ship destroyed; it is apart
	// from Score, which counts kills.
	AsteroidScore int
	Input         Input // buttons held this tick
	// LaserCool is the ticks until the laser is ready; Lasered reports
	// whether the ship fired its laser in its last step.
	LaserCool int
	Lasered   bool
	// Paused makes the next Step leave the ship as it is (World.Pause).
	Paused bool
}

// Bullet is a shot in flight.
type Bullet struct {
	ID     uint32
	Owner  uint32
	X, Y   float64
	VX, VY float64
	TTL    int
}

// EventKind tells what happened in a tick.
type EventKind uint8

// Event kinds.
const (
	Kill EventKind = iota + 1
	Respawn
	AsteroidDestroyed
	// LaserFired is a ship firing its laser (Killer) from (X, Y) at
	// Angle: the game judges what it hits (World.BeamLength, World.Kill).
	LaserFired
)

// Event is something that happened during a step.
type Event struct {
	Kind     EventKind
	Killer   uint32 // for Kill and AsteroidDestroyed: the shooter
	Victim   uint32 // the ship killed or respawned
	Asteroid uint32 // for AsteroidDestroyed: the asteroid's ID
	X, Y     float64
	Angle    float64 // for LaserFired: the beam's direction
}

// World is the whole game state. Make one with NewWorld or
// NewSceneWorld.
type World struct {
	Tick      uint32
	Ships     []Ship // ordered by ID
	Bullets   []Bullet
	Asteroids []Asteroid // ordered by ID

	scene        Scene
	nextBullet   uint32
	nextAsteroid uint32   // the last asteroid ID given
	asteroidsDue []uint32 // ticks at which replacements are due, in order
	rng          uint64
	scratch      scratch
}

// scratch is what a step uses and throws away. Between steps its slices
// are empty, keeping their memory for the next step.
type scratch struct {
	ships grid    // live ships by center
	rocks grid    // asteroids, by their reach for ships and bullets
	near  []int32 // ship indices, for one ship's neighbors
}

func (s *scratch) reset() {
	s.ships.reset()
	s.rocks.reset()
	s.near = s.near[:0]
}

func (s *scratch) detached() scratch {
	return scratch{ships: s.ships.detached(), rocks: s.rocks.detached(), near: s.near[:0:0]}
}

// NewWorld returns an empty classic arena whose random choices (spawn
// points) follow seed. It is NewSceneWorld(seed, Classic()).
func NewWorld(seed uint64) *World {
	return NewSceneWorld(seed, Classic())
}

// NewSceneWorld returns a world of scene sc with its asteroids and no
// ships; its random choices (spawn points, asteroids) follow seed. It
// panics if sc is too small for a ship to spawn in (under 8 ship radii
// either way) or has a negative number of asteroids.
func NewSceneWorld(seed uint64, sc Scene) *World {
	if !(sc.Width >= 8*ShipRadius && sc.Height >= 8*ShipRadius) || sc.Asteroids < 0 {
		panic(fmt.Sprintf("sim: bad scene %q: %v by %v with %d asteroids", sc.Name, sc.Width, sc.Height, sc.Asteroids))
	}
	rng := seed*0x9E3779B97F4A7C15 + 1
	if rng == 0 { // xorshift would be stuck at zero
		rng = 0x9E3779B97F4A7C15
	}
	w := &World{scene: sc, rng: rng}
	if sc.Asteroids > 0 {
		w.Asteroids = make([]Asteroid, 0, sc.Asteroids)
	}
	for range sc.Asteroids {
		w.addAsteroid()
	}
	return w
}

// Scene returns the scene the world was made for.
func (w *World) Scene() Scene {
	return w.scene
}

// rand returns a pseudo-random number in [0, 1) (xorshift64*).
func (w *World) rand() float64 {
	w.rng ^= w.rng >> 12
	w.rng ^= w.rng << 25
	w.rng ^= w.rng >> 27
	return float64((w.rng*0x2545F4914F6CDD1D)>>11) / (1 << 53)
}

// Clone returns a deep copy.
func (w *World) Clone() *World {
	c := *w
	c.Ships = slices.Clone(w.Ships)
	c.Bullets = slices.Clone(w.Bullets)
	c.Asteroids = slices.Clone(w.Asteroids)
	c.asteroidsDue = slices.Clone(w.asteroidsDue)
	c.scratch = w.scratch.detached()
	return &c
}

// Ship returns the ship with the given id, or nil.
func (w *World) Ship(id uint32) *Ship {
	i, ok := slices.BinarySearchFunc(w.Ships, id, func(s Ship, id uint32) int { return cmpU32(s.ID, id) })
	if !ok {
		return nil
	}
	return &w.Ships[i]
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AddShip adds a ship for player id at a free spot and returns it. Adding
// an id twice returns the existing ship.
func (w *World) AddShip(id uint32) *Ship {
	if s := w.Ship(id); s != nil {
		return s
	}
	i, _ := slices.BinarySearchFunc(w.Ships, id, func(s Ship, id uint32) int { return cmpU32(s.ID, id) })
	w.Ships = slices.Insert(w.Ships, i, Ship{ID: id})
	s := &w.Ships[i]
	w.spawn(s)
	return s
}

// RemoveShip removes player id's ship and its bullets.
func (w *World) RemoveShip(id uint32) {
	w.Ships = slices.DeleteFunc(w.Ships, func(s Ship) bool { return s.ID == id })
	w.Bullets = slices.DeleteFunc(w.Bullets, func(b Bullet) bool { return b.Owner == id })
}

// SetInput sets the buttons player id holds from now on.
func (w *World) SetInput(id uint32, in Input) {
	if s := w.Ship(id); s != nil {
		s.Input = in
	}
}

// Spawning: a ship spawns at the best of spawnTries random spots clear
// of asteroids (by spawnGap at least), drawing up to spawnMaxTries spots
// to find them.
const (
	spawnTries    = 8
	spawnMaxTries = 64
	spawnGap      = ShipRadius
)

// spawn places s alive at the spot farthest from the other ships among a
// few random ones clear of asteroids, facing the arena's center. (In a
// world so full of asteroids that no spot is found, it places s at the
// center, to be pushed out of whatever asteroid is there.)
func (w *World) spawn(s *Ship) {
	b := w.scene.Bounds
	best, bestD := [2]float64{b.Width / 2, b.Height / 2}, -1.0
	for tries, free := 0, 0; free < spawnTries && tries < spawnMaxTries; tries++ {
		x := ShipRadius*4 + w.rand()*(b.Width-ShipRadius*8)
		y := ShipRadius*4 + w.rand()*(b.Height-ShipRadius*8)
		if w.onAsteroid(x, y, ShipRadius+spawnGap) {
			continue
		}
		free++
		d := math.Inf(1)
		for i := range w.Ships {
			o := &w.Ships[i]
			if o.ID == s.ID || !o.Alive {
				continue
			}
			d = math.Min(d, math.Hypot(o.X-x, o.Y-y))
		}
		if d > bestD {
			best, bestD = [2]float64{x, y}, d
		}
	}
	s.X, s.Y = best[0], best[1]
	s.VX, s.VY = 0, 0
	s.Angle = math.Atan2(b.Height/2-s.Y, b.Width/2-s.X)
	s.Alive, s.RespawnIn, s.Shield, s.Cooldown, s.LaserCool, s.Lasered, s.Paused = true, 0, ShieldTicks, 0, 0, false, false
}

// StepShip advances one ship by one tick under its Input: turning,
// thrust, drag, speed limit, movement and the walls of a world of bounds
// b (its Scene's). It is the part of the simulation a client predicts for
// its own ship; asteroids are not in it (see Asteroid.Bounce).
func StepShip(s *Ship, b Bounds) {
	if !s.Alive {
		return
	}
	if s.Input&Left != 0 {
		s.Angle -= TurnRate * Dt
	}
	if s.Input&Right != 0 {
		s.Angle += TurnRate * Dt
	}
	s.Angle = math.Remainder(s.Angle, 2*math.Pi)
	if s.Input&Thrust != 0 {
		s.VX += math.Cos(s.Angle) * Accel * Dt
		s.VY += math.Sin(s.Angle) * Accel * Dt
	}
	s.VX -= s.VX * Drag * Dt
	s.VY -= s.VY * Drag * Dt
	if v := math.Hypot(s.VX, s.VY); v > MaxSpeed {
		s.VX *= MaxSpeed / v
		s.VY *= MaxSpeed / v
	}
	s.X += s.VX * Dt
	s.Y += s.VY * Dt
	switch {
	case s.X < ShipRadius:
		s.X, s.VX = ShipRadius, -s.VX*WallBounce
	case s.X > b.Width-ShipRadius:
		s.X, s.VX = b.Width-ShipRadius, -s.VX*WallBounce
	}
	switch {
	case s.Y < ShipRadius:
		s.Y, s.VY = ShipRadius, -s.VY*WallBounce
	case s.Y > b.Height-ShipRadius:
		s.Y, s.VY = b.Height-ShipRadius, -s.VY*WallBounce
	}
	if s.Cooldown > 0 {
		s.Cooldown--
	}
	if s.Shield > 0 {
		s.Shield--
	}
	s.Lasered = false
	if s.LaserCool > 0 {
		s.LaserCool--
	}
	if s.Input&Laser != 0 && s.LaserCool == 0 {
		// The laser fires this tick, from where the ship now is.
		s.LaserCool, s.Lasered, s.Shield = LaserCooldown, true, 0
	}
	if s.Input&Fire != 0 && s.Cooldown == 0 {
		// It fires this tick (World.Step): a ship that shoots is fair
		// game.
		s.Shield = 0
	}
}

// Step advances the world by one tick and returns what happened. A tick
// drifts the asteroids, moves, respawns and fires the ships, pushes
// overlapping ships apart and ships out of asteroids, moves the bullets
// into whatever they hit, and replaces the asteroids due.
func (w *World) Step() []Event {
	var events []Event
	w.Tick++
	w.moveAsteroids()
	for i := range w.Ships {
		s := &w.Ships[i]
		if !s.Alive {
			if s.RespawnIn--; s.RespawnIn <= 0 {
				w.spawn(s)
				events = append(events, Event{Kind: Respawn, Victim: s.ID, X: s.X, Y: s.Y})
			}
			continue
		}
		if s.Paused {
			s.Paused = false
			continue
		}
		events = w.moveShip(s, events)
	}
	w.collideShips()
	w.collideAsteroids()
	events = w.moveBullets(events)
	w.replaceAsteroids()
	w.scratch.reset()
	return events
}

// moveShip steps live ship s under its Input and fires what it fires.
func (w *World) moveShip(s *Ship, events []Event) []Event {
	StepShip(s, w.scene.Bounds)
	if s.Lasered {
		events = append(events, Event{Kind: LaserFired, Killer: s.ID, X: s.X, Y: s.Y, Angle: s.Angle})
	}
	if s.Input&Fire != 0 && s.Cooldown == 0 {
		s.Cooldown = FireCooldown
		w.nextBullet++
		cx, cy := math.Cos(s.Angle), math.Sin(s.Angle)
		w.Bullets = append(w.Bullets, Bullet{
			ID: w.nextBullet, Owner: s.ID,
			X: s.X + cx*(ShipRadius+BulletRadius+1), Y: s.Y + cy*(ShipRadius+BulletRadius+1),
			VX: s.VX + cx*BulletSpeed, VY: s.VY + cy*BulletSpeed,
			TTL: BulletLife,
		})
	}
	return events
}

// Pause makes the next Step leave player id's ship as it is: it neither
// moves nor fires (a live ship; a dead one's respawn goes on). A server
// pauses a ship whose player's next input has not come, rather than
// repeat an input the player may not have held: each input the player
// sent then moves the ship exactly once, as the player predicted.
func (w *World) Pause(id uint32) {
	if s := w.Ship(id); s != nil && s.Alive {
		s.Paused = true
	}
}

// Extra moves player id's live ship by one tick under input in, outside
// a Step, and returns what it fired (a LaserFired event; a bullet joins
// the world): a server that applies two of a player's inputs in one tick
// applies the first with Extra. Collisions wait for the next Step.
func (w *World) Extra(id uint32, in Input) []Event {
	s := w.Ship(id)
	if s == nil || !s.Alive {
		return nil
	}
	s.Input = in
	return w.moveShip(s, nil)
}

// shipSlack is how far, beyond touching, collideShips looks for the
// neighbors of a ship: room for the pushes of the same step to move
// ships before their pair comes up.
const shipSlack = 4 * ShipRadius

// indexLive registers the live ships in the ship grid by their centers.
func (w *World) indexLive() {
	g := &w.scratch.ships
	g.begin(w.scene.Bounds)
	for i := range w.Ships {
		if s := &w.Ships[i]; s.Alive {
			g.add(s.X, s.Y, 0)
		} else {
			g.skip()
		}
	}
	g.finish()
}

// collideShips pushes overlapping live ships apart and exchanges their
// velocities along the line between them. Pairs go in the order of a
// loop over all pairs, (i, j) for i < j, each seeing the pushes before
// it; the grid only spares the pairs too far apart to touch (unless the
// pushes of the step move two ships more than shipSlack towards each
// other before their pair comes up, which takes a pile of several ships).
func (w *World) collideShips() {
	w.indexLive()
	g := &w.scratch.ships
	for i := range w.Ships {
		a := &w.Ships[i]
		if !a.Alive {
			continue
		}
		near := w.scratch.near[:0]
		x0, y0, x1, y1 := g.cells(a.X, a.Y, 2*ShipRadius+shipSlack)
		for cy := y0; cy <= y1; cy++ {
			for cx := x0; cx <= x1; cx++ {
				for _, j := range g.cell(cx, cy) {
					if int(j) > i {
						near = append(near, j)
					}
				}
			}
		}
		slices.Sort(near)
		w.scratch.near = near
		for _, j := range near {
			collidePair(a, &w.Ships[j], w.scene.Bounds)
		}
	}
}

// collidePair pushes two overlapping ships apart, keeps them within the
// walls, and exchanges their velocities along the line between them.
func collidePair(a, b *Ship, bounds Bounds) {
	dx, dy := b.X-a.X, b.Y-a.Y
	d := math.Hypot(dx, dy)
	if d >= 2*ShipRadius || d == 0 {
		return
	}
	nx, ny := dx/d, dy/d
	push := (2*ShipRadius - d) / 2
	a.X, a.Y = a.X-nx*push, a.Y-ny*push
	b.X, b.Y = b.X+nx*push, b.Y+ny*push
	clampToWalls(a, bounds)
	clampToWalls(b, bounds)
	// Exchange the velocity components along the normal.
	va := a.VX*nx + a.VY*ny
	vb := b.VX*nx + b.VY*ny
	if va-vb > 0 {
		a.VX += (vb - va) * nx
		a.VY += (vb - va) * ny
		b.VX += (va - vb) * nx
		b.VY += (va - vb) * ny
	}
}

// clampToWalls keeps a pushed ship's center inside the walls of b.
func clampToWalls(s *Ship, b Bounds) {
	s.X = min(max(s.X, ShipRadius), b.Width-ShipRadius)
	s.Y = min(max(s.Y, ShipRadius), b.Height-ShipRadius)
}

// moveBullets moves the bullets, expires them at walls and at the end of
// their life, kills the ships they hit and chips the asteroids they hit.
func (w *World) moveBullets(events []Event) []Event {
	w.indexLive() // where the pushes left the ships
	bounds := w.scene.Bounds
	live := w.Bullets[:0]
	for _, b := range w.Bullets {
		b.X += b.VX * Dt
		b.Y += b.VY * Dt
		b.TTL--
		if b.TTL <= 0 || b.X < 0 || b.X > bounds.Width || b.Y < 0 || b.Y > bounds.Height {
			continue
		}
		if i := w.shipHit(&b); i >= 0 {
			events = append(events, w.kill(&w.Ships[i], b.Owner))
			continue
		}
		var hit bool
		if events, hit = w.shootAsteroid(&b, events); hit {
			continue
		}
		live = append(live, b)
	}
	clear(w.Bullets[len(live):])
	w.Bullets = live
	return events
}

// shipHit returns the index of the first ship, in ID order, that bullet b
// hits: a live, unshielded ship other than its owner, within reach. It
// returns -1 if there is none.
func (w *World) shipHit(b *Bullet) int {
	g := &w.scratch.ships
	hit := -1
	x0, y0, x1, y1 := g.cells(b.X, b.Y, ShipRadius+BulletRadius)
	for cy := y0; cy <= y1; cy++ {
		for cx := x0; cx <= x1; cx++ {
			for _, j := range g.cell(cx, cy) {
				if hit >= 0 && int(j) >= hit {
					break // a cell's ships are in order
				}
				s := &w.Ships[j]
				if !s.Alive || s.ID == b.Owner || s.Shield > 0 {
					continue
				}
				if math.Hypot(s.X-b.X, s.Y-b.Y) < ShipRadius+BulletRadius {
					hit = int(j)
					break
				}
			}
		}
	}
	return hit
}

// kill kills ship s, shot by killer, and returns the Kill event.
func (w *World) kill(s *Ship, killer uint32) Event {
	s.Alive, s.RespawnIn, s.Input, s.Lasered = false, RespawnTicks, 0, false
	s.Deaths++
	if k := w.Ship(killer); k != nil {
		k.Score += KillScore
	}
	return Event{Kind: Kill, Killer: killer, Victim: s.ID, X: s.X, Y: s.Y}
}

// Kill kills ship victim, hit by killer's laser, if it can be hit (alive,
// unshielded, not the killer's own), and returns the Kill event.
func (w *World) Kill(victim, killer uint32) (Event, bool) {
	s := w.Ship(victim)
	if s == nil || !s.Alive || s.Shield > 0 || victim == killer {
		return Event{}, false
	}
	return w.kill(s, killer), true
}

// BeamLength returns how far a laser beam from (x, y) at angle reaches:
// LaserRange, or less where it leaves the world or meets an asteroid.
// Ships do not stop it here: the game judges which ship it hits.
func (w *World) BeamLength(x, y, angle float64) float64 {
	dx, dy := math.Cos(angle), math.Sin(angle)
	length := BeamReach(w.scene.Bounds, x, y, angle)
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		if d, ok := rayCircle(x, y, dx, dy, a.X, a.Y, a.Radius); ok && d < length {
			length = d
		}
	}
	return length
}

// BeamReach returns how far a laser beam from (x, y) at angle reaches in
// a world of bounds b, asteroids and ships aside: LaserRange, or less
// where it leaves the world.
func BeamReach(b Bounds, x, y, angle float64) float64 {
	dx, dy := math.Cos(angle), math.Sin(angle)
	length := LaserRange
	if dx > 0 {
		length = math.Min(length, (b.Width-x)/dx)
	} else if dx < 0 {
		length = math.Min(length, -x/dx)
	}
	if dy > 0 {
		length = math.Min(length, (b.Height-y)/dy)
	} else if dy < 0 {
		length = math.Min(length, -y/dy)
	}
	return math.Max(length, 0)
}

// rayCircle returns where the ray from (x, y) along the unit vector
// (dx, dy) first meets the circle at (cx, cy) of radius r: 0 from
// inside.
func rayCircle(x, y, dx, dy, cx, cy, r float64) (float64, bool) {
	ox, oy := cx-x, cy-y
	along := ox*dx + oy*dy
	d2 := ox*ox + oy*oy - along*along
	if d2 > r*r {
		return 0, false
	}
	if ox*ox+oy*oy <= r*r {
		return 0, true
	}
	if along < 0 {
		return 0, false
	}
	return along - math.Sqrt(r*r-d2), true
}
