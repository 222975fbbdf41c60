package dtlsrec

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	pionprf "github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The TLS 1.2 PRF (SHA-256) test vector published on the IETF TLS list
// (www.ietf.org/mail-archive/web/tls/current/msg03416.html).
func TestPRFVector(t *testing.T) {
	secret, _ := hex.DecodeString("9bbe436ba940f017b17652849a71db35")
	seed, _ := hex.DecodeString("a0ba9f936cda311827a6f796ffd5198c")
	want, _ := hex.DecodeString(
		"e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" +
			"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
			"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
			"87347b66")
	assert.Equal(t, want, prf(sha256.New, secret, "test label", seed, len(want)))
}

// Our PRF and key split agree with pion's, which the handshake used.
func TestKeysMatchPion(t *testing.T) {
	for _, id := range []uint16{0xc02b, 0xc02c} {
		s, ok := suiteFor(id)
		require.True(t, ok)
		master := make([]byte, masterLen)
		var cr, sr [randomLen]byte
		_, _ = rand.Read(master)
		_, _ = rand.Read(cr[:])
		_, _ = rand.Read(sr[:])

		k := deriveKeys(s, master, &cr, &sr)
		pk, err := pionprf.GenerateEncryptionKeys(master, cr[:], sr[:], 0, s.keyLen, saltLen, s.hash)
		require.NoError(t, err)
		assert.Equal(t, pk.ClientWriteKey, k.clientKey)
		assert.Equal(t, pk.ServerWriteKey, k.serverKey)
		assert.Equal(t, pk.ClientWriteIV, k.clientSalt[:])
		assert.Equal(t, pk.ServerWriteIV, k.serverSalt[:])

		for _, n := range []int{1, 31, 32, 33, 100} {
			want, err := pionprf.PHash(master, append([]byte("label"), cr[:]...), n, s.hash)
			require.NoError(t, err)
			assert.Equal(t, want, prf(s.hash, master, "label", cr[:], n))
		}
	}
}
