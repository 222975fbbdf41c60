package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

func sampleHeaders() []protocol.Header {
	return []protocol.Header{
		{},
		{Direction: protocol.ToServer, CTime: 1700000000, Seq: 1, Ack: 0, Type: protocol.TypeClientHello, Length: 1414, Count: 1},
		{Direction: protocol.ToClient, CTime: 1700000000, Seq: 1, Ack: 1, Type: protocol.TypeServerHello, Length: 305, Count: 1},
		{Direction: protocol.ToServer, CTime: 0xffffffff, Seq: 65535, Ack: 65535, Type: protocol.TypeAppFragment, Length: 0xffff, Count: 255, AckBits: 0xffffffff},
		{Direction: protocol.ToClient, CTime: 0x01020304, Seq: 0x0506, Ack: 0x0708, Type: protocol.TypeKeepAlive, Length: 0x090a, Count: 0x0b, AckBits: 0x0c0d0e0f},
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range sampleHeaders() {
		if h.Direction == 0 {
			h.Direction = protocol.ToServer
		}
		enc := h.AppendTo(nil)
		require.Len(t, enc, protocol.HeaderSize)

		var buf [protocol.HeaderSize]byte
		h.Put(buf[:])
		assert.Equal(t, enc, buf[:], "Put and AppendTo agree")

		prefixed := h.AppendTo([]byte{1, 2, 3})
		assert.Equal(t, []byte{1, 2, 3}, prefixed[:3])
		assert.Equal(t, enc, prefixed[3:])

		got, err := protocol.ParseHeader(enc)
		require.NoError(t, err)
		assert.Equal(t, h, got)
		got, err = protocol.ParseHeaderFrom(enc, h.Direction)
		require.NoError(t, err)
		assert.Equal(t, h, got)

		// trailing bytes (the payload) are not the header's business
		got, err = protocol.ParseHeader(append(enc, make([]byte, 100)...))
		require.NoError(t, err)
		assert.Equal(t, h, got)
	}
}

func TestHeaderLayout(t *testing.T) {
	h := protocol.Header{Direction: protocol.ToClient, CTime: 0x01020304, Seq: 0x0506, Ack: 0x0708,
		Type: protocol.TypeApp, Length: 0x090a, Count: 0x0b, AckBits: 0x0c0d0e0f}
	want := []byte{'F', 'S', 'O', 'C', 1, 2, 3, 4, 5, 6, 7, 8, 6, 9, 10, 11, 12, 13, 14, 15}
	enc := h.AppendTo(nil)
	assert.Equal(t, want, enc)
	nonce := protocol.Nonce(enc)
	assert.Equal(t, want[:protocol.NonceSize], nonce)
	assert.Equal(t, protocol.NonceSize, cap(nonce), "appending to the nonce cannot clobber the header")
}

func TestHeaderEveryTruncationRejected(t *testing.T) {
	for _, h := range sampleHeaders()[1:] {
		enc := h.AppendTo(nil)
		for n := range protocol.HeaderSize {
			_, err := protocol.ParseHeader(enc[:n])
			assert.ErrorIs(t, err, protocol.ErrShortHeader, "%d bytes", n)
			_, err = protocol.ParseHeaderFrom(enc[:n], h.Direction)
			assert.ErrorIs(t, err, protocol.ErrShortHeader, "%d bytes", n)
		}
	}
	_, err := protocol.ParseHeader(nil)
	assert.ErrorIs(t, err, protocol.ErrShortHeader)
}

func TestHeaderBadMagic(t *testing.T) {
	good := sampleHeaders()[1]
	enc := good.AppendTo(nil)
	for i := range 4 {
		for _, x := range []byte{0x01, 0x20, 0x80, 0xff} {
			b := append([]byte(nil), enc...)
			b[i] ^= x
			if i == 3 && (b[3] == 'S' || b[3] == 'C') {
				continue // flipping S to C is a valid header going the other way
			}
			_, err := protocol.ParseHeader(b)
			assert.ErrorIs(t, err, protocol.ErrBadMagic, "byte %d ^ %#x", i, x)
		}
	}
	for _, d := range []byte{0, 's', 'c', 'X', 0xff} {
		b := append([]byte(nil), enc...)
		b[3] = d
		_, err := protocol.ParseHeader(b)
		assert.ErrorIs(t, err, protocol.ErrBadMagic, "direction %q", d)
	}
}

func TestHeaderPacketTypes(t *testing.T) {
	h := protocol.Header{Direction: protocol.ToServer, Seq: 1}
	for typ := 0; typ <= 255; typ++ {
		h.Type = protocol.PacketType(typ)
		enc := h.AppendTo(nil)
		got, err := protocol.ParseHeader(enc)
		if typ <= 7 {
			require.NoError(t, err, "type %d", typ)
			assert.Equal(t, h, got)
		} else {
			assert.ErrorIs(t, err, protocol.ErrPacketType, "type %d", typ)
		}
	}
}

func TestParseHeaderFromDirection(t *testing.T) {
	for _, c := range []struct {
		sent, want protocol.Direction
		ok         bool
	}{
		{protocol.ToServer, protocol.ToServer, true},
		{protocol.ToClient, protocol.ToClient, true},
		{protocol.ToServer, protocol.ToClient, false},
		{protocol.ToClient, protocol.ToServer, false},
	} {
		h := protocol.Header{Direction: c.sent, Seq: 3, Type: protocol.TypeApp}
		_, err := protocol.ParseHeaderFrom(h.AppendTo(nil), c.want)
		if c.ok {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, protocol.ErrDirection)
		}
	}
	// the other errors come first
	bad := protocol.Header{Direction: protocol.ToClient, Type: 9}
	_, err := protocol.ParseHeaderFrom(bad.AppendTo(nil), protocol.ToServer)
	assert.ErrorIs(t, err, protocol.ErrPacketType)
}

func TestHeaderPutShortBufferPanics(t *testing.T) {
	var h protocol.Header
	assert.Panics(t, func() { h.Put(make([]byte, protocol.HeaderSize-1)) })
}

func TestPacketTypeMethods(t *testing.T) {
	cases := []struct {
		t     protocol.PacketType
		name  string
		valid bool
		crc   bool
	}{
		{protocol.TypeUnknown, "UNKNOWN", true, false},
		{protocol.TypeClientHello, "CLIENT_HELLO", true, true},
		{protocol.TypeServerHello, "SERVER_HELLO", true, true},
		{protocol.TypeChallengeResp, "CHALLENGE_RESP", true, false},
		{protocol.TypeKeepAlive, "KEEP_ALIVE", true, false},
		{protocol.TypeDisconnect, "DISCONNECT", true, false},
		{protocol.TypeApp, "APP", true, false},
		{protocol.TypeAppFragment, "APP_FRAGMENT", true, false},
		{8, "PacketType(8)", false, false},
		{255, "PacketType(255)", false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.name, c.t.String())
		assert.Equal(t, c.valid, c.t.Valid(), c.name)
		assert.Equal(t, c.crc, c.t.UsesCRC(), c.name)
	}
	assert.Equal(t, "to server", protocol.ToServer.String())
	assert.Equal(t, "to client", protocol.ToClient.String())
	assert.Equal(t, "Direction(0x58)", protocol.Direction('X').String())
	assert.EqualValues(t, 'S', protocol.ToServer)
	assert.EqualValues(t, 'C', protocol.ToClient)
}
