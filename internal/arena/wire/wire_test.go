package wire_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/replicate"
)

const (
	posErr  = 1.0/16 + 1e-9 // an event's position is off by at most half its step (1/8)
	maxPos  = 8191.875      // the largest position an event carries
	allBtns = sim.Buttons
)

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

// parsers by the kind they accept.
var parsers = map[wire.Kind]func([]byte) error{
	wire.KindHello: parseHello, wire.KindInput: parseInputs, wire.KindWelcome: parseWelcome,
	wire.KindEvent: parseEvent, wire.KindIdentify: parseIdentify, wire.KindIdentity: parseIdentity,
	wire.KindResync: wire.ParseResync,
}

// samples returns valid encodings of every message type.
func samples() []sample {
	rng := rand.New(rand.NewPCG(1, 1))
	return []sample{
		{"hello", wire.AppendHello(nil, wire.Hello{Name: "ada", Color: 3}), parseHello},
		{"resync", wire.AppendResync(nil), wire.ParseResync},
		{"hello empty name", wire.AppendHello(nil, wire.Hello{}), parseHello},
		{"hello long name", wire.AppendHello(nil, wire.Hello{Name: "ÉÉÉÉÉÉÉÉ", Color: wire.Colors - 1}), parseHello},
		{"input", wire.AppendInput(nil, wire.Input{Seq: 0xdeadbeef, In: sim.Thrust | sim.Fire}), parseInputs},
		{"input first", wire.AppendInput(nil, wire.Input{Seq: 1}), parseInputs},
		{"inputs", wire.AppendInputs(nil, consecutive(rng, 100, 3)), parseInputs},
		{"inputs most", wire.AppendInputs(nil, consecutive(rng, wire.MaxInputs, wire.MaxInputs)), parseInputs},
		{"welcome", wire.AppendWelcome(nil, wire.Welcome{ID: 7, Tick: 123456}), parseWelcome},
		{"welcome classic", wire.AppendWelcome(nil, wire.Welcome{ID: 8, Tick: 9, Scene: sim.Classic().Name}), parseWelcome},
		{"welcome battle", wire.AppendWelcome(nil, wire.Welcome{ID: 8, Tick: 9, Scene: sim.Battle().Name}), parseWelcome},
		{"welcome long scene", wire.AppendWelcome(nil, wire.Welcome{ID: 1, Tick: 2, Scene: strings.Repeat("s", wire.MaxScene)}), parseWelcome},
		{"event join", wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: 5, Name: "zoë", Color: 11}), parseEvent},
		{"event leave", wire.AppendEvent(nil, wire.Event{Kind: wire.EventLeave, ID: 5}), parseEvent},
		{"event kill", wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 5, Other: 6, X: 100.5, Y: 999.95}), parseEvent},
		{"event kill far", wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 5, Other: 6, X: 6400, Y: 4000}), parseEvent},
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
}

// TestKinds: the kinds of the messages that remain are unchanged; 17, the
// snapshot of version 1, is no message any more; and none is the tag that
// starts the world's snapshots (package replicate), which share the
// connection.
func TestKinds(t *testing.T) {
	kinds := []wire.Kind{wire.KindHello, wire.KindInput, wire.KindIdentify, wire.KindResync, wire.KindWelcome, wire.KindEvent, wire.KindIdentity}
	assert.Equal(t, []wire.Kind{1, 2, 3, 4, 16, 18, 19}, kinds)
	require.Len(t, parsers, len(kinds))
	for _, k := range kinds {
		require.Contains(t, parsers, k)
		require.NotEqual(t, wire.Kind(replicate.DefaultTag), k)
	}
	for _, s := range samples() {
		k, err := wire.KindOf(s.msg)
		require.NoError(t, err)
		require.Contains(t, kinds, k, s.name)
		require.NotEqual(t, byte(replicate.DefaultTag), s.msg[0], s.name)
	}
	// An old snapshot, any parser refuses.
	old := append([]byte{17}, make([]byte, 40)...)
	for i := range len(old) {
		for kind, parse := range parsers {
			require.ErrorIs(t, parse(old[:i+1]), wire.ErrMalformed, "kind %d parsed %d bytes of kind 17", kind, i+1)
		}
	}
	_, err := wire.KindOf([]byte{17})
	require.NoError(t, err, "KindOf reads any first byte")
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
		ins[i] = wire.Input{Seq: newest - uint32(n-1-i), In: sim.Input(rng.IntN(32))}
	}
	return ins
}

func TestInputRoundTrip(t *testing.T) {
	for _, seq := range []uint32{1, 2, 0x01020304, math.MaxUint32} {
		for b := sim.Input(0); b <= allBtns; b++ {
			in := wire.Input{Seq: seq, In: b}
			m := wire.AppendInput(nil, in)
			require.Len(t, m, 11) // kind, count, seq, view, buttons
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
			require.Len(t, m, 6+5*n)
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
	for _, w := range []wire.Welcome{
		{}, {ID: 1, Tick: 2}, {ID: math.MaxUint32, Tick: math.MaxUint32}, {ID: 0x0a0b0c0d, Tick: 77},
		{ID: 3, Tick: 4, Scene: "classic"}, {ID: 5, Tick: 6, Scene: "battle"},
		{ID: 7, Tick: 8, Scene: sim.Classic().Name}, {ID: 9, Tick: 10, Scene: sim.Battle().Name},
		{ID: 11, Tick: 12, Scene: "sixteen-bytes-ok"}, {ID: 13, Tick: 14, Scene: "écran_géant"},
	} {
		m := wire.AppendWelcome(nil, w)
		require.Len(t, m, 10+len(w.Scene))
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindWelcome, k)
		got, err := wire.ParseWelcome(m)
		require.NoError(t, err)
		require.Equal(t, w, got)
	}
	require.Len(t, "sixteen-bytes-ok", wire.MaxScene)
	// The scenes the game knows all fit.
	for _, sc := range sim.Scenes() {
		require.LessOrEqual(t, len(sc.Name), wire.MaxScene, "scene %q", sc.Name)
		got, err := wire.ParseWelcome(wire.AppendWelcome(nil, wire.Welcome{Scene: sc.Name}))
		require.NoError(t, err)
		found, ok := sim.SceneByName(got.Scene)
		require.True(t, ok, "scene %q", got.Scene)
		require.Equal(t, sc, found)
	}
	// A longer scene name is cut to MaxScene bytes.
	long := strings.Repeat("abcdefgh", 3)
	m := wire.AppendWelcome(nil, wire.Welcome{ID: 1, Tick: 2, Scene: long})
	require.Len(t, m, 10+wire.MaxScene)
	got, err := wire.ParseWelcome(m)
	require.NoError(t, err)
	assert.Equal(t, wire.Welcome{ID: 1, Tick: 2, Scene: long[:wire.MaxScene]}, got)
	// Appending keeps what was there.
	m = wire.AppendWelcome([]byte("xy"), wire.Welcome{ID: 1, Scene: "battle"})
	assert.Equal(t, "xy", string(m[:2]))
	got, err = wire.ParseWelcome(m[2:])
	require.NoError(t, err)
	assert.Equal(t, wire.Welcome{ID: 1, Scene: "battle"}, got)
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range []wire.Event{
		{Kind: wire.EventJoin, ID: 1, Name: "ada", Color: 4},
		{Kind: wire.EventJoin, ID: math.MaxUint32, Name: "", Color: 0},
		{Kind: wire.EventLeave, ID: 9},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 1600, Y: 0},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 123.456, Y: 987.654},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 6400, Y: 4000}, // the battle scene's corner
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 6399.94, Y: 3999.99},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: 5123.3, Y: 0.06},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: maxPos, Y: 0.0625},
		{Kind: wire.EventKill, ID: 2, Other: 3, X: -20000, Y: 1e9},   // clamped
		{Kind: wire.EventKill, ID: 2, Other: 3, X: -0.01, Y: 8192.5}, // clamped
	} {
		m := wire.AppendEvent(nil, e)
		k, err := wire.KindOf(m)
		require.NoError(t, err)
		require.Equal(t, wire.KindEvent, k)
		got, err := wire.ParseEvent(m)
		require.NoError(t, err)
		assert.Equal(t, wire.QuantizePos(e.X), got.X)
		assert.Equal(t, wire.QuantizePos(e.Y), got.Y)
		if e.X >= 0 && e.X <= maxPos && e.Y >= 0 && e.Y <= maxPos {
			assert.InDelta(t, e.X, got.X, posErr)
			assert.InDelta(t, e.Y, got.Y, posErr)
		}
		got.X, got.Y = e.X, e.Y
		assert.Equal(t, e, got)
	}
	// Every position of the battle scene within an eighth of a unit.
	battle := sim.Battle()
	rng := rand.New(rand.NewPCG(2, 3))
	for range 10000 {
		e := wire.Event{Kind: wire.EventKill, X: rng.Float64() * battle.Width, Y: rng.Float64() * battle.Height}
		got, err := wire.ParseEvent(wire.AppendEvent(nil, e))
		require.NoError(t, err)
		require.InDelta(t, e.X, got.X, posErr)
		require.InDelta(t, e.Y, got.Y, posErr)
		require.Equal(t, wire.QuantizePos(e.X), got.X)
		require.Equal(t, wire.QuantizePos(e.Y), got.Y)
	}
	got, err := wire.ParseEvent(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, X: -20000, Y: 1e9}))
	require.NoError(t, err)
	assert.Equal(t, 0.0, got.X, "clamped, not wrapped")
	assert.Equal(t, maxPos, got.Y, "clamped, not wrapped")
	got, err = wire.ParseEvent(wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, Name: "\x1b[2Jevil\tname that is long", Color: 200}))
	require.NoError(t, err)
	assert.Equal(t, "[2Jevil_name_tha", got.Name)
	assert.Equal(t, uint8(200%wire.Colors), got.Color)
}

func TestQuantizePos(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, 0}, {0.06, 0}, {0.07, 0.125}, {0.125, 0.125}, {1.234, 1.25}, {100.5, 100.5},
		{1600, 1600}, {6400, 6400}, {4000, 4000}, {6399.93, 6399.875}, {6399.94, 6400}, {6399.95, 6400},
		{maxPos, maxPos}, {8191.9, maxPos}, {8192, maxPos}, {8192.5, maxPos}, {1e9, maxPos},
		{math.Inf(1), maxPos}, {math.MaxFloat64, maxPos},
		{-0.01, 0}, {-0.07, 0}, {-1, 0}, {-1e9, 0}, {math.Inf(-1), 0}, {-math.MaxFloat64, 0},
	} {
		assert.Equal(t, tc.want, wire.QuantizePos(tc.in), "QuantizePos(%v)", tc.in)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		v := rng.Float64()*(maxPos+200) - 100
		q := wire.QuantizePos(v)
		require.Equal(t, q, wire.QuantizePos(q), "quantizing is idempotent")
		require.Equal(t, q, math.Round(q*8)/8, "a multiple of 1/8")
		require.True(t, q >= 0 && q <= maxPos, "%v", q)
		switch {
		case v < 0:
			require.Equal(t, 0.0, q)
		case v > maxPos:
			require.Equal(t, maxPos, q)
		default:
			require.InDelta(t, v, q, posErr)
		}
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
			m[6+5*i+4] = byte(b) // kind, count, seq; per input its view, then its buttons
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
		m := []byte{byte(wire.KindInput), byte(tc.n)}
		m = binary.LittleEndian.AppendUint32(m, tc.newest)
		m = append(m, make([]byte, 5*tc.n)...)
		_, err := wire.ParseInputs(nil, m)
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
		} else {
			require.ErrorIs(t, err, wire.ErrMalformed, "%+v", tc)
		}
	}

	// Welcome scenes: a length beyond the message or short of it, more
	// than MaxScene, invalid UTF-8.
	welcome := func(n byte, scene string) []byte {
		m := wire.AppendWelcome(nil, wire.Welcome{ID: 1, Tick: 2})
		m[9] = n
		return append(m, scene...)
	}
	_, err = wire.ParseWelcome(welcome(6, "battle"))
	require.NoError(t, err)
	for _, m := range [][]byte{
		welcome(7, "battle"), welcome(5, "battle"), welcome(1, ""), welcome(255, "battle"),
		welcome(wire.MaxScene+1, strings.Repeat("s", wire.MaxScene+1)),
		welcome(255, strings.Repeat("s", 255)),
	} {
		_, err := wire.ParseWelcome(m)
		require.ErrorIs(t, err, wire.ErrMalformed, "%q", m)
	}
	for _, scene := range badNames {
		_, err := wire.ParseWelcome(welcome(byte(len(scene)), scene))
		require.ErrorIs(t, err, wire.ErrMalformed, "welcome scene %q", scene)
	}
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

func TestLaserRoundTrip(t *testing.T) {
	for _, l := range []wire.Laser{
		{},
		{Shooter: 3, Seq: 1234, X: 100.5, Y: 200.25, Angle: 1.25, Length: 640.125, Victim: 9, Rewind: 287 * time.Millisecond},
		{Shooter: math.MaxUint32, Seq: math.MaxUint32, X: 6399.875, Y: 3999.875, Angle: -math.Pi, Length: sim.LaserRange, Rewind: 350 * time.Millisecond, Capped: true},
	} {
		m := wire.AppendLaser(nil, l)
		require.Len(t, m, wire.LaserSize)
		got, err := wire.ParseLaser(m)
		require.NoError(t, err)
		want := l
		want.Angle = float64(float32(l.Angle))
		want.X, want.Y, want.Length = wire.QuantizePos(l.X), wire.QuantizePos(l.Y), wire.QuantizePos(l.Length)
		assert.Equal(t, want, got)
	}
	// Angles go the short way round; rewinds are milliseconds up to 65.535 s.
	got, err := wire.ParseLaser(wire.AppendLaser(nil, wire.Laser{Angle: 3 * math.Pi, Rewind: time.Hour}))
	require.NoError(t, err)
	assert.InDelta(t, math.Pi, math.Abs(got.Angle), 1e-6)
	assert.Equal(t, 65535*time.Millisecond, got.Rewind)
	// Refused: any other size, another kind, a NaN angle, unknown flags.
	good := wire.AppendLaser(nil, wire.Laser{Shooter: 1})
	for n := range 2 * wire.LaserSize {
		if n != wire.LaserSize {
			_, err := wire.ParseLaser(append(bytes.Clone(good), make([]byte, wire.LaserSize)...)[:n])
			require.ErrorIs(t, err, wire.ErrMalformed, "%d bytes", n)
		}
	}
	for _, bad := range []func(m []byte){
		func(m []byte) { m[0] = byte(wire.KindEvent) },
		func(m []byte) { binary.BigEndian.PutUint32(m[13:], math.Float32bits(float32(math.NaN()))) },
		func(m []byte) { binary.BigEndian.PutUint32(m[13:], math.Float32bits(5)) },
		func(m []byte) { m[wire.LaserSize-1] = 2 },
	} {
		m := bytes.Clone(good)
		bad(m)
		_, err := wire.ParseLaser(m)
		require.ErrorIs(t, err, wire.ErrMalformed)
	}
}
