package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

func TestHelloExtRoundTrip(t *testing.T) {
	pad := make([]byte, 1311)
	for i := range pad {
		pad[i] = byte(i * 7)
	}
	_, ok := protocol.ParseHelloExt(pad)
	assert.False(t, ok, "random padding carries no extension")
	e := protocol.HelloExt{Cookies: true, Cookie: [protocol.CookieSize]byte{9, 8, 7}}
	protocol.PutHelloExt(pad, e)
	got, ok := protocol.ParseHelloExt(pad)
	require.True(t, ok)
	assert.Equal(t, e, got)
	assert.True(t, got.HasCookie())
	assert.Equal(t, byte(7*protocol.HelloExtSize), pad[protocol.HelloExtSize], "the rest of the padding is left as it was")
	_, ok = protocol.ParseHelloExt(pad[:protocol.HelloExtSize-1])
	assert.False(t, ok)
}

func TestCookieReplyRoundTrip(t *testing.T) {
	c := [protocol.CookieSize]byte{1, 2, 3}
	body := protocol.AppendCookieReply(nil, c)
	assert.Len(t, body, protocol.CookieReplyBodySize)
	assert.True(t, protocol.IsCookieReply(body))
	got, err := protocol.ParseCookieReply(body)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	for n := 0; n < len(body); n++ {
		_, err := protocol.ParseCookieReply(body[:n])
		assert.ErrorIs(t, err, protocol.ErrCookieReply, "truncated to %d", n)
	}
	_, err = protocol.ParseCookieReply(protocol.AppendCookieReply(nil, [protocol.CookieSize]byte{}))
	assert.ErrorIs(t, err, protocol.ErrCookieReply, "an all-zero cookie is no cookie")
	assert.False(t, protocol.IsCookieReply(protocol.AppendServerHello(nil, protocol.ServerHello{})))
}

func FuzzParseHelloExt(f *testing.F) {
	pad := make([]byte, 64)
	protocol.PutHelloExt(pad, protocol.HelloExt{Cookies: true, Cookie: [protocol.CookieSize]byte{1}})
	f.Add(pad)
	f.Add(protocol.AppendCookieReply(nil, [protocol.CookieSize]byte{5}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, ok := protocol.ParseHelloExt(b); ok {
			out := make([]byte, protocol.HelloExtSize)
			protocol.PutHelloExt(out, e)
			assert.Equal(t, out[:5], b[:5])
			assert.Equal(t, out[6:], b[6:protocol.HelloExtSize])
			assert.Equal(t, out[5]&1, b[5]&1)
		}
		if c, err := protocol.ParseCookieReply(b); err == nil {
			assert.Equal(t, b, protocol.AppendCookieReply(nil, c))
		}
	})
}
