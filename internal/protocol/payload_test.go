package protocol_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

// readAll reads every message of a payload with a PayloadReader.
func readAll(typ protocol.PacketType, count uint8, payload []byte) ([]protocol.Message, error) {
	var r protocol.PayloadReader
	r.Reset(typ, count, payload)
	var out []protocol.Message
	for {
		m, ok := r.Next()
		if !ok {
			break
		}
		out = append(out, m)
	}
	return out, r.Err()
}

func msgs(bodies ...string) []protocol.Message {
	out := make([]protocol.Message, len(bodies))
	for i, b := range bodies {
		out[i] = protocol.Message{Seq: protocol.Seq(100 + i), Type: protocol.TypeApp, Body: []byte(b)}
	}
	return out
}

// multiMessagePayloads are valid payloads of two or more messages.
func multiMessagePayloads() map[string][]protocol.Message {
	return map[string][]protocol.Message{
		"two":          msgs("hello", "world"),
		"empty bodies": msgs("", "", ""),
		"mixed types": {
			{Seq: 2, Type: protocol.TypeChallengeResp, Body: []byte{0, 0x84, 0, 3, 1, 0, 3, 5}},
			{Seq: 3, Type: protocol.TypeApp, Body: []byte("x")},
			{Seq: 4, Type: protocol.TypeDisconnect},
			{Seq: 65535, Type: protocol.TypeAppFragment, Body: []byte{0, 1, 0, 2, 0, 2, 9}},
		},
		"many": func() []protocol.Message {
			var m []protocol.Message
			for i := range 255 {
				m = append(m, protocol.Message{Seq: protocol.Seq(i + 1), Type: protocol.TypeApp, Body: []byte{byte(i)}})
			}
			return m
		}(),
		"full packet": func() []protocol.Message {
			// 14 records of 97 bytes: 14*(5+97) = 1428 <= 1434
			var m []protocol.Message
			for i := range 14 {
				m = append(m, protocol.Message{Seq: protocol.Seq(i + 1), Type: protocol.TypeApp, Body: bytes.Repeat([]byte{byte(i)}, 97)})
			}
			return m
		}(),
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	cases := map[string][]protocol.Message{
		"none":           nil,
		"one":            msgs("hello"),
		"one empty":      msgs(""),
		"one max":        {{Seq: 7, Type: protocol.TypeApp, Body: bytes.Repeat([]byte{1}, protocol.MaxSingleMessage)}},
		"one disconnect": {{Seq: 65535, Type: protocol.TypeDisconnect}},
	}
	for k, v := range multiMessagePayloads() {
		cases[k] = v
	}
	for name, ms := range cases {
		t.Run(name, func(t *testing.T) {
			enc, err := protocol.AppendPayload(nil, ms)
			require.NoError(t, err)
			assert.Len(t, enc, protocol.PayloadSize(ms))
			prefixed, err := protocol.AppendPayload([]byte{9, 9}, ms)
			require.NoError(t, err)
			assert.Equal(t, append([]byte{9, 9}, enc...), prefixed)

			typ := protocol.HeaderType(ms)
			require.LessOrEqual(t, len(ms), 255)
			count := uint8(len(ms))
			require.NoError(t, protocol.ValidatePayload(typ, count, enc))
			got, err := readAll(typ, count, enc)
			require.NoError(t, err)
			require.Len(t, got, len(ms))
			for i := range ms {
				assert.Equal(t, ms[i].Seq, got[i].Seq, "message %d", i)
				assert.Equal(t, ms[i].Type, got[i].Type, "message %d", i)
				assert.True(t, bytes.Equal(ms[i].Body, got[i].Body), "message %d", i)
				assert.Equal(t, len(got[i].Body), cap(got[i].Body), "bodies are capped")
			}
			again, err := protocol.AppendPayload(nil, got)
			require.NoError(t, err)
			assert.Equal(t, enc, again)
		})
	}
}

func TestPayloadLayout(t *testing.T) {
	one, err := protocol.AppendPayload(nil, []protocol.Message{{Seq: 0x0102, Type: protocol.TypeApp, Body: []byte("ab")}})
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 'a', 'b'}, one)
	two, err := protocol.AppendPayload(nil, []protocol.Message{
		{Seq: 0x0102, Type: protocol.TypeApp, Body: []byte("ab")},
		{Seq: 0x0304, Type: protocol.TypeDisconnect},
	})
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 2, 1, 2, 6, 'a', 'b', 0, 0, 3, 4, 5}, two)
}

func TestPayloadSizeAndHeaderType(t *testing.T) {
	assert.Equal(t, 0, protocol.PayloadSize(nil))
	assert.Equal(t, 2+5, protocol.PayloadSize(msgs("hello")))
	assert.Equal(t, 10+10, protocol.PayloadSize(msgs("hello", "world")))
	assert.Equal(t, protocol.TypeKeepAlive, protocol.HeaderType(nil))
	assert.Equal(t, protocol.TypeDisconnect, protocol.HeaderType([]protocol.Message{{Type: protocol.TypeDisconnect}, {Type: protocol.TypeApp}}))
	for n, want := range map[int]int{-1: 0, 0: 0, 1: 2, 2: 10, 3: 15, 50: 250, 255: 1275} {
		assert.Equal(t, want, protocol.Overhead(n), "n=%d", n)
	}
}

func TestAppendPayloadErrors(t *testing.T) {
	var many []protocol.Message
	for range 256 {
		many = append(many, protocol.Message{Type: protocol.TypeApp})
	}
	_, err := protocol.AppendPayload(nil, many)
	assert.ErrorIs(t, err, protocol.ErrTooManyMessages)

	big := []protocol.Message{{Type: protocol.TypeApp, Body: make([]byte, 0x10000)}, {Type: protocol.TypeApp}}
	_, err = protocol.AppendPayload(nil, big)
	assert.ErrorIs(t, err, protocol.ErrPayload)

	big[0].Body = big[0].Body[:0xffff]
	_, err = protocol.AppendPayload(nil, big)
	assert.NoError(t, err, "65535 bytes still fit a record")
}

func TestPayloadEveryPrefixRejected(t *testing.T) {
	for name, ms := range multiMessagePayloads() {
		t.Run(name, func(t *testing.T) {
			enc, err := protocol.AppendPayload(nil, ms)
			require.NoError(t, err)
			typ, count := protocol.HeaderType(ms), uint8(len(ms))
			for n := range len(enc) {
				err := protocol.ValidatePayload(typ, count, enc[:n])
				require.ErrorIs(t, err, protocol.ErrPayload, "prefix of %d of %d bytes", n, len(enc))
				_, err = readAll(typ, count, enc[:n])
				require.ErrorIs(t, err, protocol.ErrPayload, "prefix of %d of %d bytes", n, len(enc))
			}
		})
	}
	// a single message needs at least its seq
	for n := range 2 {
		assert.ErrorIs(t, protocol.ValidatePayload(protocol.TypeApp, 1, []byte{1, 2}[:n]), protocol.ErrPayload)
	}
}

func TestPayloadMalformed(t *testing.T) {
	three, err := protocol.AppendPayload(nil, msgs("abc", "de", "f"))
	require.NoError(t, err)
	withType := func(i int, typ byte) []byte {
		b := append([]byte(nil), three...)
		off := 0
		for range i {
			off += 5 + int(binary.BigEndian.Uint16(b[off:]))
		}
		b[off+4] = typ
		return b
	}
	withLen := func(i int, n uint16) []byte {
		b := append([]byte(nil), three...)
		off := 0
		for range i {
			off += 5 + int(binary.BigEndian.Uint16(b[off:]))
		}
		binary.BigEndian.PutUint16(b[off:], n)
		return b
	}
	cases := []struct {
		name    string
		count   uint8
		payload []byte
	}{
		{"count 0 with bytes", 0, []byte{0}},
		{"count 0 with a message", 0, three},
		{"count lies low", 2, three},
		{"count lies low, short payload", 2, three[:len(three)-1]},
		{"count lies high", 4, three},
		{"count 255", 255, three},
		{"trailing byte", 3, append(append([]byte(nil), three...), 0)},
		{"trailing record header", 3, append(append([]byte(nil), three...), 0, 0, 0, 1, 6)},
		{"body_len beyond end", 3, withLen(2, 2)},
		{"body_len far beyond end", 3, withLen(0, 0xffff)},
		{"body_len short leaves garbage", 3, withLen(2, 0)},
		{"body_len long eats next record", 3, withLen(0, 4)},
		{"type 8 first", 3, withType(0, 8)},
		{"type 8 middle", 3, withType(1, 8)},
		{"type 255 last", 3, withType(2, 255)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := protocol.ValidatePayload(protocol.TypeApp, c.count, c.payload)
			assert.ErrorIs(t, err, protocol.ErrPayload)
			_, err = readAll(protocol.TypeApp, c.count, c.payload)
			assert.ErrorIs(t, err, protocol.ErrPayload)
		})
	}
	// every valid type byte is accepted in a record
	for typ := range 8 {
		assert.NoError(t, protocol.ValidatePayload(protocol.TypeApp, 3, withType(1, byte(typ))), "type %d", typ)
	}
}

func TestPayloadReaderStopsAfterError(t *testing.T) {
	three, err := protocol.AppendPayload(nil, msgs("abc", "de", "f"))
	require.NoError(t, err)
	bad := append([]byte(nil), three...)
	bad[len(bad)-2] = 99 // type of the third record
	var r protocol.PayloadReader
	r.Reset(protocol.TypeApp, 3, bad)
	_, ok := r.Next()
	assert.True(t, ok)
	_, ok = r.Next()
	assert.True(t, ok)
	_, ok = r.Next()
	assert.False(t, ok)
	require.ErrorIs(t, r.Err(), protocol.ErrPayload)
	_, ok = r.Next()
	assert.False(t, ok, "Next keeps failing")
	// Reset clears the error
	r.Reset(protocol.TypeApp, 3, three)
	assert.NoError(t, r.Err())
	n := 0
	for {
		if _, ok := r.Next(); !ok {
			break
		}
		n++
	}
	assert.Equal(t, 3, n)
	assert.NoError(t, r.Err())
}

func TestPayloadSingleMessageTakesHeaderType(t *testing.T) {
	for typ := range protocol.PacketType(8) {
		got, err := readAll(typ, 1, []byte{0, 9, 'x'})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, typ, got[0].Type)
		assert.Equal(t, protocol.Seq(9), got[0].Seq)
		assert.Equal(t, []byte("x"), got[0].Body)
	}
	// with count 0 and no bytes there are no messages and no error
	got, err := readAll(protocol.TypeKeepAlive, 0, nil)
	assert.NoError(t, err)
	assert.Empty(t, got)
}

func TestPayloadFullPacketFits(t *testing.T) {
	ms := multiMessagePayloads()["full packet"]
	n := protocol.PayloadSize(ms)
	assert.LessOrEqual(t, n, protocol.MaxPayloadSize)
	assert.LessOrEqual(t, protocol.HeaderSize+n+protocol.TagSize, protocol.MaxDatagramSize)
	one := []protocol.Message{{Body: make([]byte, protocol.MaxSingleMessage)}}
	assert.Equal(t, protocol.MaxPayloadSize, protocol.PayloadSize(one))
	assert.Equal(t, 1470, protocol.HeaderSize+protocol.MaxPayloadSize+protocol.TagSize, "largest datagram the reference builds")
}
