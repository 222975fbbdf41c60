package conn_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

// p256Order is the order n of the P-256 group, big-endian.
var p256Order = elliptic.P256().Params().N.FillBytes(make([]byte, 32))

func loadKeys(t testing.TB) map[string]vectors.Key {
	t.Helper()
	k := vectors.MustLoad[vectors.Keys]("keys.json")
	return map[string]vectors.Key{
		"server_root":      k.ServerRoot,
		"client_ephemeral": k.ClientEphemeral,
		"server_ephemeral": k.ServerEphemeral,
		"other_root":       k.OtherRoot,
	}
}

// testdataPath is the path of a vector file from this package's directory.
func testdataPath(name string) string {
	return filepath.Join("..", "internal", "vectors", "testdata", name)
}

// checkKey asserts that priv is the vector key v.
func checkKey(t *testing.T, v vectors.Key, priv *conn.PrivateKey) {
	t.Helper()
	assert.Equal(t, []byte(v.Scalar), priv.Scalar())
	assert.Equal(t, []byte(v.SPKI), priv.Public().DER())
	assert.Equal(t, []byte(v.Point), priv.ECDH().PublicKey().Bytes())
	assert.Equal(t, []byte(v.Point), priv.Public().ECDH().Bytes())
	assert.Equal(t, []byte(v.X), priv.ECDSA().X.FillBytes(make([]byte, 32)))
	assert.Equal(t, []byte(v.Y), priv.ECDSA().Y.FillBytes(make([]byte, 32)))
}

func TestKeyVectors(t *testing.T) {
	for name, v := range loadKeys(t) {
		t.Run(name, func(t *testing.T) {
			require.Len(t, v.Scalar, conn.ScalarSize)
			require.Len(t, v.SPKI, 91)
			require.Len(t, v.Point, 65)

			fromScalar, err := conn.NewPrivateKey(v.Scalar)
			require.NoError(t, err)
			checkKey(t, v, fromScalar)

			fromDER, err := conn.ParsePrivateKeyDER(v.PKCS8)
			require.NoError(t, err)
			checkKey(t, v, fromDER)

			fromPEM, err := conn.ParsePrivateKeyPEM([]byte(v.PKCS8PEM))
			require.NoError(t, err)
			checkKey(t, v, fromPEM)

			// marshalling reproduces the reference's bytes exactly
			der, err := fromScalar.MarshalDER()
			require.NoError(t, err)
			assert.Equal(t, []byte(v.PKCS8), der)
			pemBytes, err := fromScalar.MarshalPEM()
			require.NoError(t, err)
			assert.Equal(t, v.PKCS8PEM, string(pemBytes))

			pub, err := conn.ParsePublicKeyDER(v.SPKI)
			require.NoError(t, err)
			assert.Equal(t, []byte(v.SPKI), pub.DER())
			assert.Equal(t, v.SPKIPEM, string(pub.MarshalPEM()))
			assert.True(t, pub.Equal(fromScalar.Public()))
			pub2, err := conn.ParsePublicKeyPEM([]byte(v.SPKIPEM))
			require.NoError(t, err)
			assert.True(t, pub2.Equal(pub))
			assert.Equal(t, []byte(v.SPKI), pub2.DER())
		})
	}
}

func TestKeysAreDistinct(t *testing.T) {
	keys := loadKeys(t)
	for a, ka := range keys {
		pa, err := conn.ParsePublicKeyDER(ka.SPKI)
		require.NoError(t, err)
		for b, kb := range keys {
			pb, err := conn.ParsePublicKeyDER(kb.SPKI)
			require.NoError(t, err)
			assert.Equal(t, a == b, pa.Equal(pb), "%s vs %s", a, b)
		}
	}
	var nilKey *conn.PublicKey
	pa, err := conn.ParsePublicKeyDER(keys["server_root"].SPKI)
	require.NoError(t, err)
	assert.False(t, nilKey.Equal(pa))
	assert.False(t, pa.Equal(nil))
}

func TestPEMFiles(t *testing.T) {
	keys := loadKeys(t)

	priv, err := conn.LoadPrivateKey(testdataPath("server_root.key.pem"))
	require.NoError(t, err)
	checkKey(t, keys["server_root"], priv)

	pub, err := conn.LoadPublicKey(testdataPath("server_root.pub.pem"))
	require.NoError(t, err)
	assert.Equal(t, []byte(keys["server_root"].SPKI), pub.DER())
	assert.True(t, pub.Equal(priv.Public()))

	other, err := conn.LoadPublicKey(testdataPath("other_root.pub.pem"))
	require.NoError(t, err)
	assert.Equal(t, []byte(keys["other_root"].SPKI), other.DER())
	assert.False(t, other.Equal(pub))

	// the embedded copies are the same files
	for name, want := range map[string]string{
		"server_root.key.pem": keys["server_root"].PKCS8PEM,
		"server_root.pub.pem": keys["server_root"].SPKIPEM,
		"other_root.pub.pem":  keys["other_root"].SPKIPEM,
	} {
		b, err := vectors.File(name)
		require.NoError(t, err)
		assert.Equal(t, want, string(b), name)
		disk, err := os.ReadFile(testdataPath(name))
		require.NoError(t, err)
		assert.Equal(t, b, disk, name)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	k, err := conn.NewPrivateKey(loadKeys(t)["other_root"].Scalar)
	require.NoError(t, err)

	privPath := filepath.Join(dir, "root.key.pem")
	pubPath := filepath.Join(dir, "root.pub.pem")
	require.NoError(t, conn.SavePrivateKey(privPath, k))
	require.NoError(t, conn.SavePublicKey(pubPath, k.Public()))

	st, err := os.Stat(privPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "private key readable by the owner only")

	got, err := conn.LoadPrivateKey(privPath)
	require.NoError(t, err)
	assert.Equal(t, k.Scalar(), got.Scalar())
	gotPub, err := conn.LoadPublicKey(pubPath)
	require.NoError(t, err)
	assert.True(t, gotPub.Equal(k.Public()))

	// no overwriting, and the file is left alone
	before, err := os.ReadFile(privPath)
	require.NoError(t, err)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, conn.SavePrivateKey(privPath, other), os.ErrExist)
	assert.ErrorIs(t, conn.SavePublicKey(pubPath, other.Public()), os.ErrExist)
	after, err := os.ReadFile(privPath)
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// loading errors
	_, err = conn.LoadPrivateKey(filepath.Join(dir, "missing.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = conn.LoadPublicKey(filepath.Join(dir, "missing.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = conn.LoadPrivateKey(pubPath)
	assert.ErrorIs(t, err, conn.ErrKey, "a public key file is not a private key")
	_, err = conn.LoadPublicKey(privPath)
	assert.ErrorIs(t, err, conn.ErrKey, "a private key file is not a public key")
	assert.Error(t, conn.SavePrivateKey(filepath.Join(dir, "no", "such", "dir"), k))
}

func TestGenerateKeyDeterministic(t *testing.T) {
	seed := vectors.Stream("crypto-test-key", 64)
	a, err := conn.GenerateKey(bytes.NewReader(seed))
	require.NoError(t, err)
	b, err := conn.GenerateKey(bytes.NewReader(seed))
	require.NoError(t, err)
	assert.Equal(t, a.Scalar(), b.Scalar())
	assert.Equal(t, seed[:32], a.Scalar(), "the first 32 bytes are the scalar")
	assert.True(t, a.Public().Equal(b.Public()))

	// a zero or too-large scalar is skipped
	for _, bad := range [][]byte{make([]byte, 32), p256Order, bytes.Repeat([]byte{0xff}, 32)} {
		r := bytes.NewReader(append(append([]byte(nil), bad...), seed...))
		k, err := conn.GenerateKey(r)
		require.NoError(t, err)
		assert.Equal(t, seed[:32], k.Scalar())
	}

	// the vector keys come out of GenerateKey given their scalars
	for name, v := range loadKeys(t) {
		k, err := conn.GenerateKey(bytes.NewReader(v.Scalar))
		require.NoError(t, err, name)
		assert.Equal(t, []byte(v.SPKI), k.Public().DER(), name)
	}

	// crypto/rand by default
	c, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	d, err := conn.GenerateKey(rand.Reader)
	require.NoError(t, err)
	assert.NotEqual(t, c.Scalar(), d.Scalar())
}

func TestGenerateKeyErrors(t *testing.T) {
	_, err := conn.GenerateKey(bytes.NewReader(make([]byte, 31)))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = conn.GenerateKey(bytes.NewReader(nil))
	assert.ErrorIs(t, err, io.EOF)
	boom := errors.New("boom")
	_, err = conn.GenerateKey(errReader{boom})
	assert.ErrorIs(t, err, boom)
	// a source that never yields a valid scalar gives up
	_, err = conn.GenerateKey(zeroReader{})
	assert.ErrorIs(t, err, conn.ErrKey)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func TestNewPrivateKeyErrors(t *testing.T) {
	nMinus1 := append([]byte(nil), p256Order...)
	nMinus1[31]--
	one := make([]byte, 32)
	one[31] = 1
	for name, c := range map[string]struct {
		scalar []byte
		ok     bool
	}{
		"empty": {nil, false},
		"31":    {make([]byte, 31), false},
		"33":    {append(make([]byte, 32), 1), false},
		"zero":  {make([]byte, 32), false},
		"order": {p256Order, false},
		"max":   {bytes.Repeat([]byte{0xff}, 32), false},
		"one":   {one, true},
		"n-1":   {nMinus1, true},
	} {
		k, err := conn.NewPrivateKey(c.scalar)
		if c.ok {
			require.NoError(t, err, name)
			assert.Equal(t, c.scalar, k.Scalar(), name)
		} else {
			assert.ErrorIs(t, err, conn.ErrKey, name)
			assert.Nil(t, k, name)
		}
	}
}

func TestParseOtherKeyForms(t *testing.T) {
	v := loadKeys(t)["server_root"]
	k, err := conn.NewPrivateKey(v.Scalar)
	require.NoError(t, err)

	// SEC 1 DER and "EC PRIVATE KEY" PEM
	sec1, err := x509.MarshalECPrivateKey(k.ECDSA())
	require.NoError(t, err)
	got, err := conn.ParsePrivateKeyDER(sec1)
	require.NoError(t, err)
	checkKey(t, v, got)
	got, err = conn.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	require.NoError(t, err)
	checkKey(t, v, got)

	// other PEM blocks before the key are skipped
	mixed := append([]byte(v.SPKIPEM), v.PKCS8PEM...)
	got, err = conn.ParsePrivateKeyPEM(mixed)
	require.NoError(t, err)
	checkKey(t, v, got)
	mixed = append([]byte(v.PKCS8PEM), v.SPKIPEM...)
	pub, err := conn.ParsePublicKeyPEM(mixed)
	require.NoError(t, err)
	assert.Equal(t, []byte(v.SPKI), pub.DER())
}

func TestParseKeyErrors(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edPKCS8, err := x509.MarshalPKCS8PrivateKey(edPriv)
	require.NoError(t, err)
	edSPKI, err := x509.MarshalPKIXPublicKey(edPriv.Public())
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384PKCS8, err := x509.MarshalPKCS8PrivateKey(p384)
	require.NoError(t, err)
	p384SEC1, err := x509.MarshalECPrivateKey(p384)
	require.NoError(t, err)
	p384SPKI, err := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	require.NoError(t, err)
	v := loadKeys(t)["server_root"]

	privDERs := map[string][]byte{
		"nil":        nil,
		"garbage":    []byte("not a key"),
		"truncated":  v.PKCS8[:len(v.PKCS8)-1],
		"ed25519":    edPKCS8,
		"p384 pkcs8": p384PKCS8,
		"p384 sec1":  p384SEC1,
		"public key": v.SPKI,
	}
	for name, der := range privDERs {
		_, err := conn.ParsePrivateKeyDER(der)
		assert.ErrorIs(t, err, conn.ErrKey, name)
		_, err = conn.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		assert.ErrorIs(t, err, conn.ErrKey, name)
	}
	pubDERs := map[string][]byte{
		"nil":       nil,
		"garbage":   []byte("not a key"),
		"truncated": v.SPKI[:90],
		"ed25519":   edSPKI,
		"p384":      p384SPKI,
		"private":   v.PKCS8,
		"off curve": offCurve(v.SPKI),
	}
	for name, der := range pubDERs {
		_, err := conn.ParsePublicKeyDER(der)
		assert.ErrorIs(t, err, conn.ErrKey, name)
		_, err = conn.ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		assert.ErrorIs(t, err, conn.ErrKey, name)
	}
	for _, data := range [][]byte{nil, []byte("hello"), []byte(v.SPKIPEM)} {
		_, err := conn.ParsePrivateKeyPEM(data)
		assert.ErrorIs(t, err, conn.ErrKey)
	}
	for _, data := range [][]byte{nil, []byte("hello"), []byte(v.PKCS8PEM)} {
		_, err := conn.ParsePublicKeyPEM(data)
		assert.ErrorIs(t, err, conn.ErrKey)
	}
}

// offCurve returns an SPKI with the point's last byte changed, so that it
// is no longer on the curve.
func offCurve(spki []byte) []byte {
	b := append([]byte(nil), spki...)
	b[len(b)-1] ^= 1
	return b
}

func TestSignVerify(t *testing.T) {
	keys := loadKeys(t)
	root, err := conn.ParsePrivateKeyDER(keys["server_root"].PKCS8)
	require.NoError(t, err)
	other, err := conn.ParsePublicKeyDER(keys["other_root"].SPKI)
	require.NoError(t, err)
	msg := []byte("signed payload")

	sig1, err := root.Sign(msg)
	require.NoError(t, err)
	sig2, err := root.Sign(msg)
	require.NoError(t, err)
	assert.NotEqual(t, sig1, sig2, "signatures are randomized")
	for _, sig := range [][]byte{sig1, sig2} {
		assert.Equal(t, byte(0x30), sig[0], "DER SEQUENCE")
		assert.LessOrEqual(t, len(sig), 72)
		assert.True(t, root.Public().Verify(msg, sig))
		assert.False(t, other.Verify(msg, sig))
		assert.False(t, root.Public().Verify([]byte("signed payloaD"), sig))
		for i := range sig {
			bad := append([]byte(nil), sig...)
			bad[i] ^= 0x04
			assert.False(t, root.Public().Verify(msg, bad), "signature byte %d changed", i)
		}
		assert.False(t, root.Public().Verify(msg, sig[:len(sig)-1]))
	}
	assert.False(t, root.Public().Verify(msg, nil))

	// the reference's signature from handshake.json
	hs := vectors.MustLoad[vectors.Handshake]("handshake.json")
	assert.True(t, root.Public().Verify(hs.ServerHello.Signed, hs.ServerHello.Signature))
	assert.False(t, other.Verify(hs.ServerHello.Signed, hs.ServerHello.Signature))
}
