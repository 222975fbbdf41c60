package wire_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// The fuzz targets check that parsers never panic, that every error wraps
// ErrMalformed, and that whatever parses re-encodes to a message that
// parses to the same value (after one round of quantization and name
// cleaning, encoding is a fixed point). Names, which end up in log lines
// and on other players' screens, come out of cleaning as one word of
// printable runes (requireCleanName).

// nameSamples are names with what cleaning removes or replaces: spaces of
// every kind, bidi controls, zero-width and other invisible runes.
var nameSamples = []string{
	"Ada Lovelace", " ada\t", "a\u00a0b\u3000c\u2003d\u202fe", "\u2028\u2029x\u0085",
	"abc\u202eexe.txt", "\u2066ab\u2069\u202a\u202d", "a\u200bb\u200dc\ufeffd\u2060", "\u200e\u200f\u061c",
	"\u3164\u115f", "a\ufe0f\U000E0041", "\ue000\u2800", "abcdefghijklmn x", "_ _",
}

// addSamples seeds f with the valid encodings of kind and some near misses.
func addSamples(f *testing.F, kind wire.Kind) {
	for _, s := range samples() {
		if wire.Kind(s.msg[0]) == kind {
			f.Add(s.msg)
			f.Add(s.msg[:len(s.msg)-1])
			f.Add(append(bytes.Clone(s.msg), 0))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{byte(kind)})
}

func requireMalformed(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, wire.ErrMalformed)
}

func FuzzParseHello(f *testing.F) {
	addSamples(f, wire.KindHello)
	f.Add(wire.AppendHello(nil, wire.Hello{Name: "é🚀x", Color: 7}))
	f.Add([]byte{byte(wire.KindHello), 1, 3, 'a', 0, 'b'}) // a control char the encoder drops
	for _, name := range nameSamples {
		// As a client of another build may send them.
		f.Add(append([]byte{byte(wire.KindHello), 2, byte(min(len(name), wire.MaxName))}, name[:min(len(name), wire.MaxName)]...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := wire.ParseHello(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
		require.Equal(t, wire.KindHello, wire.Kind(data[0]))
		require.Less(t, h.Color, uint8(wire.Colors))
		require.LessOrEqual(t, len(h.Name), wire.MaxName)
		require.True(t, utf8.ValidString(h.Name))

		m2 := wire.AppendHello(nil, h)
		h2, err := wire.ParseHello(m2)
		require.NoError(t, err)
		require.Equal(t, wire.Hello{Name: wire.CleanName(h.Name), Color: h.Color}, h2)
		requireCleanName(t, h2.Name)
		if wire.CleanName(h.Name) == h.Name {
			require.Equal(t, data, m2)
		}
		m3 := wire.AppendHello(nil, h2)
		require.Equal(t, m2, m3)
	})
}

// FuzzCleanName checks CleanName on any string: the result is a clean
// name (requireCleanName), cleaning it again changes nothing, and it is
// what the documented rules give (cleanNameModel).
func FuzzCleanName(f *testing.F) {
	for _, name := range nameSamples {
		f.Add(name)
	}
	f.Add("\xff\xfe a \xc3")
	f.Add(strings.Repeat("\u202e", 20) + "evil")
	f.Fuzz(func(t *testing.T, s string) {
		got := wire.CleanName(s)
		requireCleanName(t, got)
		require.Equal(t, got, wire.CleanName(got))
		require.Equal(t, cleanNameModel(s), got)
	})
}

func FuzzParseInput(f *testing.F) {
	addSamples(f, wire.KindInput)
	f.Add([]byte{byte(wire.KindInput), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // seq 0
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, err := wire.ParseInputs(nil, data)
		one, err1 := wire.ParseInput(data)
		if err != nil {
			requireMalformed(t, err)
			requireMalformed(t, err1)
			require.Empty(t, ins)
			return
		}
		require.NotEmpty(t, ins)
		require.LessOrEqual(t, len(ins), wire.MaxInputs)
		if len(ins) == 1 {
			require.NoError(t, err1)
			require.Equal(t, ins[0], one)
		} else {
			requireMalformed(t, err1)
		}
		for i, in := range ins {
			require.Zero(t, in.In&^allBtns)
			require.Positive(t, in.Seq)
			if i > 0 {
				require.Equal(t, ins[i-1].Seq+1, in.Seq, "consecutive")
			}
		}
		// Inputs carry no quantization: the encoding is exact.
		require.Equal(t, data, wire.AppendInputs(nil, ins))
		// Parsing into a used destination gives the same.
		dst := []wire.Input{{Seq: 99, In: sim.Fire}, {}, {}}
		dst, err = wire.ParseInputs(dst, data)
		require.NoError(t, err)
		require.Equal(t, ins, dst)
	})
}

func FuzzParseWelcome(f *testing.F) {
	addSamples(f, wire.KindWelcome)
	for _, scene := range append([]string{"classic", "battle", "\xff", "ab\xc3", strings.Repeat("x", wire.MaxScene+1)}, nameSamples...) {
		// As a server of another build may send them.
		m := wire.AppendWelcome(nil, wire.Welcome{ID: 1, Tick: 2})
		m[len(m)-1] = byte(len(scene))
		f.Add(append(m, scene...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := wire.ParseWelcome(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
		require.Equal(t, wire.KindWelcome, wire.Kind(data[0]))
		require.LessOrEqual(t, len(w.Scene), wire.MaxScene)
		require.True(t, utf8.ValidString(w.Scene))
		// Whatever parses is exactly what encoding it gives.
		require.Equal(t, data, wire.AppendWelcome(nil, w))
	})
}

func FuzzParseIdent(f *testing.F) {
	addSamples(f, wire.KindIdentify)
	addSamples(f, wire.KindIdentity)
	f.Add([]byte{byte(wire.KindIdentity), 0, 1, 2, 'a', 0}) // a control char
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []struct {
			kind   wire.Kind
			parse  func([]byte) (wire.Ident, error)
			encode func([]byte, wire.Ident) []byte
		}{
			{wire.KindIdentify, wire.ParseIdentify, wire.AppendIdentify},
			{wire.KindIdentity, wire.ParseIdentity, wire.AppendIdentity},
		} {
			id, err := k.parse(data)
			if err != nil {
				requireMalformed(t, err)
				continue
			}
			require.Equal(t, k.kind, wire.Kind(data[0]))
			require.LessOrEqual(t, len(id.Game), wire.MaxGameID)
			require.True(t, utf8.ValidString(id.Game))
			// Whatever parses is exactly what encoding it gives.
			require.Equal(t, data, k.encode(nil, id))
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	addSamples(f, wire.KindEvent)
	f.Add(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 1, Other: 2, X: 0, Y: maxPos}))
	f.Add(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 1, Other: 2, X: 6400, Y: 4000}))
	for _, name := range nameSamples {
		// As a server of another build may send them.
		m := wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: 3, Color: 4})
		n := min(len(name), wire.MaxName)
		m[len(m)-1] = byte(n)
		f.Add(append(m, name[:n]...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := wire.ParseEvent(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
		require.True(t, e.Kind >= wire.EventJoin && e.Kind <= wire.EventKill)
		require.Less(t, e.Color, uint8(wire.Colors))
		require.True(t, utf8.ValidString(e.Name))
		require.LessOrEqual(t, len(e.Name), wire.MaxName)
		for _, v := range []float64{e.X, e.Y} {
			require.True(t, v >= 0 && v <= maxPos, "%v", v)
			require.Equal(t, v, wire.QuantizePos(v), "quantized")
		}

		m2 := wire.AppendEvent(nil, e)
		e2, err := wire.ParseEvent(m2)
		require.NoError(t, err)
		want := e
		want.Name = wire.CleanName(e.Name)
		require.Equal(t, want, e2)
		requireCleanName(t, e2.Name)
		if want.Name == e.Name {
			require.Equal(t, data, m2)
		}
		require.Equal(t, m2, wire.AppendEvent(nil, e2))
	})
}

// FuzzQuantizePos checks QuantizePos on any float: a multiple of 1/8 in
// [0, 8191.875], within 1/16 of the value in range, clamped beyond it, and
// quantizing twice changes nothing.
func FuzzQuantizePos(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.0625, 0.06, 1600, 6400, 4000, maxPos, 8192, -0.01, 1e300, -1e300, math.Inf(1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) {
			return // NaN has no meaningful encoding
		}
		q := wire.QuantizePos(v)
		require.Equal(t, q, wire.QuantizePos(q))
		require.True(t, q >= 0 && q <= maxPos, "%v", q)
		require.Equal(t, q, math.Round(q*8)/8, "a multiple of 1/8")
		switch {
		case v > maxPos:
			require.Equal(t, maxPos, q)
		case v < 0:
			require.Equal(t, 0.0, q)
		default:
			require.InDelta(t, v, q, posErr)
		}
	})
}

// FuzzParseOwn checks ParseOwn on any bytes: it never panics, refuses all
// but OwnSize bytes and values that are not finite or beyond 1e6, and what
// it accepts re-encodes to the same bytes but the unused flag bits.
func FuzzParseOwn(f *testing.F) {
	f.Add(wire.AppendOwn(nil, wire.Own{}))
	f.Add(wire.AppendOwn(nil, wire.Own{Ack: 7, X: 6400, Y: 4000, VX: -480, VY: 480, Angle: math.Pi, Alive: true, Shield: true}))
	f.Add(wire.AppendOwn(nil, wire.Own{X: 1e6, Y: -1e6, VX: math.SmallestNonzeroFloat32}))
	f.Add(wire.AppendOwn(nil, wire.Own{X: math.NaN(), VY: math.Inf(-1)}))
	f.Add(wire.AppendOwn(nil, wire.Own{Angle: 2e6}))
	f.Add(append(wire.AppendOwn(nil, wire.Own{Ack: 1}), 0))
	f.Add(wire.AppendOwn(nil, wire.Own{Ack: 1})[:wire.OwnSize-1])
	f.Add(bytes.Repeat([]byte{0xff}, wire.OwnSize))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := wire.ParseOwn(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
		require.Len(t, data, wire.OwnSize)
		for _, v := range []float64{o.X, o.Y, o.VX, o.VY, o.Angle} {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%v", v)
			require.LessOrEqual(t, math.Abs(v), 1e6)
			require.Equal(t, v, float64(float32(v)), "a float32")
		}
		m := wire.AppendOwn(nil, o)
		require.Len(t, m, wire.OwnSize)
		require.Equal(t, data[:wire.OwnSize-2], m[:wire.OwnSize-2])
		require.Equal(t, data[wire.OwnSize-2]&3, m[wire.OwnSize-2], "the flags, and nothing else")
		require.Equal(t, data[wire.OwnSize-1], m[wire.OwnSize-1], "the laser's cooldown")
		o2, err := wire.ParseOwn(m)
		require.NoError(t, err)
		require.Equal(t, o, o2)
	})
}

// FuzzParseLaser checks ParseLaser on any bytes: it never panics, refuses
// all but LaserSize bytes, a non-finite or wild angle and unknown flags,
// and what it accepts re-encodes to the same bytes.
func FuzzParseLaser(f *testing.F) {
	f.Add(wire.AppendLaser(nil, wire.Laser{}))
	f.Add(wire.AppendLaser(nil, wire.Laser{Shooter: 7, Seq: 99, X: 6400, Y: 4000, Angle: -math.Pi, Length: 900, Victim: 8, Rewind: 350 * time.Millisecond, Capped: true}))
	f.Add(bytes.Repeat([]byte{0xff}, wire.LaserSize))
	f.Add([]byte{byte(wire.KindLaser)})
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := wire.ParseLaser(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
		require.Len(t, data, wire.LaserSize)
		require.False(t, math.IsNaN(l.Angle))
		require.LessOrEqual(t, math.Abs(l.Angle), 3.2)
		require.Equal(t, data, wire.AppendLaser(nil, l), "exact once parsed")
	})
}
