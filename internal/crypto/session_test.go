package crypto_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/prefetch"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

func TestHandshakeKeyAgreement(t *testing.T) {
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	keys := vectors.MustLoad[vectors.Keys]("keys.json")
	client, err := conn.NewPrivateKey(keys.ClientEphemeral.Scalar)
	require.NoError(t, err)
	server, err := conn.NewPrivateKey(keys.ServerEphemeral.Scalar)
	require.NoError(t, err)
	require.Equal(t, []byte(hs.ClientEphSPKI), client.Public().DER())
	require.Equal(t, []byte(hs.ServerEphSPKI), server.Public().DER())

	// ECDH both ways
	s1, err := crypto.SharedSecret(client, hs.ServerEphSPKI)
	require.NoError(t, err)
	s2, err := crypto.SharedSecret(server, hs.ClientEphSPKI)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.SharedSecret), s1)
	assert.Equal(t, []byte(hs.SharedSecret), s2)

	// HKDF, step by step
	var extra struct {
		HKDF struct {
			Hash    string      `json:"hash"`
			InfoHex vectors.Hex `json:"info_hex"`
		} `json:"hkdf"`
	}
	require.NoError(t, vectors.Load("handshake.json", &extra))
	assert.Equal(t, "SHA-256", extra.HKDF.Hash)
	assert.Equal(t, []byte(crypto.HKDFInfo), []byte(extra.HKDF.InfoHex))
	assert.Len(t, crypto.HKDFInfo, 43)
	assert.Equal(t, []byte(hs.SharedSecret), []byte(hs.HKDF.IKM))
	assert.Equal(t, []byte(hs.Salt), []byte(hs.HKDF.Salt))
	assert.Equal(t, crypto.HKDFInfo, hs.HKDF.Info)
	assert.Equal(t, crypto.KeySize, hs.HKDF.Length)
	assert.Len(t, hs.Salt, crypto.SaltSize)

	mac := hmac.New(sha256.New, hs.HKDF.Salt)
	mac.Write(hs.HKDF.IKM)
	assert.Equal(t, []byte(hs.HKDF.PRK), mac.Sum(nil), "PRK = HMAC-SHA256(salt, ikm)")
	prk, err := hkdf.Extract(sha256.New, hs.HKDF.IKM, hs.HKDF.Salt)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.HKDF.PRK), prk)
	okm, err := hkdf.Expand(sha256.New, prk, crypto.HKDFInfo, crypto.KeySize)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.HKDF.OKM), okm)
	// T(1) = HMAC(PRK, info || 0x01), truncated
	mac = hmac.New(sha256.New, prk)
	mac.Write([]byte(crypto.HKDFInfo))
	mac.Write([]byte{1})
	assert.Equal(t, []byte(hs.HKDF.OKM), mac.Sum(nil)[:crypto.KeySize])

	k, err := crypto.DeriveKey(hs.SharedSecret, hs.Salt)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.HKDF.OKM), k[:])
	assert.Equal(t, []byte(hs.SessionKey), k[:])

	// SessionKey from each side
	ck, err := crypto.SessionKey(client, hs.ServerEphSPKI, hs.Salt)
	require.NoError(t, err)
	sk, err := crypto.SessionKey(server, hs.ClientEphSPKI, hs.Salt)
	require.NoError(t, err)
	assert.Equal(t, []byte(hs.SessionKey), ck[:])
	assert.Equal(t, ck, sk)

	// any other salt gives another key
	salt := append([]byte(nil), hs.Salt...)
	salt[0] ^= 1
	other, err := crypto.SessionKey(client, hs.ServerEphSPKI, salt)
	require.NoError(t, err)
	assert.NotEqual(t, ck, other)
}

func TestSharedSecretErrors(t *testing.T) {
	keys := vectors.MustLoad[vectors.Keys]("keys.json")
	client, err := conn.NewPrivateKey(keys.ClientEphemeral.Scalar)
	require.NoError(t, err)
	offCurve := append([]byte(nil), keys.ServerEphemeral.SPKI...)
	offCurve[len(offCurve)-1] ^= 1 // the point is no longer on the curve
	for name, der := range map[string][]byte{
		"nil":       nil,
		"garbage":   []byte{1, 2, 3},
		"truncated": keys.ServerEphemeral.SPKI[:90],
		"off curve": offCurve,
	} {
		assert.ErrorIs(t, crypto.CheckPublicKeyDER(der), conn.ErrKey, name)
		_, err := crypto.SharedSecret(client, der)
		assert.ErrorIs(t, err, conn.ErrKey, name)
		_, err = crypto.SessionKey(client, der, make([]byte, crypto.SaltSize))
		assert.ErrorIs(t, err, conn.ErrKey, name)
	}
}

func TestGeneratedKeysAgree(t *testing.T) {
	for i := range 5 {
		a, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		b, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		salt := bytes.Repeat([]byte{byte(i)}, crypto.SaltSize)
		ka, err := crypto.SessionKey(a, b.Public().DER(), salt)
		require.NoError(t, err)
		kb, err := crypto.SessionKey(b, a.Public().DER(), salt)
		require.NoError(t, err)
		assert.Equal(t, ka, kb)
	}
}

func TestAEADPacketVectors(t *testing.T) {
	p := vectors.MustLoad[vectors.Packets]("packets.json")
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	cases := append(append([]vectors.Packet(nil), p.Cases...), p.Fragmented.Packets...)
	cr := hs.ChallengeResp.Packet
	cr.Key = hs.SessionKey
	cases = append(cases, cr)
	require.Len(t, cases, 15)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var key [crypto.KeySize]byte
			require.Len(t, c.Key, crypto.KeySize)
			copy(key[:], c.Key)
			a, err := crypto.NewAEAD(key)
			require.NoError(t, err)
			require.Equal(t, []byte(c.AAD[:crypto.NonceSize]), []byte(c.IV))
			require.Equal(t, []byte(c.AAD), []byte(c.Datagram[:crypto.AADSize]))

			sealed := a.Seal(nil, c.AAD, c.Plaintext)
			assert.Equal(t, hex.EncodeToString(append(append([]byte(nil), c.Ciphertext...), c.Tag...)), hex.EncodeToString(sealed))
			assert.Equal(t, []byte(c.Datagram[crypto.AADSize:]), sealed)

			plain, err := a.Open(nil, c.AAD, sealed)
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(c.Plaintext), hex.EncodeToString(plain))

			// passing the whole datagram as the header works: only its
			// first 20 bytes count
			plain, err = a.Open(nil, c.Datagram, c.Datagram[crypto.AADSize:])
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(c.Plaintext), hex.EncodeToString(plain))
		})
	}
}

func testAEAD(t testing.TB) *crypto.AEAD {
	t.Helper()
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	var key [crypto.KeySize]byte
	copy(key[:], hs.SessionKey)
	a, err := crypto.NewAEAD(key)
	require.NoError(t, err)
	return a
}

func testHeader() []byte {
	return []byte{'F', 'S', 'O', 'S', 0x65, 0x53, 0xf1, 0, 0, 9, 0, 4, 6, 0, 5, 1, 0x80, 0, 0, 0}
}

func TestAEADRoundTrip(t *testing.T) {
	a := testAEAD(t)
	h := testHeader()
	for _, n := range []int{0, 1, 15, 16, 17, 100, 1434, 2000} {
		plain := vectors.Stream("aead", n)
		sealed := a.Seal(nil, h, plain)
		require.Len(t, sealed, n+crypto.TagSize)
		got, err := a.Open(nil, h, sealed)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(plain, got))

		// dst is appended to
		got, err = a.Open([]byte("pre"), h, sealed)
		require.NoError(t, err)
		assert.Equal(t, append([]byte("pre"), plain...), got)
		assert.Equal(t, append([]byte("pre"), sealed...), a.Seal([]byte("pre"), h, plain))

		// in place
		buf := make([]byte, n, n+crypto.TagSize)
		copy(buf, plain)
		sealedInPlace := a.Seal(buf[:0], h, buf)
		assert.Equal(t, sealed, sealedInPlace)
		opened, err := a.Open(sealedInPlace[:0], h, sealedInPlace)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(plain, opened))
	}
}

func TestAEADRejectsTampering(t *testing.T) {
	a := testAEAD(t)
	h := testHeader()
	plain := []byte("some application message")
	sealed := a.Seal(nil, h, plain)

	for i := range h {
		bad := append([]byte(nil), h...)
		bad[i] ^= 1
		_, err := a.Open(nil, bad, sealed)
		assert.ErrorIs(t, err, crypto.ErrAuth, "header byte %d", i)
	}
	for i := range sealed {
		bad := append([]byte(nil), sealed...)
		bad[i] ^= 0x80
		out, err := a.Open(nil, h, bad)
		assert.ErrorIs(t, err, crypto.ErrAuth, "sealed byte %d", i)
		assert.Nil(t, out)
	}
	for n := range len(sealed) {
		_, err := a.Open(nil, h, sealed[:n])
		assert.ErrorIs(t, err, crypto.ErrAuth, "truncated to %d", n)
	}
	_, err := a.Open(nil, h, append(append([]byte(nil), sealed...), 0))
	assert.ErrorIs(t, err, crypto.ErrAuth, "extra byte")

	// another key
	var k2 [crypto.KeySize]byte
	b, err := crypto.NewAEAD(k2)
	require.NoError(t, err)
	_, err = b.Open(nil, h, sealed)
	assert.ErrorIs(t, err, crypto.ErrAuth)

	// header bytes beyond the 20 are not authenticated (they are payload)
	long := append(append([]byte(nil), h...), 1, 2, 3)
	got, err := a.Open(nil, long, sealed)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
}

func TestCRC(t *testing.T) {
	var c struct {
		Check vectors.HexUint `json:"crc32_check_123456789"`
	}
	require.NoError(t, vectors.Load("constants.json", &c))
	assert.Equal(t, uint32(c.Check), crypto.CRC32([]byte("123456789")))
	assert.Equal(t, uint32(0xCBF43926), crypto.CRC32([]byte("123456789")))
	assert.Equal(t, []byte("123456789\xcb\xf4\x39\x26"), crypto.AppendCRC([]byte("123456789")))

	b := crypto.AppendCRC([]byte("header and payload"))
	n := len(b) - 4
	require.NoError(t, crypto.CheckCRC(b, n))
	// trailing bytes are ignored
	require.NoError(t, crypto.CheckCRC(append(b, 1, 2, 3), n))
	for i := range b {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x10
		assert.ErrorIs(t, crypto.CheckCRC(bad, n), crypto.ErrCRC, "byte %d", i)
	}
	for k := range 4 {
		assert.ErrorIs(t, crypto.CheckCRC(b[:n+k], n), crypto.ErrCRC, "short by %d", 4-k)
	}
	assert.ErrorIs(t, crypto.CheckCRC(b, -1), crypto.ErrCRC)
	assert.ErrorIs(t, crypto.CheckCRC(b, n+1), crypto.ErrCRC)
	assert.ErrorIs(t, crypto.CheckCRC(nil, 0), crypto.ErrCRC)
	require.NoError(t, crypto.CheckCRC(crypto.AppendCRC(nil), 0), "empty data")
}

func TestCRCHelloDatagrams(t *testing.T) {
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	for _, p := range []vectors.HelloPacket{hs.ClientHello, hs.ServerHello} {
		d := []byte(p.Datagram)
		n := 20 + int(p.Header.Length)
		require.Len(t, d, n+4)
		require.NoError(t, crypto.CheckCRC(d, n))
		assert.Equal(t, []byte(p.CRC), d[n:])
		assert.Equal(t, d, crypto.AppendCRC(append([]byte(nil), d[:n]...)))
	}
}

// TestCipherStateLeavesOutWhatGCMNeverReads: the lines prefetched of an
// AEAD's state leave out the decryption key schedule and the hash table
// but its last entry, and sealing and opening a short packet still give
// the right answers with all else overwritten, so they never read it.
func TestCipherStateLeavesOutWhatGCMNeverReads(t *testing.T) {
	var key [crypto.KeySize]byte
	for i := range key {
		key[i] = byte(i + 1)
	}
	a, err := crypto.NewAEAD(key)
	require.NoError(t, err)
	s := a.State()
	require.NotNil(t, s.Base, "the cipher's state was not found")
	assert.Equal(t, 5, s.Len(), "cache lines prefetched of AES-128-GCM's state (12 in all)")
	state := unsafe.Slice((*byte)(s.Base), 760) // Go's AES-128-GCM struct

	header := bytes.Repeat([]byte{7}, crypto.AADSize)
	plain := []byte("a message of some length, sealed and opened")
	want := a.Seal(nil, header, plain)

	// Everything outside the span's lines, overwritten: a short packet
	// still seals and opens as before.
	line := int(uintptr(s.Base) % prefetch.LineSize)
	saved := bytes.Clone(state)
	for i := range state {
		if s.Lines&(1<<((line+i)/prefetch.LineSize)) == 0 {
			state[i] = 0xA5
		}
	}
	defer copy(state, saved)
	assert.Equal(t, want, a.Seal(nil, header, plain), "sealing read a line left out")
	got, err := a.Open(nil, header, want)
	require.NoError(t, err, "opening read a line left out")
	assert.Equal(t, plain, got)

	// Not a pointer to a struct: nothing to prefetch.
	assert.Nil(t, crypto.CipherState(nil).Base)
}
