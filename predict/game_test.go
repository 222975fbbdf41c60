package predict_test

import (
	"errors"
	"math"
	"time"

	"github.com/mpgs/mpgameserver/predict"
)

// The toy game of the tests: a ship on a line, thrusting.

type ship struct{ X, V float64 }

type thrust struct{ Thrust int8 }

func stepShip(s *ship, in thrust) {
	s.V += float64(in.Thrust) * 0.5
	s.V *= 0.9
	s.X += s.V
}

func distShip(a, b *ship) float64 {
	return math.Abs(a.X-b.X) + math.Abs(a.V-b.V)
}

func lerpShip(a, b *ship, t float64) ship {
	return ship{X: a.X + (b.X-a.X)*t, V: a.V + (b.V-a.V)*t}
}

// shipConfig is a full Config for the toy game.
func shipConfig() predict.Config[ship, thrust] {
	return predict.Config[ship, thrust]{
		Step:     stepShip,
		Distance: distShip,
		Lerp:     lerpShip,
	}
}

var errNoThrust = errors.New("no thrust byte")

// thrustCodec encodes a thrust as one byte.
var thrustCodec = predict.Codec[thrust]{
	Append: func(b []byte, in thrust) []byte { return append(b, byte(in.Thrust)) },
	Parse: func(b []byte) (thrust, int, error) {
		if len(b) < 1 {
			return thrust{}, 0, errNoThrust
		}
		return thrust{Thrust: int8(b[0])}, 1, nil
	},
}

// cmd is an input of variable length: N bytes of B.
type cmd struct {
	N uint8
	B [3]byte
}

var errBadCmd = errors.New("bad cmd")

// cmdCodec encodes a cmd as its length then its bytes; it refuses a
// length over 3, so that every encoding it accepts is the one it writes.
var cmdCodec = predict.Codec[cmd]{
	Append: func(b []byte, in cmd) []byte {
		b = append(b, in.N)
		return append(b, in.B[:in.N]...)
	},
	Parse: func(b []byte) (cmd, int, error) {
		if len(b) < 1 || b[0] > 3 || len(b) < 1+int(b[0]) {
			return cmd{}, 0, errBadCmd
		}
		var c cmd
		c.N = b[0]
		copy(c.B[:], b[1:1+c.N])
		return c, 1 + int(c.N), nil
	},
}

// epoch is the fake clock's origin: tests build their times from it and
// read no clock.
var epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// tickDur is the tests' tick: 60 a second.
const tickDur = time.Second / 60

func at(tick int) time.Time { return epoch.Add(time.Duration(tick) * tickDur) }
