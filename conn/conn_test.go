package conn_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
)

func TestStatus(t *testing.T) {
	for s, want := range map[conn.Status]string{conn.Connecting: "CONNECTING", conn.Connected: "CONNECTED",
		conn.Disconnecting: "DISCONNECTING", conn.Disconnected: "DISCONNECTED", conn.Dropped: "DROPPED", 9: "Status(9)"} {
		assert.Equal(t, want, s.String())
	}
	for _, s := range []conn.Status{conn.Connecting, conn.Connected, conn.Disconnecting} {
		assert.False(t, s.Closed(), s)
	}
	assert.True(t, conn.Disconnected.Closed())
	assert.True(t, conn.Dropped.Closed())
}

func TestRetryMode(t *testing.T) {
	for m, want := range map[conn.RetryMode]string{conn.RetryOnTimeout: "RETRY_ON_TIMEOUT", conn.RetryNone: "NONE", conn.RetryBestEffort: "BEST_EFFORT", 5: "RetryMode(5)"} {
		assert.Equal(t, want, m.String())
	}
	assert.True(t, conn.RetryOnTimeout.Valid())
	assert.True(t, conn.RetryBestEffort.Valid())
	assert.False(t, conn.RetryMode(2).Valid())
	assert.False(t, conn.RetryMode(-2).Valid())
	// The reference's values: scripts and the wire-level tests rely on them.
	assert.EqualValues(t, -1, conn.RetryOnTimeout)
	assert.EqualValues(t, 0, conn.RetryNone)
	assert.EqualValues(t, 1, conn.RetryBestEffort)
}

func TestDrops(t *testing.T) {
	a := conn.Drops{Header: 1, Auth: 2, Payload: 3, Duplicate: 4, Stale: 5, Handshake: 6, NoSession: 7, Closed: 8}
	b := a
	b.Add(&a)
	assert.EqualValues(t, 36, a.Total())
	assert.EqualValues(t, 72, b.Total())
	assert.EqualValues(t, 16, b.Closed)
}

func TestErrors(t *testing.T) {
	assert.ErrorIs(t, conn.ErrCloseTimeout, conn.ErrLocalClose, "an unacknowledged close is still a local close")
	assert.False(t, errors.Is(conn.ErrTimeout, conn.ErrHandshakeTimeout))
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	k, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, conn.SavePrivateKey(filepath.Join(dir, "root.key"), k))
	require.NoError(t, conn.SavePublicKey(filepath.Join(dir, "root.pub"), k.Public()))
	k2, err := conn.LoadPrivateKey(filepath.Join(dir, "root.key"))
	require.NoError(t, err)
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	assert.True(t, k2.Public().Equal(pub))
	pem := k.Public().MarshalPEM()
	parsed, err := conn.ParsePublicKeyPEM(pem)
	require.NoError(t, err)
	assert.True(t, parsed.Equal(pub))
	_, err = conn.ParsePublicKeyPEM([]byte("not a key"))
	assert.Error(t, err)
	_, err = conn.LoadPrivateKey(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}
