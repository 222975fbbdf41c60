package wire_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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
	f.Add([]byte{byte(wire.KindInput), 0, 0, 0, 0, 1, 0}) // seq 0
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
			require.Zero(t, in.Buttons&^allBtns)
			require.Positive(t, in.Seq)
			if i > 0 {
				require.Equal(t, ins[i-1].Seq+1, in.Seq, "consecutive")
			}
		}
		// Inputs carry no quantization: the encoding is exact.
		require.Equal(t, data, wire.AppendInputs(nil, ins))
		// Parsing into a used destination gives the same.
		dst := []wire.Input{{Seq: 99, Buttons: sim.Fire}, {}, {}}
		dst, err = wire.ParseInputs(dst, data)
		require.NoError(t, err)
		require.Equal(t, ins, dst)
	})
}

func FuzzParseWelcome(f *testing.F) {
	addSamples(f, wire.KindWelcome)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := wire.ParseWelcome(data)
		if err != nil {
			requireMalformed(t, err)
			return
		}
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
	f.Add(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 1, Other: 2, X: -1638.4, Y: 1638.35}))
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
		require.False(t, math.IsNaN(e.X) || math.IsNaN(e.Y))

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

func FuzzParseSnapshot(f *testing.F) {
	addSamples(f, wire.KindSnapshot)
	rng := rand.New(rand.NewPCG(21, 22))
	f.Add(wire.AppendSnapshot(nil, randomSnapshot(rng, 30, 40)))
	f.Add(wire.AppendSnapshot(nil, &wire.Snapshot{
		Ships:   []wire.ShipState{{ID: 1, X: 1e9, Y: -1e9, Angle: math.Pi}, {ID: 2, Angle: -math.Pi}},
		Bullets: []wire.BulletState{{ID: 3, VX: 1e9, VY: -1e9}},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s wire.Snapshot
		err := wire.ParseSnapshot(&s, data)

		// SetSnapshotAck never breaks a message.
		acked := bytes.Clone(data)
		wire.SetSnapshotAck(acked, 0xa5a5a5a5)
		var sa wire.Snapshot
		errAck := wire.ParseSnapshot(&sa, acked)
		if err != nil {
			requireMalformed(t, err)
			requireMalformed(t, errAck)
			return
		}
		require.NoError(t, errAck)
		require.Equal(t, uint32(0xa5a5a5a5), sa.Ack)
		sa.Ack = s.Ack
		require.Equal(t, s, sa)

		require.LessOrEqual(t, len(s.Bullets), wire.MaxBullets)
		require.LessOrEqual(t, len(s.Ships), wire.MaxShips)

		// A used destination gives the same result.
		used := randomSnapshot(rng, 3, 3)
		require.NoError(t, wire.ParseSnapshot(used, data))
		require.Equal(t, s.Tick, used.Tick)
		require.Equal(t, s.Ack, used.Ack)
		require.Equal(t, len(s.Ships), len(used.Ships))
		require.Equal(t, len(s.Bullets), len(used.Bullets))
		for i := range s.Ships {
			require.Equal(t, s.Ships[i], used.Ships[i])
		}
		for i := range s.Bullets {
			require.Equal(t, s.Bullets[i], used.Bullets[i])
		}

		// Re-encoding keeps everything but out-of-range angles, which wrap
		// once around the circle.
		m2 := wire.AppendSnapshot(nil, &s)
		require.Len(t, m2, len(data))
		var s2 wire.Snapshot
		require.NoError(t, wire.ParseSnapshot(&s2, m2))
		require.Equal(t, s.Tick, s2.Tick)
		require.Equal(t, s.Ack, s2.Ack)
		require.Equal(t, len(s.Ships), len(s2.Ships))
		require.Equal(t, len(s.Bullets), len(s2.Bullets))
		wrapped := false
		for i, a := range s.Ships {
			b := s2.Ships[i]
			require.LessOrEqual(t, angleDiff(a.Angle, b.Angle), angleErr, "angle %v became %v", a.Angle, b.Angle)
			require.LessOrEqual(t, math.Abs(b.Angle), 3.1416)
			if a.Angle != b.Angle {
				require.Greater(t, math.Abs(a.Angle), 3.1416, "an angle in range must not change")
				wrapped = true
			}
			a.Angle = b.Angle
			require.Equal(t, a, b)
		}
		for i := range s.Bullets {
			require.Equal(t, s.Bullets[i], s2.Bullets[i])
		}
		if !wrapped {
			require.Equal(t, data, m2)
		}
		// And now it is a fixed point.
		require.Equal(t, m2, wire.AppendSnapshot(nil, &s2))
	})
}

// FuzzQuantize checks the quantizers on any float: the error bounds within
// range, clamping beyond it, and that quantizing twice changes nothing.
func FuzzQuantize(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.025, 1600, 1638.35, 1638.4, -1638.4, 1e300, math.Pi, -math.Pi, 3.14165, 100} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) {
			return // NaN has no meaningful encoding
		}
		q := wire.Quantize(v)
		require.Equal(t, q, wire.Quantize(q))
		require.True(t, q >= -1638.4 && q <= 1638.35, "%v", q)
		switch {
		case v > 1638.35:
			require.Equal(t, 1638.35, q)
		case v < -1638.4:
			require.Equal(t, -1638.4, q)
		default:
			require.InDelta(t, v, q, posErr)
		}
		if math.IsInf(v, 0) {
			return
		}
		a := wire.QuantizeAngle(v)
		require.Equal(t, a, wire.QuantizeAngle(a))
		require.LessOrEqual(t, math.Abs(a), 3.1416)
		if math.Abs(v) < 1e6 { // far out, float64 itself is coarse on the circle
			require.LessOrEqual(t, angleDiff(v, a), angleErr, "angle %v became %v", v, a)
		}
	})
}
