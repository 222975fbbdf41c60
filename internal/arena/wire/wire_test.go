package wire_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

const (
	posErr   = 1.0/40 + 1e-9    // a position or velocity is off by at most half a step
	angleErr = 1.0/20000 + 1e-9 // an angle likewise
	allBtns  = sim.Thrust | sim.Left | sim.Right | sim.Fire
)

// angleDiff is the distance between two angles on the circle.
func angleDiff(a, b float64) float64 { return math.Abs(math.Remainder(a-b, 2*math.Pi)) }

// randomSnapshot returns a snapshot of ns ships and nb bullets with values
// in the ranges the game produces.
func randomSnapshot(rng *rand.Rand, ns, nb int) *wire.Snapshot {
	f := func(lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	s := &wire.Snapshot{Tick: rng.Uint32(), Ack: rng.Uint32()}
	for i := range ns {
		s.Ships = append(s.Ships, wire.ShipState{
			ID: uint32(i) + rng.Uint32N(1000)*1000, X: f(0, sim.Width), Y: f(0, sim.Height),
			VX: f(-sim.MaxSpeed, sim.MaxSpeed), VY: f(-sim.MaxSpeed, sim.MaxSpeed),
			Angle: f(-math.Pi, math.Pi), Flags: uint8(rng.IntN(8)),
			Score: uint16(rng.IntN(math.MaxUint16 + 1)), Deaths: uint16(rng.IntN(math.MaxUint16 + 1)),
		})
	}
	for range nb {
		s.Bullets = append(s.Bullets, wire.BulletState{
			ID: uint16(rng.Uint32()), Owner: rng.Uint32(), X: f(0, sim.Width), Y: f(0, sim.Height),
			VX: f(-sim.BulletSpeed-sim.MaxSpeed, sim.BulletSpeed+sim.MaxSpeed),
			VY: f(-sim.BulletSpeed-sim.MaxSpeed, sim.BulletSpeed+sim.MaxSpeed),
		})
	}
	return s
}

// sample is a valid encoding and the parser that should accept it.
type sample struct {
	name  string
	msg   []byte
	parse func([]byte) error
}

func parseHello(m []byte) error    { _, err := wire.ParseHello(m); return err }
func parseInputs(m []byte) error   { _, err := wire.ParseInputs(nil, m); return err }
func parseWelcome(m []byte) error  { _, err := wire.ParseWelcome(m); return err }
func parseEvent(m []byte) error    { _, err := wire.ParseEvent(m); return err }
func parseIdentify(m []byte) error { _, err := wire.ParseIdentify(m); return err }
func parseIdentity(m []byte) error { _, err := wire.ParseIdentity(m); return err }
func parseSnapshot(m []byte) error {
	var s wire.Snapshot
	return wire.ParseSnapshot(&s, m)
}

// parsers by the kind they accept.
var parsers = map[wire.Kind]func([]byte) error{
	wire.KindHello: parseHello, wire.KindInput: parseInputs, wire.KindWelcome: parseWelcome,
	wire.KindSnapshot: parseSnapshot, wire.KindEvent: parseEvent,
	wire.KindIdentify: parseIdentify, wire.KindIdentity: parseIdentity,
}

// samples returns valid encodings of every message type.
func samples() []sample {
	rng := rand.New(rand.NewPCG(1, 1))
	return []sample{
		{"hello", wire.AppendHello(nil, wire.Hello{Name: "ada", Color: 3}), parseHello},
		{"hello empty name", wire.AppendHello(nil, wire.Hello{}), parseHello},
		{"hello long name", wire.AppendHello(nil, wire.Hello{Name: "ÉÉÉÉÉÉÉÉ", Color: wire.Colors - 1}), parseHello},
		{"input", wire.AppendInput(nil, wire.Input{Seq: 0xdeadbeef, Buttons: sim.Thrust | sim.Fire}), parseInputs},
		{"input first", wire.AppendInput(nil, wire.Input{Seq: 1}), parseInputs},
		{"inputs", wire.AppendInputs(nil, consecutive(rng, 100, 3)), parseInputs},
		{"inputs most", wire.AppendInputs(nil, consecutive(rng, wire.MaxInputs, wire.MaxInputs)), parseInputs},
		{"welcome", wire.AppendWelcome(nil, wire.Welcome{ID: 7, Tick: 123456}), parseWelcome},
		{"snapshot empty", wire.AppendSnapshot(nil, &wire.Snapshot{Tick: 1, Ack: 2}), parseSnapshot},
		{"snapshot ships", wire.AppendSnapshot(nil, randomSnapshot(rng, 3, 0)), parseSnapshot},
		{"snapshot bullets", wire.AppendSnapshot(nil, randomSnapshot(rng, 0, 3)), parseSnapshot},
		{"snapshot both", wire.AppendSnapshot(nil, randomSnapshot(rng, 2, 2)), parseSnapshot},
		{"event join", wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: 5, Name: "zoë", Color: 11}), parseEvent},
		{"event leave", wire.AppendEvent(nil, wire.Event{Kind: wire.EventLeave, ID: 5}), parseEvent},
		{"event kill", wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 5, Other: 6, X: 100.5, Y: 999.95}), parseEvent},
		{"identify", wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), parseIdentify},
		{"identify empty", wire.AppendIdentify(nil, wire.Ident{}), parseIdentify},
		{"identity", wire.AppendIdentity(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), parseIdentity},
		{"identity long", wire.AppendIdentity(nil, wire.Ident{Game: strings.Repeat("g", wire.MaxGameID), Version: 0xffff}), parseIdentity},
	}
}

// TestIdentRoundTrip: Identify and Identity carry a game id and a
// version; they differ in their kind only, so an Identify echoed back by a
// server that echoes everything is not an Identity.
func TestIdentRoundTrip(t *testing.T) {
	for _, id := range []wire.Ident{
		{}, {Game: wire.GameID, Version: wire.Version}, {Game: "chess", Version: 7},
		{Game: strings.Repeat("x", wire.MaxGameID), Version: 0xffff}, {Game: "échecs", Version: 2},
	} {
		m := wire.AppendIdentify(nil, id)
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindIdentify, k)
		got, err := wire.ParseIdentify(m)
		require.NoError(t, err)
		require.Equal(t, id, got)
		_, err = wire.ParseIdentity(m)
		require.ErrorIs(t, err, wire.ErrMalformed, "an echoed Identify is not an answer")

		r := wire.AppendIdentity(nil, id)
		require.Equal(t, m[1:], r[1:], "the same layout")
		require.Equal(t, wire.KindIdentity, wire.Kind(r[0]))
		got, err = wire.ParseIdentity(r)
		require.NoError(t, err)
		require.Equal(t, id, got)
		_, err = wire.ParseIdentify(r)
		require.ErrorIs(t, err, wire.ErrMalformed)
	}
	// Game ids are cut to MaxGameID bytes of printable runes.
	got, err := wire.ParseIdentity(wire.AppendIdentity(nil, wire.Ident{Game: "a\x1b[2J" + strings.Repeat("é", 40), Version: 3}))
	require.NoError(t, err)
	assert.Equal(t, "a[2J"+strings.Repeat("é", 14), got.Game)
	assert.LessOrEqual(t, len(got.Game), wire.MaxGameID)
	// A control character in a received id is refused.
	_, err = wire.ParseIdentity([]byte{byte(wire.KindIdentity), 0, 1, 2, 'a', '\n'})
	require.ErrorIs(t, err, wire.ErrMalformed)
	// The kinds of the older messages are unchanged.
	assert.Equal(t, []wire.Kind{1, 2, 16, 17, 18}, []wire.Kind{wire.KindHello, wire.KindInput, wire.KindWelcome, wire.KindSnapshot, wire.KindEvent})
}

func TestHelloRoundTrip(t *testing.T) {
	for _, h := range []wire.Hello{
		{}, {Name: "ada", Color: 0}, {Name: "Grace_Hopper", Color: 11}, {Name: "héllo_wörld", Color: 5},
		{Name: "sixteen-letters!", Color: 1}, {Name: "日本語の名", Color: 2}, {Name: "🚀🚀🚀🚀", Color: 9},
	} {
		m := wire.AppendHello(nil, h)
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindHello, k)
		got, err := wire.ParseHello(m)
		require.NoError(t, err)
		assert.Equal(t, h, got)
	}
	// The color is taken modulo Colors and the name is cleaned.
	got, err := wire.ParseHello(wire.AppendHello(nil, wire.Hello{Name: "a\nb\x00c-and-a-long-tail", Color: wire.Colors + 2}))
	require.NoError(t, err)
	assert.Equal(t, wire.Hello{Name: "a_bc-and-a-long-", Color: 2}, got)
	got, err = wire.ParseHello(wire.AppendHello(nil, wire.Hello{Name: " Grace\u202e \u200bHopper ", Color: 1}))
	require.NoError(t, err)
	assert.Equal(t, wire.Hello{Name: "Grace_Hopper", Color: 1}, got)
	// Appending keeps what was there.
	m := wire.AppendHello([]byte("xy"), wire.Hello{Name: "q"})
	assert.Equal(t, "xy", string(m[:2]))
	_, err = wire.ParseHello(m[2:])
	assert.NoError(t, err)
}

// consecutive returns n inputs with random buttons ending at seq newest.
func consecutive(rng *rand.Rand, newest uint32, n int) []wire.Input {
	ins := make([]wire.Input, n)
	for i := range ins {
		ins[i] = wire.Input{Seq: newest - uint32(n-1-i), Buttons: sim.Input(rng.IntN(16))}
	}
	return ins
}

func TestInputRoundTrip(t *testing.T) {
	for _, seq := range []uint32{1, 2, 0x01020304, math.MaxUint32} {
		for b := sim.Input(0); b <= allBtns; b++ {
			in := wire.Input{Seq: seq, Buttons: b}
			m := wire.AppendInput(nil, in)
			require.Len(t, m, 7)
			k, err := wire.KindOf(m)
			require.NoError(t, err)
			require.Equal(t, wire.KindInput, k)
			got, err := wire.ParseInput(m)
			require.NoError(t, err)
			require.Equal(t, in, got)
			ins, err := wire.ParseInputs(nil, m)
			require.NoError(t, err)
			require.Equal(t, []wire.Input{in}, ins)
		}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= wire.MaxInputs; n++ {
		for _, newest := range []uint32{uint32(n), 1000, math.MaxUint32} {
			ins := consecutive(rng, newest, n)
			m := wire.AppendInputs(nil, ins)
			require.Len(t, m, 6+n)
			got, err := wire.ParseInputs(nil, m)
			require.NoError(t, err)
			require.Equal(t, ins, got)
			if n > 1 {
				_, err := wire.ParseInput(m)
				require.ErrorIs(t, err, wire.ErrMalformed, "ParseInput takes one input only")
			}
		}
	}
	// More than MaxInputs: the newest go.
	ins := consecutive(rng, 500, wire.MaxInputs+5)
	got, err := wire.ParseInputs(nil, wire.AppendInputs(nil, ins))
	require.NoError(t, err)
	require.Equal(t, ins[5:], got)

	// Encodings the parser refuses: no inputs, seq 0, more inputs than
	// seqs before the newest.
	for _, ins := range [][]wire.Input{nil, {{Seq: 0}}, {{Seq: 0}, {Seq: 1}}} {
		_, err := wire.ParseInputs(nil, wire.AppendInputs(nil, ins))
		require.ErrorIs(t, err, wire.ErrMalformed, "%v", ins)
	}

	// The destination is reused.
	m := wire.AppendInputs(nil, consecutive(rng, 77, wire.MaxInputs))
	dst, err := wire.ParseInputs(nil, m)
	require.NoError(t, err)
	first := &dst[0]
	allocs := testing.AllocsPerRun(100, func() {
		if dst, err = wire.ParseInputs(dst, m); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	assert.Same(t, first, &dst[0])
	dst, err = wire.ParseInputs(dst, m[:len(m)-1])
	require.ErrorIs(t, err, wire.ErrMalformed)
	assert.Empty(t, dst, "a failed parse returns no inputs")
}

func TestWelcomeRoundTrip(t *testing.T) {
	for _, w := range []wire.Welcome{{}, {ID: 1, Tick: 2}, {ID: math.MaxUint32, Tick: math.MaxUint32}, {ID: 0x0a0b0c0d, Tick: 77}} {
		m := wire.AppendWelcome(nil, w)
		require.Len(t, m, 9)
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindWelcome, k)
		got, err := wire.ParseWelcome(m)
		require.NoError(t, err)
		require.Equal(t, w, got)
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range []wire.Event{
		{Kind: wire.EventJoin, ID: 1, Name: "ada", Color: 4},
		{Kind: wire.EventJoin, ID: math.MaxUint32, Name: "", Color: 0},
		{Kind: wire.EventLeave, ID: 9},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 1600, Y: 0},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 123.456, Y: 987.654},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: -20000, Y: 1e9}, // clamped
	} {
		m := wire.AppendEvent(nil, e)
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindEvent, k)
		got, err := wire.ParseEvent(m)
		require.NoError(t, err)
		assert.Equal(t, wire.Quantize(e.X), got.X)
		assert.Equal(t, wire.Quantize(e.Y), got.Y)
		if math.Abs(e.X) < 1600 && math.Abs(e.Y) < 1600 {
			assert.InDelta(t, e.X, got.X, posErr)
			assert.InDelta(t, e.Y, got.Y, posErr)
		}
		got.X, got.Y = e.X, e.Y
		assert.Equal(t, e, got)
	}
	got, err := wire.ParseEvent(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, X: -20000, Y: 1e9}))
	require.NoError(t, err)
	assert.Equal(t, -1638.4, got.X, "clamped, not wrapped")
	assert.Equal(t, 1638.35, got.Y, "clamped, not wrapped")
	got, err = wire.ParseEvent(wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, Name: "\x1b[2Jevil\tname that is long", Color: 200}))
	require.NoError(t, err)
	assert.Equal(t, "[2Jevil_name_tha", got.Name)
	assert.Equal(t, uint8(200%wire.Colors), got.Color)
}

func TestSnapshotRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {30, 40}, {wire.MaxShips, wire.MaxBullets}} {
		for range 20 {
			s := randomSnapshot(rng, n[0], n[1])
			m := wire.AppendSnapshot(nil, s)
			k, err := wire.KindOf(m)
			require.NoError(t, err)
			require.Equal(t, wire.KindSnapshot, k)
			var got wire.Snapshot
			require.NoError(t, wire.ParseSnapshot(&got, m))
			require.Equal(t, s.Tick, got.Tick)
			require.Equal(t, s.Ack, got.Ack)
			require.Len(t, got.Ships, len(s.Ships))
			require.Len(t, got.Bullets, len(s.Bullets))
			for i, w := range s.Ships {
				g := got.Ships[i]
				require.Equal(t, w.ID, g.ID)
				require.Equal(t, w.Flags, g.Flags)
				require.Equal(t, w.Score, g.Score)
				require.Equal(t, w.Deaths, g.Deaths)
				require.InDelta(t, w.X, g.X, posErr)
				require.InDelta(t, w.Y, g.Y, posErr)
				require.InDelta(t, w.VX, g.VX, posErr)
				require.InDelta(t, w.VY, g.VY, posErr)
				require.LessOrEqual(t, angleDiff(w.Angle, g.Angle), angleErr, "angle %v became %v", w.Angle, g.Angle)
			}
			for i, w := range s.Bullets {
				g := got.Bullets[i]
				require.Equal(t, w.ID, g.ID)
				require.Equal(t, w.Owner, g.Owner)
				require.InDelta(t, w.X, g.X, posErr)
				require.InDelta(t, w.Y, g.Y, posErr)
				require.InDelta(t, w.VX, g.VX, posErr)
				require.InDelta(t, w.VY, g.VY, posErr)
			}
			// Quantized values go through unchanged.
			again := wire.AppendSnapshot(nil, &got)
			require.Equal(t, m, again)
		}
	}

	// Beyond int16 range values clamp rather than wrap, and angles wrap
	// around the circle.
	s := &wire.Snapshot{
		Ships: []wire.ShipState{
			{ID: 1, X: 5000, Y: -5000, VX: math.Inf(1), VY: math.Inf(-1), Angle: 3 * math.Pi},
			{ID: 2, X: 1638.4, Y: -1638.45, VX: 1638.3, VY: -1638.4, Angle: -7},
		},
		Bullets: []wire.BulletState{{ID: 3, X: 1e6, Y: -1e6, VX: 32768, VY: -32769}},
	}
	var got wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&got, wire.AppendSnapshot(nil, s)))
	const hi, lo = 1638.35, -1638.4
	assert.Equal(t, [4]float64{hi, lo, hi, lo}, [4]float64{got.Ships[0].X, got.Ships[0].Y, got.Ships[0].VX, got.Ships[0].VY})
	assert.Equal(t, [4]float64{hi, lo, 1638.3, lo}, [4]float64{got.Ships[1].X, got.Ships[1].Y, got.Ships[1].VX, got.Ships[1].VY})
	assert.Equal(t, [4]float64{hi, lo, hi, lo}, [4]float64{got.Bullets[0].X, got.Bullets[0].Y, got.Bullets[0].VX, got.Bullets[0].VY})
	assert.LessOrEqual(t, angleDiff(math.Pi, got.Ships[0].Angle), angleErr)
	assert.LessOrEqual(t, angleDiff(-7, got.Ships[1].Angle), angleErr)
	assert.InDelta(t, math.Remainder(-7, 2*math.Pi), got.Ships[1].Angle, angleErr)
}

func TestQuantize(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, 0}, {0.02, 0}, {0.03, 0.05}, {-0.03, -0.05}, {0.05, 0.05}, {1.234, 1.25}, {-1.234, -1.25},
		{1600, 1600}, {-1600, -1600}, {999.975, 1000}, {1638.35, 1638.35}, {-1638.4, -1638.4},
		{1638.4, 1638.35}, {-1638.45, -1638.4}, {1e9, 1638.35}, {-1e9, -1638.4},
		{math.Inf(1), 1638.35}, {math.Inf(-1), -1638.4}, {math.MaxFloat64, 1638.35},
	} {
		assert.Equal(t, tc.want, wire.Quantize(tc.in), "Quantize(%v)", tc.in)
	}
	for _, tc := range []struct{ in, want float64 }{
		{0, 0}, {1.23456, 1.2346}, {-1.23454, -1.2345}, {math.Pi / 2, 1.5708}, {2 * math.Pi, 0},
		{math.Pi, 3.1416}, {-math.Pi, -3.1416}, {3.1416, 3.1416}, {-3.1416, -3.1416},
		{-7, math.Round(math.Remainder(-7, 2*math.Pi)*10000) / 10000}, {100, math.Round(math.Remainder(100, 2*math.Pi)*10000) / 10000},
	} {
		assert.Equal(t, tc.want, wire.QuantizeAngle(tc.in), "QuantizeAngle(%v)", tc.in)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		v := rng.Float64()*3276 - 1638
		q := wire.Quantize(v)
		require.InDelta(t, v, q, posErr)
		require.Equal(t, q, wire.Quantize(q), "quantizing is idempotent")
		require.Equal(t, q, math.Round(q*20)/20, "a multiple of 1/20")

		a := (rng.Float64()*2 - 1) * 10 * math.Pi
		qa := wire.QuantizeAngle(a)
		require.LessOrEqual(t, angleDiff(a, qa), angleErr, "angle %v", a)
		require.LessOrEqual(t, math.Abs(qa), 3.1416)
		require.Equal(t, qa, wire.QuantizeAngle(qa), "quantizing angle %v is idempotent", a)
	}
	// At the seam of the circle too.
	for _, a := range []float64{math.Pi, -math.Pi, 3.14159, -3.14159, 3.1416, -3.1416, 3.14162, -3.14162, 3.14165, -3.14165, 3 * math.Pi, -3 * math.Pi} {
		qa := wire.QuantizeAngle(a)
		assert.LessOrEqual(t, angleDiff(a, qa), angleErr, "angle %v", a)
		assert.Equal(t, qa, wire.QuantizeAngle(qa), "quantizing angle %v is idempotent", a)
	}
}

func TestMalformed(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			require.NoError(t, s.parse(s.msg))
			for i := range len(s.msg) {
				err := s.parse(s.msg[:i:i])
				require.ErrorIs(t, err, wire.ErrMalformed, "truncated to %d of %d bytes", i, len(s.msg))
			}
			for _, tail := range [][]byte{{0}, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 64)} {
				long := append(bytes.Clone(s.msg), tail...)
				require.ErrorIs(t, s.parse(long), wire.ErrMalformed, "%d trailing bytes", len(tail))
			}
			for k := range 256 {
				if k == int(s.msg[0]) {
					continue
				}
				m := bytes.Clone(s.msg)
				m[0] = byte(k)
				require.ErrorIs(t, s.parse(m), wire.ErrMalformed, "kind %d", k)
			}
			// Other parsers refuse it.
			for kind, parse := range parsers {
				if kind != wire.Kind(s.msg[0]) {
					require.ErrorIs(t, parse(s.msg), wire.ErrMalformed, "parsed as kind %d", kind)
				}
			}
		})
	}
	_, err := wire.KindOf(nil)
	require.ErrorIs(t, err, wire.ErrMalformed)
	_, err = wire.KindOf([]byte{})
	require.ErrorIs(t, err, wire.ErrMalformed)
}

func TestMalformedFields(t *testing.T) {
	hello := func(color byte, name string) []byte {
		return append([]byte{byte(wire.KindHello), color, byte(len(name))}, name...)
	}
	event := func(kind wire.EventKind, color byte, name string) []byte {
		m := wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: 1})
		m[1] = byte(kind)
		m[14], m[15] = color, byte(len(name))
		return append(m[:16], name...)
	}
	badNames := []string{"\xff", "ab\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", strings.Repeat("x", wire.MaxName+1)}

	_, err := wire.ParseHello(hello(0, "ok"))
	require.NoError(t, err)
	_, err = wire.ParseEvent(event(wire.EventKill, 0, "ok"))
	require.NoError(t, err)
	for c := wire.Colors; c < 256; c++ {
		_, err := wire.ParseHello(hello(byte(c), "ok"))
		require.ErrorIs(t, err, wire.ErrMalformed, "hello color %d", c)
		_, err = wire.ParseEvent(event(wire.EventJoin, byte(c), "ok"))
		require.ErrorIs(t, err, wire.ErrMalformed, "event color %d", c)
	}
	for _, name := range badNames {
		_, err := wire.ParseHello(hello(0, name))
		require.ErrorIs(t, err, wire.ErrMalformed, "hello name %q", name)
		_, err = wire.ParseEvent(event(wire.EventJoin, 0, name))
		require.ErrorIs(t, err, wire.ErrMalformed, "event name %q", name)
	}
	// A name length that disagrees with the message.
	m := hello(0, "abc")
	m[2] = 2
	_, err = wire.ParseHello(m)
	require.ErrorIs(t, err, wire.ErrMalformed)
	m[2] = 4
	_, err = wire.ParseHello(m)
	require.ErrorIs(t, err, wire.ErrMalformed)
	for k := range 256 {
		_, err := wire.ParseEvent(event(wire.EventKind(k), 0, ""))
		if k >= int(wire.EventJoin) && k <= int(wire.EventKill) {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, wire.ErrMalformed, "event kind %d", k)
		}
	}
	for b := range 256 {
		for i := range 3 {
			m := wire.AppendInputs(nil, []wire.Input{{Seq: 8}, {Seq: 9}, {Seq: 10}})
			m[6+i] = byte(b)
			_, err := wire.ParseInputs(nil, m)
			if b&^int(allBtns) == 0 {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, wire.ErrMalformed, "buttons %#x at %d", b, i)
			}
		}
	}
	// Input counts: none, more than MaxInputs, more than the seqs.
	for _, tc := range []struct {
		newest uint32
		n      int
		ok     bool
	}{{5, 0, false}, {5, 1, true}, {8, 8, true}, {9, 9, false}, {100, 255, false}, {2, 3, false}, {3, 3, true}, {0, 1, false}} {
		m := []byte{byte(wire.KindInput)}
		m = binary.BigEndian.AppendUint32(m, tc.newest)
		m = append(m, byte(tc.n))
		m = append(m, make([]byte, tc.n)...)
		_, err := wire.ParseInputs(nil, m)
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
		} else {
			require.ErrorIs(t, err, wire.ErrMalformed, "%+v", tc)
		}
	}

	// Counts: the most bullets pass, one more does not, even when the
	// length agrees; all 255 ships pass.
	snap := func(ns, nb int) []byte {
		m := []byte{byte(wire.KindSnapshot), 0, 0, 0, 1, 0, 0, 0, 2, byte(ns)}
		m = binary.BigEndian.AppendUint16(m, uint16(nb))
		return append(m, make([]byte, ns*19+nb*14)...)
	}
	var s wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&s, snap(255, wire.MaxBullets)))
	require.Len(t, s.Ships, 255)
	require.Len(t, s.Bullets, wire.MaxBullets)
	for _, nb := range []int{wire.MaxBullets + 1, 2000, math.MaxUint16} {
		require.ErrorIs(t, wire.ParseSnapshot(&s, snap(0, nb)), wire.ErrMalformed, "%d bullets", nb)
	}
	// Counts that disagree with the length.
	m = snap(2, 3)
	m[9] = 3
	require.ErrorIs(t, wire.ParseSnapshot(&s, m), wire.ErrMalformed)
	m[9], m[11] = 2, 2
	require.ErrorIs(t, wire.ParseSnapshot(&s, m), wire.ErrMalformed)
}

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ada", "ada"},
		{"x_y", "x_y"},
		{"_x_", "_x_"},
		// Controls go; the whitespace ones are spaces.
		{"a\x00b\nc\td\re\x7f", "ab_c_d_e"},
		{"\x1b[31mred", "[31mred"},
		{"a\u0085b\u009bc", "a_bc"}, // C1 controls; NEL is a space
		{"a\xffb\xc3", "ab"},        // invalid UTF-8
		{"a\uFFFDb", "ab"},
		// Every kind of space: one '_' between words, none at the ends.
		{"Ada Lovelace", "Ada_Lovelace"},
		{"  ada  ", "ada"},
		{"a \t\n b", "a_b"},
		{"a\u00a0b\u2003c\u3000d\u202fe\u205ff\u1680g", "a_b_c_d_e_f_g"},
		{"a\u2000b\u200ac\u2028d\u2029e", "a_b_c_d_e"},
		{"a\u2800b", "a_b"}, // the blank braille pattern looks like a space
		{" \u00a0\u3000\t", ""},
		// Format characters: bidi controls, zero-width ones, the BOM, tags.
		{"abc\u202eexe.txt", "abcexe.txt"},
		{"\u2066a\u2069\u202a\u202b\u202c\u202d\u2067\u2068\u200e\u200f\u061c", "a"},
		{"a\u200bb\u200cc\u200dd\ufeffe\u2060f\u00adg", "abcdefg"},
		{"a\U000E0041\U000E007Fb", "ab"},
		// Other invisible runes: Hangul fillers, variation selectors, the
		// combining grapheme joiner; private use.
		{"a\u3164b\u115f\u1160\uffa0c", "abc"},
		{"a\ufe0fb\U000E0100c\u034fd", "abcd"},
		{"a\ue000b\U000F0000c", "abc"},
		{"\u200b \u202e\u3164", ""},
		{"a \u200b b", "a_b"}, // spaces around a dropped rune are one run
		{"héllo", "héllo"},
		{"日本語 の名", "日本語_の名"},
		{"sixteen-letters!", "sixteen-letters!"},
		{"seventeen-letters", "seventeen-letter"},
		{strings.Repeat("é", 9), strings.Repeat("é", 8)},                    // 18 bytes of 2-byte runes
		{"abcdefghijklmno€", "abcdefghijklmno"},                             // a 3-byte rune would end at 18
		{"abcdefghijklm€", "abcdefghijklm€"},                                // ends at exactly 16
		{"abcdefghijklmn🚀x", "abcdefghijklmn"},                              // a 4-byte rune would end at 18
		{"\x00\x01\x02" + strings.Repeat("z", 20), strings.Repeat("z", 16)}, // dropped runes take no room
		{"日本語の名前です", "日本語の名"},
		// A cut never leaves a '_' of spaces at the end.
		{"abcdefghijklmn x", "abcdefghijklmn_x"},
		{"abcdefghijklmno x", "abcdefghijklmno"},
		{"abcdefghijklmn é", "abcdefghijklmn"},
	} {
		got := wire.CleanName(tc.in)
		assert.Equal(t, tc.want, got, "CleanName(%q)", tc.in)
		requireCleanName(t, got)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	pool := []rune{'a', 'Z', '_', ' ', '\x00', '\n', '\t', 0x7f, 0x85, 0xa0, 'é', '€', '日', '🚀', utf8.RuneError,
		0x200b, 0x200d, 0x202e, 0x2067, 0xfeff, 0x2003, 0x3000, 0x2028, 0x3164, 0xfe0f, 0xe000, 0x0301}
	for range 20000 {
		var b []byte
		for range rng.IntN(24) {
			if rng.IntN(8) == 0 {
				b = append(b, byte(rng.IntN(256)))
			} else {
				b = utf8.AppendRune(b, pool[rng.IntN(len(pool))])
			}
		}
		got := wire.CleanName(string(b))
		requireCleanName(t, got)
		require.Equal(t, got, wire.CleanName(got), "cleaning is idempotent")
		require.Equal(t, cleanNameModel(string(b)), got, "from %q", b)
	}
}

// cleanNameModel is CleanName as its documentation says it, the slow way:
// split the kept runes into words at the spaces, join the words with '_',
// cut to the longest prefix of whole runes that fits MaxName, and drop a
// '_' of spaces left at the end by the cut.
func cleanNameModel(s string) string {
	var words [][]rune
	word := []rune(nil)
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.In(r, unicode.Z) || r == 0x2800:
			if len(word) > 0 {
				words = append(words, word)
			}
			word = nil
		case r == utf8.RuneError || !unicode.IsPrint(r) ||
			unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
		default:
			word = append(word, r)
		}
	}
	if len(word) > 0 {
		words = append(words, word)
	}
	const sep = -1
	var joined []rune
	for i, w := range words {
		if i > 0 {
			joined = append(joined, sep)
		}
		joined = append(joined, w...)
	}
	var out []byte
	for i, r := range joined {
		if r == sep {
			r = '_'
		}
		if len(out)+utf8.RuneLen(r) > wire.MaxName {
			if i > 0 && joined[i-1] == sep {
				out = out[:len(out)-1]
			}
			break
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// requireCleanName checks what a cleaned name must be: valid UTF-8 of at
// most MaxName bytes, one word without spaces of any kind, controls,
// format characters, U+FFFD or other runes that are not printable.
func requireCleanName(t *testing.T, name string) {
	t.Helper()
	require.True(t, utf8.ValidString(name), "%q", name)
	require.LessOrEqual(t, len(name), wire.MaxName, "%q", name)
	for _, r := range name {
		require.False(t, unicode.IsSpace(r) || unicode.In(r, unicode.Z), "%q kept the space %U", name, r)
		require.False(t, unicode.In(r, unicode.Cc, unicode.Cf), "%q kept %U", name, r)
		require.NotEqual(t, utf8.RuneError, r, "%q", name)
		require.True(t, unicode.IsPrint(r), "%q kept %U", name, r)
	}
	require.Len(t, strings.Fields(name), min(1, len(name)), "one word: %q", name)
}

func TestSnapshotCaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	s := randomSnapshot(rng, 300, 2000)
	m := wire.AppendSnapshot(nil, s)
	var got wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&got, m))
	require.Len(t, got.Ships, wire.MaxShips)
	require.Len(t, got.Bullets, wire.MaxBullets)
	for i := range got.Ships {
		require.Equal(t, s.Ships[i].ID, got.Ships[i].ID)
	}
	for i := range got.Bullets {
		require.Equal(t, s.Bullets[i].Owner, got.Bullets[i].Owner)
	}
	require.Len(t, s.Ships, 300, "the input is left alone")
	require.Len(t, s.Bullets, 2000)
}

func TestSnapshotSize(t *testing.T) {
	s := randomSnapshot(rand.New(rand.NewPCG(13, 14)), 30, 40)
	m := wire.AppendSnapshot(nil, s)
	assert.LessOrEqual(t, len(m), 1432, "30 ships and 40 bullets must fit one datagram")
	assert.Equal(t, 12+30*19+40*14, len(m))
}

func TestParseSnapshotReuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	big := wire.AppendSnapshot(nil, randomSnapshot(rng, 30, 40))
	small := wire.AppendSnapshot(nil, randomSnapshot(rng, 2, 3))
	var dst wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&dst, big))
	ships, bullets := &dst.Ships[:1][0], &dst.Bullets[:1][0]
	allocs := testing.AllocsPerRun(100, func() {
		if err := wire.ParseSnapshot(&dst, big); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs, "parsing into a warm snapshot must not allocate")
	allocs = testing.AllocsPerRun(100, func() {
		if err := wire.ParseSnapshot(&dst, small); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	require.Len(t, dst.Ships, 2)
	require.Len(t, dst.Bullets, 3)
	assert.Same(t, ships, &dst.Ships[0], "the ships' array is reused")
	assert.Same(t, bullets, &dst.Bullets[0], "the bullets' array is reused")
	// Nothing of the bigger snapshot is left over.
	var fresh wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&fresh, small))
	assert.Equal(t, fresh, dst)

	// Encoding into a buffer with room does not allocate either.
	s := randomSnapshot(rng, 30, 40)
	buf := make([]byte, 0, 2048)
	allocs = testing.AllocsPerRun(100, func() { buf = wire.AppendSnapshot(buf[:0], s) })
	assert.Zero(t, allocs)

	// A truncated snapshot is refused.
	require.ErrorIs(t, wire.ParseSnapshot(&dst, big[:len(big)-1]), wire.ErrMalformed)
}

func TestSetSnapshotAck(t *testing.T) {
	s := randomSnapshot(rand.New(rand.NewPCG(19, 20)), 3, 4)
	m := wire.AppendSnapshot(nil, s)
	for _, ack := range []uint32{0, 1, 0xfedcba98, math.MaxUint32} {
		wire.SetSnapshotAck(m, ack)
		var got wire.Snapshot
		require.NoError(t, wire.ParseSnapshot(&got, m))
		require.Equal(t, ack, got.Ack)
		c := *s
		c.Ack = ack
		require.Equal(t, wire.AppendSnapshot(nil, &c), m, "only the ack changes")
	}
	// Anything else is left alone.
	for _, m := range append([][]byte{nil, wire.AppendSnapshot(nil, s)[:8]}, func() (ms [][]byte) {
		for _, s := range samples() {
			if wire.Kind(s.msg[0]) != wire.KindSnapshot {
				ms = append(ms, s.msg)
			}
		}
		return ms
	}()...) {
		want := bytes.Clone(m)
		wire.SetSnapshotAck(m, 12345)
		require.Equal(t, want, m)
	}
}

func TestShipStateOf(t *testing.T) {
	base := sim.Ship{ID: 42, X: 1, Y: 2, VX: 3, VY: 4, Angle: 0.5, Score: 7, Deaths: 8}
	for _, tc := range []struct {
		name  string
		edit  func(*sim.Ship)
		flags uint8
	}{
		{"dead", func(*sim.Ship) {}, 0},
		{"alive", func(s *sim.Ship) { s.Alive = true }, wire.FlagAlive},
		{"shielded", func(s *sim.Ship) { s.Alive, s.Shield = true, 1 }, wire.FlagAlive | wire.FlagShield},
		{"thrusting", func(s *sim.Ship) { s.Alive, s.Input = true, sim.Thrust|sim.Fire }, wire.FlagAlive | wire.FlagThrust},
		{"everything", func(s *sim.Ship) { s.Alive, s.Shield, s.Input = true, sim.ShieldTicks, allBtns }, wire.FlagAlive | wire.FlagShield | wire.FlagThrust},
		{"turning and firing only", func(s *sim.Ship) { s.Alive, s.Input = true, sim.Left|sim.Right|sim.Fire }, wire.FlagAlive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			got := wire.ShipStateOf(&s)
			assert.Equal(t, wire.ShipState{ID: 42, X: 1, Y: 2, VX: 3, VY: 4, Angle: 0.5, Flags: tc.flags, Score: 7, Deaths: 8}, got)
		})
	}
	for _, tc := range []struct {
		in   int
		want uint16
	}{{0, 0}, {1, 1}, {65535, 65535}, {65536, 65535}, {1 << 40, 65535}} {
		s := base
		s.Score, s.Deaths = tc.in, tc.in
		got := wire.ShipStateOf(&s)
		assert.Equal(t, tc.want, got.Score, "score %d", tc.in)
		assert.Equal(t, tc.want, got.Deaths, "deaths %d", tc.in)
	}
}

// TestSnapshotOfWorld sends a played world through the wire.
func TestSnapshotOfWorld(t *testing.T) {
	w := sim.NewWorld(3)
	for id := uint32(1); id <= 30; id++ {
		w.AddShip(id)
		w.SetInput(id, sim.Input(id)&allBtns|sim.Fire)
	}
	for range 200 {
		w.Step()
	}
	s := &wire.Snapshot{Tick: w.Tick, Ack: 99}
	for i := range w.Ships {
		s.Ships = append(s.Ships, wire.ShipStateOf(&w.Ships[i]))
	}
	for _, b := range w.Bullets {
		s.Bullets = append(s.Bullets, wire.BulletState{ID: uint16(b.ID), Owner: b.Owner, X: b.X, Y: b.Y, VX: b.VX, VY: b.VY})
	}
	require.NotEmpty(t, s.Bullets)
	var got wire.Snapshot
	require.NoError(t, wire.ParseSnapshot(&got, wire.AppendSnapshot(nil, s)))
	require.Len(t, got.Ships, len(w.Ships))
	for i, sh := range w.Ships {
		g := got.Ships[i]
		require.Equal(t, sh.ID, g.ID)
		require.InDelta(t, sh.X, g.X, posErr)
		require.InDelta(t, sh.Y, g.Y, posErr)
		require.InDelta(t, sh.VX, g.VX, posErr)
		require.InDelta(t, sh.VY, g.VY, posErr)
		require.LessOrEqual(t, angleDiff(sh.Angle, g.Angle), angleErr)
		require.Equal(t, sh.Alive, g.Flags&wire.FlagAlive != 0)
	}
}

func BenchmarkSnapshotEncodeParse(b *testing.B) {
	s := randomSnapshot(rand.New(rand.NewPCG(17, 18)), 30, 40)
	var buf []byte
	var dst wire.Snapshot
	b.ReportAllocs()
	for b.Loop() {
		buf = wire.AppendSnapshot(buf[:0], s)
		if err := wire.ParseSnapshot(&dst, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(len(buf)), "msg-bytes")
}
