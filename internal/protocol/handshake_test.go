package protocol_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/serial"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

func loadHandshake(t testing.TB) vectors.Handshake {
	t.Helper()
	return vectors.MustLoad[vectors.Handshake]("handshake.json")
}

func loadKeys(t testing.TB) vectors.Keys {
	t.Helper()
	return vectors.MustLoad[vectors.Keys]("keys.json")
}

// handshakeMessages are serializable.json's handshake bodies.
func handshakeMessages(t testing.TB) map[string][]byte {
	t.Helper()
	var v struct {
		Messages map[string]struct {
			Encoded vectors.Hex `json:"encoded_hex"`
		} `json:"messages"`
	}
	require.NoError(t, vectors.Load("serializable.json", &v))
	out := make(map[string][]byte, len(v.Messages))
	for k, m := range v.Messages {
		out[k] = m.Encoded
	}
	return out
}

func TestHandshakeTypeIDs(t *testing.T) {
	var v struct {
		IDs map[string]uint16 `json:"handshake_type_ids"`
	}
	require.NoError(t, vectors.Load("serializable.json", &v))
	assert.EqualValues(t, v.IDs["HandshakeClientHelloMessage"], protocol.ClientHelloID)
	assert.EqualValues(t, v.IDs["HandshakeServerHelloMessage"], protocol.ServerHelloID)
	assert.EqualValues(t, v.IDs["HandshakeClientChallengeResponseMessage"], protocol.ChallengeResponseID)
	assert.EqualValues(t, 1, protocol.ProtocolVersion)
}

func TestClientHelloCodec(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	body := []byte(hs.ClientHello.Message)
	require.Equal(t, body, handshakeMessages(t)["client_hello"])
	require.Len(t, body, protocol.ClientHelloBodySize)

	assert.Equal(t, hs.ClientHello.PaddingLen, protocol.ClientHelloPaddingLen(len(keys.ClientEphemeral.SPKI), protocol.ProtocolVersion))
	require.Len(t, hs.ClientHello.Padding, hs.ClientHello.PaddingLen)

	m, err := protocol.ParseClientHello(body)
	require.NoError(t, err)
	assert.Equal(t, []byte(keys.ClientEphemeral.SPKI), m.PublicKey)
	assert.Equal(t, hs.ClientVersion, m.Version)

	enc, err := protocol.AppendClientHello(nil, m, hs.ClientHello.Padding)
	require.NoError(t, err)
	assert.Equal(t, body, enc)

	// extra bytes after the padding are ignored
	m2, err := protocol.ParseClientHello(append(append([]byte(nil), body...), 1, 2, 3))
	require.NoError(t, err)
	assert.Equal(t, m, m2)

	// every shorter body is rejected
	for n := range len(body) {
		_, err := protocol.ParseClientHello(body[:n])
		require.ErrorIs(t, err, protocol.ErrHandshake, "%d bytes", n)
	}
}

func TestClientHelloErrors(t *testing.T) {
	key := loadKeys(t).ClientEphemeral.SPKI
	pad := make([]byte, protocol.ClientHelloPaddingLen(len(key), 1))

	_, err := protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: key, Version: 1}, pad[1:])
	assert.Error(t, err, "padding too short")
	_, err = protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: key, Version: 1}, append(pad, 0))
	assert.Error(t, err, "padding too long")

	good, err := protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: key, Version: 1}, pad)
	require.NoError(t, err)

	wrongID := append([]byte(nil), good...)
	wrongID[1] = byte(protocol.ServerHelloID)
	_, err = protocol.ParseClientHello(wrongID)
	assert.ErrorIs(t, err, protocol.ErrHandshake)
	assert.ErrorIs(t, err, serial.ErrType)

	// Wider-than-needed integers leave less room for padding, but the
	// reference sizes the padding from the bytes it actually consumed, so
	// its rule is simply "1412 bytes in all": a 1412-byte body with the
	// version as an int64 is accepted, one byte less is not.
	b := serial.AppendTypeID(nil, protocol.ClientHelloID)
	b = serial.AppendBytes(b, key)
	b = append(b, 0, byte(serial.Int64), 0, 0, 0, 0, 0, 0, 0, 1)
	b = append(b, make([]byte, protocol.ClientHelloBodySize-len(b))...)
	m, err := protocol.ParseClientHello(b)
	require.NoError(t, err)
	assert.EqualValues(t, 1, m.Version)
	_, err = protocol.ParseClientHello(b[:len(b)-1])
	assert.ErrorIs(t, err, protocol.ErrHandshake)

	// a key that does not fit at all
	b = serial.AppendTypeID(nil, protocol.ClientHelloID)
	b = serial.AppendBytes(b, make([]byte, 1500))
	b = serial.AppendInt(b, 1)
	_, err = protocol.ParseClientHello(b)
	assert.ErrorIs(t, err, protocol.ErrHandshake)

	// the version is not the codec's business
	other, err := protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: key, Version: 70000},
		make([]byte, protocol.ClientHelloPaddingLen(len(key), 70000)))
	require.NoError(t, err)
	require.Len(t, other, protocol.ClientHelloBodySize)
	m, err = protocol.ParseClientHello(other)
	require.NoError(t, err)
	assert.EqualValues(t, 70000, m.Version)

	// the body is always 1412 bytes, whatever the key length
	for _, n := range []int{0, 65, 91, 127, 128, 300} {
		k := make([]byte, n)
		enc, err := protocol.AppendClientHello(nil, protocol.ClientHello{PublicKey: k, Version: 1},
			make([]byte, protocol.ClientHelloPaddingLen(n, 1)))
		require.NoError(t, err)
		assert.Len(t, enc, protocol.ClientHelloBodySize, "key of %d bytes", n)
		m, err := protocol.ParseClientHello(enc)
		require.NoError(t, err)
		assert.Equal(t, k, m.PublicKey)
	}
}

func TestServerHelloCodec(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	body := []byte(hs.ServerHello.Message)
	require.Equal(t, body, handshakeMessages(t)["server_hello"])

	m, err := protocol.ParseServerHello(body)
	require.NoError(t, err)
	assert.Equal(t, []byte(keys.ServerRoot.SPKI), m.RootKey)
	assert.Equal(t, []byte(hs.ServerHello.Signed), m.Signed)
	assert.Equal(t, []byte(hs.ServerHello.Signature), m.Signature)

	built := protocol.AppendServerHello(nil, protocol.ServerHello{
		RootKey: keys.ServerRoot.SPKI, Signed: hs.ServerHello.Signed, Signature: hs.ServerHello.Signature,
	})
	assert.Equal(t, body, built)

	for n := range len(body) {
		_, err := protocol.ParseServerHello(body[:n])
		require.ErrorIs(t, err, protocol.ErrHandshake, "%d bytes", n)
	}
	_, err = protocol.ParseServerHello(append(append([]byte(nil), body...), 0))
	assert.ErrorIs(t, err, protocol.ErrHandshake, "trailing byte")
	wrongID := append([]byte(nil), body...)
	wrongID[1] = byte(protocol.ClientHelloID)
	_, err = protocol.ParseServerHello(wrongID)
	assert.ErrorIs(t, err, protocol.ErrHandshake)

	// empty fields round-trip too
	empty := protocol.AppendServerHello(nil, protocol.ServerHello{})
	m, err = protocol.ParseServerHello(empty)
	require.NoError(t, err)
	assert.Empty(t, m.RootKey)
	assert.Equal(t, empty, protocol.AppendServerHello(nil, m))
}

func TestSignedPayloadCodec(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	signed := []byte(hs.ServerHello.Signed)
	require.Len(t, signed, 123)

	p, err := protocol.ParseSignedPayload(signed)
	require.NoError(t, err)
	assert.Equal(t, []byte(keys.ServerEphemeral.SPKI), p.PublicKey)
	assert.Equal(t, []byte(hs.ServerEphSPKI), p.PublicKey)
	assert.Equal(t, []byte(hs.Salt), p.Salt)
	assert.Equal(t, hs.Token, p.Token)

	built := protocol.AppendSignedPayload(nil, protocol.SignedPayload{PublicKey: hs.ServerEphSPKI, Salt: hs.Salt, Token: hs.Token})
	assert.Equal(t, signed, built)

	for n := range len(signed) {
		_, err := protocol.ParseSignedPayload(signed[:n])
		require.ErrorIs(t, err, protocol.ErrHandshake, "%d bytes", n)
	}
	_, err = protocol.ParseSignedPayload(append(append([]byte(nil), signed...), 0))
	assert.ErrorIs(t, err, protocol.ErrHandshake, "trailing byte")
}

func TestTokenMasking(t *testing.T) {
	hs := loadHandshake(t)
	raw := binary.BigEndian.Uint32(hs.TokenRaw)
	assert.Equal(t, hs.Token, int64(raw&0x7fffffff|0x40000000))
	assert.Equal(t, serial.Int32, serial.IntType(hs.Token))
}

func TestChallengeResponseCodec(t *testing.T) {
	hs := loadHandshake(t)
	msgs := handshakeMessages(t)
	require.Equal(t, []byte(hs.ChallengeResp.Message), msgs["challenge_resp"])
	for _, c := range []struct {
		name  string
		token int64
	}{{"challenge_resp", hs.Token}, {"challenge_resp_small_token", 5}} {
		t.Run(c.name, func(t *testing.T) {
			body := msgs[c.name]
			tok, err := protocol.ParseChallengeResponse(body)
			require.NoError(t, err)
			assert.Equal(t, c.token, tok)
			assert.Equal(t, body, protocol.AppendChallengeResponse(nil, c.token))
			for n := range len(body) {
				_, err := protocol.ParseChallengeResponse(body[:n])
				require.ErrorIs(t, err, protocol.ErrHandshake, "%d bytes", n)
			}
			_, err = protocol.ParseChallengeResponse(append(append([]byte(nil), body...), 0))
			assert.ErrorIs(t, err, protocol.ErrHandshake, "trailing byte")
		})
	}
}

func TestChallengeResponseWidthsAndErrors(t *testing.T) {
	head := serial.AppendTypeID(nil, protocol.ChallengeResponseID)
	for _, enc := range [][]byte{
		{0, 3, 5},
		{0, 4, 0, 5},
		{0, 5, 0, 0, 0, 5},
		{0, 6, 0, 0, 0, 0, 0, 0, 0, 5},
		{0, 8, 5},
	} {
		body := append(serial.AppendInt(append([]byte(nil), head...), 1), enc...)
		tok, err := protocol.ParseChallengeResponse(body)
		require.NoError(t, err, "%x", enc)
		assert.EqualValues(t, 5, tok)
	}
	// the field count is any width too, but must be 1
	body := append(append([]byte(nil), head...), 0, 6, 0, 0, 0, 0, 0, 0, 0, 1)
	body = serial.AppendInt(body, 7)
	tok, err := protocol.ParseChallengeResponse(body)
	require.NoError(t, err)
	assert.EqualValues(t, 7, tok)
	for _, n := range []int64{0, 2, -1, 1 << 40} {
		b := serial.AppendInt(append([]byte(nil), head...), n)
		b = serial.AppendInt(b, 7)
		_, err := protocol.ParseChallengeResponse(b)
		assert.ErrorIs(t, err, protocol.ErrHandshake, "count %d", n)
	}
	// wrong id, token not an int
	_, err = protocol.ParseChallengeResponse(protocol.AppendChallengeResponse(nil, 7)[1:])
	assert.ErrorIs(t, err, protocol.ErrHandshake)
	b := serial.AppendInt(append([]byte(nil), head...), 1)
	b = serial.AppendBytes(b, []byte{1, 2, 3, 4})
	_, err = protocol.ParseChallengeResponse(b)
	assert.ErrorIs(t, err, protocol.ErrHandshake)
	assert.ErrorIs(t, err, serial.ErrType)
	// negative and large tokens round trip
	for _, tok := range []int64{-1, 0, 1 << 62, -1 << 63} {
		got, err := protocol.ParseChallengeResponse(protocol.AppendChallengeResponse(nil, tok))
		require.NoError(t, err)
		assert.Equal(t, tok, got)
	}
}

// crcDatagram builds a CRC-protected hello datagram: header, msg seq, body,
// CRC-32 of everything before it.
func crcDatagram(h protocol.Header, msgSeq protocol.Seq, body []byte) []byte {
	payload, _ := protocol.AppendPayload(nil, []protocol.Message{{Seq: msgSeq, Type: h.Type, Body: body}})
	h.Length = uint16(len(payload))
	h.Count = 1
	d := h.AppendTo(nil)
	d = append(d, payload...)
	return crypto.AppendCRC(d)
}

func TestHandshakeClientHelloDatagram(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	ch := hs.ClientHello
	priv, err := conn.NewPrivateKey(keys.ClientEphemeral.Scalar)
	require.NoError(t, err)
	require.Equal(t, []byte(hs.ClientEphSPKI), priv.Public().DER())

	hello := protocol.ClientHello{PublicKey: priv.Public().DER(), Version: protocol.ProtocolVersion}
	body, err := protocol.AppendClientHello(nil, hello, ch.Padding)
	require.NoError(t, err)
	require.Equal(t, []byte(ch.Message), body)

	h := protocol.Header{Direction: protocol.ToServer, CTime: hs.CTime, Seq: 1, Ack: 0, Type: protocol.TypeClientHello}
	d := crcDatagram(h, protocol.Seq(ch.MsgSeq), body)
	assert.Equal(t, []byte(ch.Datagram), d)
	assert.Len(t, d, 1438)
	assert.Equal(t, []byte(ch.CRC), d[len(d)-4:])
	assert.Equal(t, vectorHeader(t, ch.Header), mustParseHeader(t, d, protocol.ToServer))

	// server side: parse it back
	got := mustParseHeader(t, ch.Datagram, protocol.ToServer)
	require.True(t, got.Type.UsesCRC())
	end := protocol.HeaderSize + int(got.Length)
	require.NoError(t, crypto.CheckCRC(ch.Datagram, end))
	payload := ch.Datagram[protocol.HeaderSize:end]
	ms, err := readAll(got.Type, got.Count, payload)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, protocol.Seq(1), ms[0].Seq)
	m, err := protocol.ParseClientHello(ms[0].Body)
	require.NoError(t, err)
	hello.Padding = m.Padding
	assert.Equal(t, hello, m)
}

func TestHandshakeServerHelloDatagram(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	sh := hs.ServerHello
	root, err := conn.ParsePrivateKeyDER(keys.ServerRoot.PKCS8)
	require.NoError(t, err)
	eph, err := conn.NewPrivateKey(keys.ServerEphemeral.Scalar)
	require.NoError(t, err)

	signed := protocol.AppendSignedPayload(nil, protocol.SignedPayload{PublicKey: eph.Public().DER(), Salt: hs.Salt, Token: hs.Token})
	require.Equal(t, []byte(sh.Signed), signed)
	body := protocol.AppendServerHello(nil, protocol.ServerHello{RootKey: root.Public().DER(), Signed: signed, Signature: sh.Signature})
	require.Equal(t, []byte(sh.Message), body)

	h := protocol.Header{Direction: protocol.ToClient, CTime: hs.CTime, Seq: 1, Ack: 1, Type: protocol.TypeServerHello}
	d := crcDatagram(h, protocol.Seq(sh.MsgSeq), body)
	assert.Equal(t, []byte(sh.Datagram), d)
	assert.Len(t, d, 329)
	assert.Equal(t, []byte(sh.CRC), d[len(d)-4:])

	// the signature verifies with the pinned root key and not with another
	serverRoot, err := conn.ParsePublicKeyDER(hs.ServerRootSPKI)
	require.NoError(t, err)
	otherRoot, err := conn.ParsePublicKeyDER(keys.OtherRoot.SPKI)
	require.NoError(t, err)
	assert.True(t, serverRoot.Verify(sh.Signed, sh.Signature))
	assert.False(t, otherRoot.Verify(sh.Signed, sh.Signature))
	tampered := append([]byte(nil), sh.Signed...)
	tampered[len(tampered)-1] ^= 1
	assert.False(t, serverRoot.Verify(tampered, sh.Signature))

	// our own signature over the same bytes differs but verifies
	sig, err := root.Sign(signed)
	require.NoError(t, err)
	assert.True(t, serverRoot.Verify(signed, sig))
	mine := crcDatagram(h, 1, protocol.AppendServerHello(nil, protocol.ServerHello{RootKey: root.Public().DER(), Signed: signed, Signature: sig}))
	assert.Equal(t, len(sh.Datagram)-len(sh.Signature)+len(sig), len(mine))

	// client side: parse, verify, then parse the signed payload
	got := mustParseHeader(t, sh.Datagram, protocol.ToClient)
	end := protocol.HeaderSize + int(got.Length)
	require.NoError(t, crypto.CheckCRC(sh.Datagram, end))
	ms, err := readAll(got.Type, got.Count, sh.Datagram[protocol.HeaderSize:end])
	require.NoError(t, err)
	require.Len(t, ms, 1)
	m, err := protocol.ParseServerHello(ms[0].Body)
	require.NoError(t, err)
	require.True(t, serverRoot.Verify(m.Signed, m.Signature))
	p, err := protocol.ParseSignedPayload(m.Signed)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.ServerEphSPKI), p.PublicKey)
	assert.Equal(t, []byte(hs.Salt), p.Salt)
	assert.Equal(t, hs.Token, p.Token)
}

func TestHandshakeChallengeResponseDatagram(t *testing.T) {
	hs, keys := loadHandshake(t), loadKeys(t)
	cr := hs.ChallengeResp

	// the client derives the key from its ephemeral key and the server hello
	client, err := conn.NewPrivateKey(keys.ClientEphemeral.Scalar)
	require.NoError(t, err)
	key, err := crypto.SessionKey(client, hs.ServerEphSPKI, hs.Salt)
	require.NoError(t, err)
	require.Equal(t, []byte(hs.SessionKey), key[:])
	aead, err := crypto.NewAEAD(key)
	require.NoError(t, err)

	body := protocol.AppendChallengeResponse(nil, hs.Token)
	require.Equal(t, []byte(cr.Message), body)
	ms := []protocol.Message{{Seq: protocol.Seq(cr.MsgSeq), Type: protocol.TypeChallengeResp, Body: body}}
	payload, err := protocol.AppendPayload(nil, ms)
	require.NoError(t, err)
	require.Equal(t, []byte(cr.Plaintext), payload)

	h := protocol.Header{Direction: protocol.ToServer, CTime: hs.CTime, Seq: 2, Ack: 1, AckBits: 0,
		Type: protocol.HeaderType(ms), Count: uint8(len(ms)), Length: uint16(len(payload))}
	d := h.AppendTo(nil)
	require.Equal(t, []byte(cr.AAD), d)
	require.Equal(t, []byte(cr.IV), protocol.Nonce(d))
	d = aead.Seal(d, d[:protocol.HeaderSize], payload)
	assert.Equal(t, []byte(cr.Datagram), d)
	assert.Len(t, d, 49)
	assert.Equal(t, []byte(cr.Ciphertext), d[protocol.HeaderSize:protocol.HeaderSize+len(payload)])
	assert.Equal(t, []byte(cr.Tag), d[len(d)-protocol.TagSize:])

	// the server derives the same key and reads the token back
	server, err := conn.NewPrivateKey(keys.ServerEphemeral.Scalar)
	require.NoError(t, err)
	skey, err := crypto.SessionKey(server, hs.ClientEphSPKI, hs.Salt)
	require.NoError(t, err)
	require.Equal(t, key, skey)
	saead, err := crypto.NewAEAD(skey)
	require.NoError(t, err)
	got, plain, err := openDatagram(saead, cr.Datagram, protocol.ToServer)
	require.NoError(t, err)
	assert.Equal(t, h, got)
	rms, err := readAll(got.Type, got.Count, plain)
	require.NoError(t, err)
	require.Len(t, rms, 1)
	tok, err := protocol.ParseChallengeResponse(rms[0].Body)
	require.NoError(t, err)
	assert.Equal(t, hs.Token, tok)
}

func TestHandshakeDatagramsInSession(t *testing.T) {
	hs := loadHandshake(t)
	s := vectors.MustLoad[vectors.Session]("session.json")
	require.GreaterOrEqual(t, len(s.Steps), 3)
	assert.Equal(t, []byte(hs.ClientHello.Datagram), []byte(s.Steps[0].Datagram))
	assert.Equal(t, []byte(hs.ServerHello.Datagram), []byte(s.Steps[1].Datagram))
	assert.Equal(t, []byte(hs.ChallengeResp.Datagram), []byte(s.Steps[2].Datagram))
	assert.Equal(t, []byte(hs.SessionKey), []byte(s.SessionKey))
	assert.True(t, bytes.Equal(hs.SessionKey, s.Steps[0].Effects.SessionKey))
}

// TestSplitClientHelloAgreesWithParse: the allocation-free parser takes
// exactly the bodies ParseClientHello takes, with the same fields.
func TestSplitClientHelloAgreesWithParse(t *testing.T) {
	hs := loadHandshake(t)
	valid := []byte(hs.ClientHello.Message)
	bodies := [][]byte{valid, append(append([]byte(nil), valid...), 1, 2, 3)}
	for n := 0; n < len(valid); n += 7 {
		bodies = append(bodies, valid[:n])
	}
	for i := 0; i < 40; i++ {
		b := append([]byte(nil), valid...)
		b[2+i%12] ^= byte(1 + i)
		bodies = append(bodies, b)
	}
	for i, b := range bodies {
		want, werr := protocol.ParseClientHello(b)
		got, gerr := protocol.SplitClientHello(b)
		require.Equal(t, werr == nil, gerr == nil, "body %d: %v / %v", i, werr, gerr)
		if werr == nil {
			assert.Equal(t, want, got, "body %d", i)
		} else {
			assert.ErrorIs(t, gerr, protocol.ErrClientHelloLayout)
		}
	}
	allocs := testing.AllocsPerRun(20, func() { _, _ = protocol.SplitClientHello(valid[:100]) })
	assert.Zero(t, allocs)
}
