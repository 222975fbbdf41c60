// Package sim is the arena game's simulation: ships that rotate, thrust
// and fire in a walled arena, bullets, collisions, kills, respawns and
// scores. It is pure and deterministic: no graphics, no network, no clock,
// no global state; a World steps by a fixed tick, and the same inputs give
// the same world. The server runs the authoritative World; clients run
// StepShip alone to predict their own ship.
package sim

import (
	"math"
	"slices"
)

// Constants of the arena. Distances are in world units (the play window
// shows one unit as 0.8 pixel), times in ticks of 1/60 s.
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
)

// Input is a player's buttons for one tick.
type Input uint8

// Buttons.
const (
	Thrust Input = 1 << iota
	Left
	Right
	Fire
)

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
	Input     Input // buttons held this tick
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
)

// Event is something that happened during a step.
type Event struct {
	Kind   EventKind
	Killer uint32 // for Kill
	Victim uint32 // the ship killed or respawned
	X, Y   float64
}

// World is the whole game state.
type World struct {
	Tick       uint32
	Ships      []Ship // ordered by ID
	Bullets    []Bullet
	nextBullet uint32
	rng        uint64
}

// NewWorld returns an empty arena whose random choices (spawn points)
// follow seed.
func NewWorld(seed uint64) *World {
	rng := seed*0x9E3779B97F4A7C15 + 1
	if rng == 0 { // xorshift would be stuck at zero
		rng = 0x9E3779B97F4A7C15
	}
	return &World{rng: rng}
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

// spawn places s alive at the free spot farthest from the other ships
// among a few random candidates, facing the arena's center.
func (w *World) spawn(s *Ship) {
	best, bestD := [2]float64{Width / 2, Height / 2}, -1.0
	for range 8 {
		x := ShipRadius*4 + w.rand()*(Width-ShipRadius*8)
		y := ShipRadius*4 + w.rand()*(Height-ShipRadius*8)
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
	s.Angle = math.Atan2(Height/2-s.Y, Width/2-s.X)
	s.Alive, s.RespawnIn, s.Shield, s.Cooldown = true, 0, ShieldTicks, 0
}

// StepShip advances one ship by one tick under its Input: turning,
// thrust, drag, speed limit, movement and walls. It is the part of the
// simulation a client predicts for its own ship.
func StepShip(s *Ship) {
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
	case s.X > Width-ShipRadius:
		s.X, s.VX = Width-ShipRadius, -s.VX*WallBounce
	}
	switch {
	case s.Y < ShipRadius:
		s.Y, s.VY = ShipRadius, -s.VY*WallBounce
	case s.Y > Height-ShipRadius:
		s.Y, s.VY = Height-ShipRadius, -s.VY*WallBounce
	}
	if s.Cooldown > 0 {
		s.Cooldown--
	}
	if s.Shield > 0 {
		s.Shield--
	}
	if s.Input&Fire != 0 && s.Cooldown == 0 {
		// It fires this tick (World.Step): a ship that shoots is fair
		// game.
		s.Shield = 0
	}
}

// Step advances the world by one tick and returns what happened.
func (w *World) Step() []Event {
	var events []Event
	w.Tick++
	for i := range w.Ships {
		s := &w.Ships[i]
		if !s.Alive {
			if s.RespawnIn--; s.RespawnIn <= 0 {
				w.spawn(s)
				events = append(events, Event{Kind: Respawn, Victim: s.ID, X: s.X, Y: s.Y})
			}
			continue
		}
		StepShip(s)
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
	}
	w.collideShips()
	events = w.moveBullets(events)
	return events
}

// collideShips pushes overlapping live ships apart and exchanges their
// velocities along the line between them.
func (w *World) collideShips() {
	for i := range w.Ships {
		a := &w.Ships[i]
		if !a.Alive {
			continue
		}
		for j := i + 1; j < len(w.Ships); j++ {
			b := &w.Ships[j]
			if !b.Alive {
				continue
			}
			dx, dy := b.X-a.X, b.Y-a.Y
			d := math.Hypot(dx, dy)
			if d >= 2*ShipRadius || d == 0 {
				continue
			}
			nx, ny := dx/d, dy/d
			push := (2*ShipRadius - d) / 2
			a.X, a.Y = a.X-nx*push, a.Y-ny*push
			b.X, b.Y = b.X+nx*push, b.Y+ny*push
			clampToWalls(a)
			clampToWalls(b)
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
	}
}

// clampToWalls keeps a pushed ship's center inside the walls.
func clampToWalls(s *Ship) {
	s.X = min(max(s.X, ShipRadius), Width-ShipRadius)
	s.Y = min(max(s.Y, ShipRadius), Height-ShipRadius)
}

// moveBullets moves the bullets, expires them at walls and at the end of
// their life, and kills the ships they hit.
func (w *World) moveBullets(events []Event) []Event {
	live := w.Bullets[:0]
	for _, b := range w.Bullets {
		b.X += b.VX * Dt
		b.Y += b.VY * Dt
		b.TTL--
		if b.TTL <= 0 || b.X < 0 || b.X > Width || b.Y < 0 || b.Y > Height {
			continue
		}
		hit := false
		for i := range w.Ships {
			s := &w.Ships[i]
			if !s.Alive || s.ID == b.Owner || s.Shield > 0 {
				continue
			}
			if math.Hypot(s.X-b.X, s.Y-b.Y) < ShipRadius+BulletRadius {
				s.Alive, s.RespawnIn, s.Input = false, RespawnTicks, 0
				s.Deaths++
				if k := w.Ship(b.Owner); k != nil {
					k.Score += KillScore
				}
				events = append(events, Event{Kind: Kill, Killer: b.Owner, Victim: s.ID, X: s.X, Y: s.Y})
				hit = true
				break
			}
		}
		if !hit {
			live = append(live, b)
		}
	}
	clear(w.Bullets[len(live):])
	w.Bullets = live
	return events
}
