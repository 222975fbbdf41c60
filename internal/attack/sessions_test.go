package attack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
)

// TestSessions: the sessions attack tries every client it is asked for
// against a real echo server, from one address, and counts each
// handshake as admitted or refused (a server may bound the sessions of
// one host); each admitted session sends about one message a second and
// hears the echoes.
func TestSessions(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t)
	info, err := attack.Lookup("sessions")
	require.NoError(t, err)
	assert.Equal(t, 12000, info.Clients)
	assert.Equal(t, 1.0, info.Rate)
	assert.False(t, info.Flood())

	const n = 40
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	// A refused handshake fails within a second, well before the end.
	res, err := attack.Run(ctx, attack.Config{Name: "sessions", Server: srv.Addr(), ServerKey: key, Clients: n, DialTimeout: time.Second})
	require.NoError(t, err)
	assert.Equal(t, "sessions", res.Name)
	assert.Equal(t, 1.0, res.Rate)
	assert.Equal(t, n, res.Admitted+res.Refused, "every handshake is counted: %+v", res)
	assert.Positive(t, res.Admitted)
	assert.Equal(t, res.Refused > 0, res.Refusal != "", "a reason for the refusals, if any: %q", res.Refusal)
	assert.Len(t, res.Clients, res.Admitted)
	// Two messages of handshake, about one a second for about two
	// seconds, and a DISCONNECT at the end.
	assert.GreaterOrEqual(t, res.Messages, uint64(4*res.Admitted))
	assert.LessOrEqual(t, res.Messages, uint64(6*res.Admitted))
	assert.Positive(t, res.Replies)
	assert.Zero(t, res.Errors)
	assert.Less(t, res.Dropped(), res.Admitted, "the server kept sessions it admitted: %+v", res)
}

// TestSessionsRefused: handshakes that fail do not stop the attack; they
// are counted, with the reason.
func TestSessionsRefused(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	const n = 40
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := attack.Run(ctx, attack.Config{Name: "sessions", Server: srv.Addr(), ServerKey: other.Public(), Clients: n,
		DialTimeout: 300 * time.Millisecond})
	require.NoError(t, err, "refusals are an outcome, not an error")
	assert.Zero(t, res.Admitted)
	assert.Equal(t, n, res.Refused)
	assert.Contains(t, res.Refusal, "handshake with "+srv.Addr().String())
	assert.Empty(t, res.Clients)
}
