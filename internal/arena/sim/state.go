package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// State is a World's whole state as data: what AppendState writes and
// ParseState reads. A recording keeps one a second, so that a replay that
// diverged can say which ships, bullets and asteroids differ.
type State struct {
	Tick                     uint32
	NextBullet, NextAsteroid uint32
	RNG                      uint64
	Ships                    []Ship
	Bullets                  []Bullet
	Asteroids                []Asteroid
	AsteroidsDue             []uint32
	// Partial is set for a state without the asteroids (AppendPartial):
	// Asteroids, AsteroidsDue and NextAsteroid are then empty.
	Partial bool
}

// The first byte of an encoded State: its version, whole or partial.
const (
	stateVersion        = 1
	stateVersionPartial = 2
)

// ErrState is wrapped by ParseState's errors.
var ErrState = errors.New("sim: malformed world state")

// State returns a copy of w's state.
func (w *World) State() State {
	return State{Tick: w.Tick, NextBullet: w.nextBullet, NextAsteroid: w.nextAsteroid, RNG: w.rng,
		Ships: append([]Ship(nil), w.Ships...), Bullets: append([]Bullet(nil), w.Bullets...),
		Asteroids: append([]Asteroid(nil), w.Asteroids...), AsteroidsDue: append([]uint32(nil), w.asteroidsDue...)}
}

// AppendState appends w's state to b, in the encoding ParseState reads:
// a version byte, then the world's counters, then every ship, bullet,
// asteroid and asteroid due, floats as their 64 bits, so that a parsed
// state is exactly the world's.
func (w *World) AppendState(b []byte) []byte {
	return w.appendState(b, false)
}

// AppendPartial appends w's state without its asteroids: what changes
// most (ships and bullets), at a small part of the bytes in a world of a
// thousand asteroids.
func (w *World) AppendPartial(b []byte) []byte {
	return w.appendState(b, true)
}

func (w *World) appendState(b []byte, partial bool) []byte {
	if partial {
		b = append(b, stateVersionPartial)
	} else {
		b = append(b, stateVersion)
	}
	b = binary.LittleEndian.AppendUint32(b, w.Tick)
	b = binary.LittleEndian.AppendUint32(b, w.nextBullet)
	if !partial {
		b = binary.LittleEndian.AppendUint32(b, w.nextAsteroid)
	}
	b = binary.LittleEndian.AppendUint64(b, w.rng)
	b = binary.AppendUvarint(b, uint64(len(w.Ships)))
	for i := range w.Ships {
		s := &w.Ships[i]
		b = binary.LittleEndian.AppendUint32(b, s.ID)
		b = appendFloats(b, s.X, s.Y, s.VX, s.VY, s.Angle)
		var flags byte
		for j, v := range []bool{s.Alive, s.Lasered, s.Paused} {
			if v {
				flags |= 1 << j
			}
		}
		b = append(b, flags, byte(s.Input))
		for _, v := range []int{s.RespawnIn, s.Shield, s.Cooldown, s.Score, s.Deaths, s.AsteroidScore, s.LaserCool} {
			b = binary.AppendVarint(b, int64(v))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(w.Bullets)))
	for i := range w.Bullets {
		u := &w.Bullets[i]
		b = binary.LittleEndian.AppendUint32(b, u.ID)
		b = binary.LittleEndian.AppendUint32(b, u.Owner)
		b = appendFloats(b, u.X, u.Y, u.VX, u.VY)
		b = binary.AppendVarint(b, int64(u.TTL))
	}
	if partial {
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(w.Asteroids)))
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		b = binary.LittleEndian.AppendUint32(b, a.ID)
		b = appendFloats(b, a.X, a.Y, a.VX, a.VY, a.Radius, a.Angle, a.Spin)
		b = binary.AppendVarint(b, int64(a.HP))
	}
	b = binary.AppendUvarint(b, uint64(len(w.asteroidsDue)))
	for _, t := range w.asteroidsDue {
		b = binary.LittleEndian.AppendUint32(b, t)
	}
	return b
}

func appendFloats(b []byte, vs ...float64) []byte {
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// stateReader reads an encoded State, remembering the first error.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated", ErrState)
	}
	r.b = nil
}

func (r *stateReader) u32() uint32 {
	if len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *stateReader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *stateReader) f64() float64 { return math.Float64frombits(r.u64()) }

func (r *stateReader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *stateReader) int() int {
	v, n := binary.Varint(r.b)
	if n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// count reads a count of items of at least size bytes each: never more
// than what is left could hold.
func (r *stateReader) count(size int) int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)-n)/uint64(size) {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// ParseState reads a state AppendState wrote. It allocates in proportion
// to b's length, never to a count b claims.
func ParseState(b []byte) (State, error) {
	var s State
	r := stateReader{b: b}
	switch v := r.byte(); {
	case r.err != nil:
	case v == stateVersionPartial:
		s.Partial = true
	case v != stateVersion:
		return s, fmt.Errorf("%w: version %d", ErrState, v)
	}
	s.Tick, s.NextBullet = r.u32(), r.u32()
	if !s.Partial {
		s.NextAsteroid = r.u32()
	}
	s.RNG = r.u64()
	s.Ships = make([]Ship, r.count(4+5*8+2+7))
	for i := range s.Ships {
		p := &s.Ships[i]
		p.ID = r.u32()
		p.X, p.Y, p.VX, p.VY, p.Angle = r.f64(), r.f64(), r.f64(), r.f64(), r.f64()
		flags := r.byte()
		p.Alive, p.Lasered, p.Paused = flags&1 != 0, flags&2 != 0, flags&4 != 0
		p.Input = Input(r.byte())
		p.RespawnIn, p.Shield, p.Cooldown, p.Score, p.Deaths, p.AsteroidScore, p.LaserCool =
			r.int(), r.int(), r.int(), r.int(), r.int(), r.int(), r.int()
	}
	s.Bullets = make([]Bullet, r.count(8+4*8+1))
	for i := range s.Bullets {
		u := &s.Bullets[i]
		u.ID, u.Owner = r.u32(), r.u32()
		u.X, u.Y, u.VX, u.VY = r.f64(), r.f64(), r.f64(), r.f64()
		u.TTL = r.int()
	}
	if s.Partial {
		return s.end(&r)
	}
	s.Asteroids = make([]Asteroid, r.count(4+7*8+1))
	for i := range s.Asteroids {
		a := &s.Asteroids[i]
		a.ID = r.u32()
		a.X, a.Y, a.VX, a.VY, a.Radius, a.Angle, a.Spin = r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64()
		a.HP = r.int()
	}
	s.AsteroidsDue = make([]uint32, r.count(4))
	for i := range s.AsteroidsDue {
		s.AsteroidsDue[i] = r.u32()
	}
	return s.end(&r)
}

// end is ParseState's last check: all of it read, without error.
func (s State) end(r *stateReader) (State, error) {
	if r.err != nil {
		return State{}, r.err
	}
	if len(r.b) != 0 {
		return State{}, fmt.Errorf("%w: %d bytes after the state", ErrState, len(r.b))
	}
	return s, nil
}

// Diff describes how state got differs from want, at most max lines
// (max < 1: all): the world's counters, then each ship, bullet and
// asteroid that differs (with the fields that do and both values) or is
// in one only, matched by ID. It returns nil when they are the same.
// When either is Partial, the asteroids are not compared.
func Diff(got, want *State, max int) []string {
	var d differ
	d.max = max
	partial := got.Partial || want.Partial
	d.field("world", "tick", got.Tick, want.Tick)
	d.field("world", "next bullet", got.NextBullet, want.NextBullet)
	d.field("world", "random state", got.RNG, want.RNG)
	if !partial {
		d.field("world", "next asteroid", got.NextAsteroid, want.NextAsteroid)
		d.field("world", "asteroids due", fmt.Sprint(got.AsteroidsDue), fmt.Sprint(want.AsteroidsDue))
	}
	d.flush()
	matchByID(&d, "ship", got.Ships, want.Ships, func(s Ship) uint32 { return s.ID }, func(a, b Ship) {
		d.floats([]string{"x", "y", "vx", "vy", "angle"}, []float64{a.X, a.Y, a.VX, a.VY, a.Angle}, []float64{b.X, b.Y, b.VX, b.VY, b.Angle})
		d.field("", "alive", a.Alive, b.Alive)
		d.field("", "lasered", a.Lasered, b.Lasered)
		d.field("", "paused", a.Paused, b.Paused)
		d.field("", "input", a.Input, b.Input)
		for i, name := range []string{"respawn in", "shield", "cooldown", "score", "deaths", "asteroid score", "laser cooldown"} {
			d.field("", name, []int{a.RespawnIn, a.Shield, a.Cooldown, a.Score, a.Deaths, a.AsteroidScore, a.LaserCool}[i],
				[]int{b.RespawnIn, b.Shield, b.Cooldown, b.Score, b.Deaths, b.AsteroidScore, b.LaserCool}[i])
		}
	})
	matchByID(&d, "bullet", got.Bullets, want.Bullets, func(u Bullet) uint32 { return u.ID }, func(a, b Bullet) {
		d.field("", "owner", a.Owner, b.Owner)
		d.floats([]string{"x", "y", "vx", "vy"}, []float64{a.X, a.Y, a.VX, a.VY}, []float64{b.X, b.Y, b.VX, b.VY})
		d.field("", "ttl", a.TTL, b.TTL)
	})
	if !partial {
		matchByID(&d, "asteroid", got.Asteroids, want.Asteroids, func(a Asteroid) uint32 { return a.ID }, func(a, b Asteroid) {
			d.floats([]string{"x", "y", "vx", "vy", "radius", "angle", "spin"},
				[]float64{a.X, a.Y, a.VX, a.VY, a.Radius, a.Angle, a.Spin}, []float64{b.X, b.Y, b.VX, b.VY, b.Radius, b.Angle, b.Spin})
			d.field("", "hp", a.HP, b.HP)
		})
	}
	if d.more > 0 {
		d.lines = append(d.lines, fmt.Sprintf("and %d more", d.more))
	}
	return d.lines
}

// differ gathers Diff's lines: the differing fields of one thing make one
// line.
type differ struct {
	lines []string
	max   int
	more  int
	what  string
	parts []string
}

func (d *differ) field(what, name string, got, want any) {
	if what != "" {
		d.what = what
	}
	if got != want {
		d.parts = append(d.parts, fmt.Sprintf("%s %v (recorded %v)", name, got, want))
	}
}

func (d *differ) floats(names []string, got, want []float64) {
	for i := range names {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			d.parts = append(d.parts, fmt.Sprintf("%s %.6g (recorded %.6g)", names[i], got[i], want[i]))
		}
	}
}

// flush ends the current thing: a line if any of its fields differed.
func (d *differ) flush() {
	if len(d.parts) > 0 {
		d.add(d.what + ": " + join(d.parts))
	}
	d.parts = d.parts[:0]
}

func (d *differ) add(line string) {
	if d.max > 0 && len(d.lines) >= d.max {
		d.more++
		return
	}
	d.lines = append(d.lines, line)
}

func join(parts []string) string {
	s := parts[0]
	for _, p := range parts[1:] {
		s += ", " + p
	}
	return s
}

// matchByID walks got and want, both ordered by ID (bullets are ordered
// by ID as they are made), comparing the things of the same ID with cmp.
func matchByID[T any](d *differ, kind string, got, want []T, id func(T) uint32, cmp func(a, b T)) {
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || (i < len(got) && id(got[i]) < id(want[j])):
			d.add(fmt.Sprintf("%s %d: only in the replay", kind, id(got[i])))
			i++
		case i == len(got) || id(want[j]) < id(got[i]):
			d.add(fmt.Sprintf("%s %d: only in the recording", kind, id(want[j])))
			j++
		default:
			d.what = fmt.Sprintf("%s %d", kind, id(got[i]))
			cmp(got[i], want[j])
			d.flush()
			i++
			j++
		}
	}
}
