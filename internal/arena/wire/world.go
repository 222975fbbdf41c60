package wire

import (
	"encoding/binary"
	"math"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/replicate"
)

// The replicated kinds, in the schema's order.
const (
	KindShip     = 0
	KindBullet   = 1
	KindAsteroid = 2
	KindPlayer   = 3
)

// Fields. Every kind with a place has X, Y, VX, VY first.
const (
	FX = iota
	FY
	FVX
	FVY
)

// Ship fields after the motion.
const (
	ShipAngle = iota + FVY + 1
	ShipAlive
	ShipShield
	ShipThrust
	ShipPlayer // the player's id (its token)
)

// Bullet fields after the motion.
const (
	BulletOwner = iota + FVY + 1
)

// Asteroid fields after the motion.
const (
	AsteroidRadius = iota + FVY + 1
	AsteroidHP
	AsteroidMaxHP
	AsteroidSpin  // radians a second, for drawing
	AsteroidPhase // its angle at server time 0, for drawing
)

// Player fields: every player, to every client (the score board and the
// minimap), its place coarse.
const (
	PlayerX = iota
	PlayerY
	PlayerVX
	PlayerVY
	PlayerID
	PlayerScore
	PlayerDeaths
	PlayerRocks
	PlayerAlive
)

// Schema returns the replicated world of a scene: what the server's
// replicator and the players' receivers share.
func Schema(sc sim.Scene) *replicate.Schema {
	w, h := sc.Width, sc.Height
	pos := func(step float64) []replicate.Field {
		return []replicate.Field{replicate.Float("x", 0, w, step), replicate.Float("y", 0, h, step)}
	}
	vel := func(limit, step float64) []replicate.Field {
		return []replicate.Field{replicate.Float("vx", -limit, limit, step), replicate.Float("vy", -limit, limit, step)}
	}
	motion := func(p, v []replicate.Field, more ...replicate.Field) []replicate.Field {
		return append(append(append([]replicate.Field(nil), p...), v...), more...)
	}
	xy, vxy := [2]string{"x", "y"}, [2]string{"vx", "vy"}
	s, err := replicate.NewSchema(
		replicate.Kind{Name: "ship", Position: xy, Velocity: vxy, Tolerance: 0.25, Priority: 4,
			Fields: motion(pos(1.0/16), vel(512, 1.0/32),
				replicate.Angle("angle", 10), replicate.Bool("alive"), replicate.Bool("shield"), replicate.Bool("thrust"),
				replicate.Int("player", 0, math.MaxUint32))},
		replicate.Kind{Name: "bullet", Position: xy, Velocity: vxy, Tolerance: 0.5, Priority: 2,
			Fields: motion(pos(1.0/8), vel(1400, 1.0/16), replicate.Int("owner", 0, math.MaxUint32))},
		replicate.Kind{Name: "asteroid", Position: xy, Velocity: vxy, Tolerance: 0.25, Priority: 1,
			Fields: motion(pos(1.0/16), vel(64, 1.0/64),
				replicate.Int("radius", 0, 63), replicate.Int("hp", 0, 15), replicate.Int("maxhp", 0, 15),
				replicate.Float("spin", -1, 1, 1.0/512), replicate.Angle("phase", 8))},
		replicate.Kind{Name: "player", Global: true, Position: xy, Velocity: vxy, Tolerance: 32, Priority: 0.5,
			Fields: motion(pos(8), vel(512, 1),
				replicate.Int("id", 0, math.MaxUint32), replicate.Int("score", 0, math.MaxUint16),
				replicate.Int("deaths", 0, math.MaxUint16), replicate.Int("rocks", 0, math.MaxUint16),
				replicate.Bool("alive"))},
	)
	if err != nil {
		panic("wire: the arena's schema: " + err.Error()) // a bug in the declarations above
	}
	return s
}

// Own is what every snapshot tells a player beside the world (its
// replicate data): the last of its inputs the server applied and its own
// ship's state after it, at full precision, to reconcile its prediction.
type Own struct {
	Ack          uint32
	X, Y, VX, VY float64
	Angle        float64
	Alive        bool
	Shield       bool
	// LaserCool is the ticks until the ship's laser is ready (at most
	// sim.LaserCooldown), which the client predicts too.
	LaserCool int
}

// OwnSize is an encoded Own's size.
const OwnSize = 4 + 5*4 + 1 + 1

// AppendOwn encodes an Own.
func AppendOwn(b []byte, o Own) []byte {
	b = binary.BigEndian.AppendUint32(b, o.Ack)
	for _, v := range [...]float64{o.X, o.Y, o.VX, o.VY, o.Angle} {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	var f byte
	if o.Alive {
		f |= 1
	}
	if o.Shield {
		f |= 2
	}
	return append(b, f, byte(min(max(o.LaserCool, 0), sim.LaserCooldown)))
}

// ParseOwn decodes an Own.
func ParseOwn(b []byte) (Own, error) {
	if len(b) != OwnSize {
		return Own{}, malformed("own ship of %d bytes", len(b))
	}
	var v [5]float64
	for i := range v {
		f := float64(math.Float32frombits(binary.BigEndian.Uint32(b[4+4*i:])))
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
			return Own{}, malformed("own ship value %v", f)
		}
		v[i] = f
	}
	if b[25] > sim.LaserCooldown {
		return Own{}, malformed("own laser cooldown %d", b[25])
	}
	return Own{Ack: binary.BigEndian.Uint32(b), X: v[0], Y: v[1], VX: v[2], VY: v[3], Angle: v[4],
		Alive: b[24]&1 != 0, Shield: b[24]&2 != 0, LaserCool: int(b[25])}, nil
}

// OwnOf is a simulated ship's Own after input ack.
func OwnOf(s *sim.Ship, ack uint32) Own {
	return Own{Ack: ack, X: s.X, Y: s.Y, VX: s.VX, VY: s.VY, Angle: s.Angle, Alive: s.Alive, Shield: s.Shield > 0,
		LaserCool: s.LaserCool}
}
