package server_test

import (
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// steps gathers a client's reconnect events.
type steps struct{ events []client.ReconnectEvent }

func (s *steps) add(e client.ReconnectEvent) { s.events = append(s.events, e) }

func (s *steps) names() []string {
	var n []string
	for _, e := range s.events {
		n = append(n, e.Step.String())
	}
	return n
}

func (s *steps) has(step client.ReconnectStep) bool {
	for _, e := range s.events {
		if e.Step == step {
			return true
		}
	}
	return false
}

// reconnecting returns a client of the server behind r that reconnects,
// connected, telling st its steps.
func reconnecting(t *testing.T, r *relay, st *steps, cfg client.Config) *client.Client {
	t.Helper()
	cfg.ServerKey = vectorsKey(t).Public()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Reconnect == nil {
		cfg.Reconnect = &client.Reconnect{}
	}
	cfg.Reconnect.OnEvent = st.add
	c := client.New(cfg)
	t.Cleanup(c.ForceDisconnect)
	var ok *bool
	require.NoError(t, c.Connect(r.Addr(), func(b bool) { ok = &b }))
	pump(c, 10*time.Second, func() bool { return ok != nil })
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	return c
}

// crash stops srv as a crash would for its clients: what it says on the
// way out (its DISCONNECTs) never reaches them. The relay drops all while
// the server stops, then forgets its mapping (a new upstream socket), so
// that nothing the old server sent, however late it is read, gets through.
func crash(t *testing.T, r *relay, srv *server.Server) {
	t.Helper()
	r.SetLoss(1)
	srv.Stop()
	<-srv.Done()
	r.Rebind(t)
	r.SetLoss(0)
}

// TestReconnectAfterRestart: the server crashes and starts again on its
// address with its key; the client's next datagram gets a stateless reset
// from the new server, and the client reconnects at once (its connection
// timeout, a minute, plays no part): a new session, told step by step.
func TestReconnectAfterRestart(t *testing.T) {
	a := newLedger()
	srv, _ := migrationServer(t, a)
	addr := srv.Addr()
	r := newRelay(t, addr)
	st := &steps{}
	c := reconnecting(t, r, st, client.Config{ConnectionTimeout: time.Minute})
	old := c.Token()
	newPlayer(c).play(func(frame int) bool { return frame < 20 }) // in the game: told its path ID

	crash(t, r, srv)
	b := newLedger()
	srv2, _ := startOnSocket(t, b, addr.String())
	pump(c, 30*time.Second, func() bool { return st.has(client.ReconnectDone) || st.has(client.ReconnectGaveUp) })

	require.Equal(t, []string{"lost", "attempt", "done"}, st.names())
	assert.ErrorIs(t, st.events[0].Err, conn.ErrReset, "told by the new server, not by a timeout")
	assert.Equal(t, 1, st.events[2].Attempt)
	assert.True(t, c.Connected())
	assert.False(t, c.Reconnecting())
	assert.NotEqual(t, old, c.Token(), "a new session")
	pump(c, 10*time.Second, func() bool { _, _, _, n, _ := b.snapshot(); return n > 0 })
	_, _, _, connects, _ := b.snapshot()
	assert.Equal(t, 1, connects, "the new server's game has the player")
	assert.Positive(t, published(t, srv2, func(s *server.Snapshot) bool { return s.Stats.ResetsSent > 0 }).Stats.ResetsSent)

	// It plays on the new session.
	b.setSend(true)
	p := newPlayer(c)
	p.play(func(frame int) bool { return frame < 20 })
	p.settle(t, b)
}

// TestReconnectWithBackoff: the server is gone for a while: the session
// times out, attempts fail with growing waits, and the first attempt after
// the server is back connects.
func TestReconnectWithBackoff(t *testing.T) {
	a := newLedger()
	srv, _ := migrationServer(t, a)
	addr := srv.Addr()
	r := newRelay(t, addr)
	st := &steps{}
	c := reconnecting(t, r, st, client.Config{ConnectionTimeout: 300 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond,
		Reconnect: &client.Reconnect{First: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	crash(t, r, srv)
	// Two failed attempts, then the server comes back.
	pump(c, 30*time.Second, func() bool {
		n := 0
		for _, e := range st.events {
			if e.Step == client.ReconnectFailed {
				n++
			}
		}
		return n >= 2
	})
	startOnSocket(t, newLedger(), addr.String())
	pump(c, 30*time.Second, func() bool { return st.has(client.ReconnectDone) })
	names := st.names()
	require.GreaterOrEqual(t, len(names), 6, "%v", names)
	assert.Equal(t, "lost", names[0])
	assert.ErrorIs(t, st.events[0].Err, conn.ErrTimeout)
	for i, e := range st.events[1 : len(names)-2] {
		want := []client.ReconnectStep{client.ReconnectAttempt, client.ReconnectFailed}[i%2]
		assert.Equal(t, want, e.Step, "%v", names)
		if e.Step == client.ReconnectFailed {
			assert.ErrorIs(t, e.Err, conn.ErrHandshakeTimeout)
			assert.LessOrEqual(t, e.Wait, 250*time.Millisecond, "Max, and its jitter")
		}
	}
	assert.Equal(t, []string{"attempt", "done"}, names[len(names)-2:])
	assert.True(t, c.Connected())
}

// TestReconnectGivesUp: with Attempts, a server that never comes back is
// given up on; Disconnect stops reconnecting.
func TestReconnectGivesUp(t *testing.T) {
	srv, _ := migrationServer(t, newLedger())
	r := newRelay(t, srv.Addr())
	st := &steps{}
	c := reconnecting(t, r, st, client.Config{ConnectionTimeout: 300 * time.Millisecond, HandshakeTimeout: 100 * time.Millisecond,
		Reconnect: &client.Reconnect{First: 20 * time.Millisecond, Attempts: 2}})
	crash(t, r, srv)
	pump(c, 30*time.Second, func() bool { return st.has(client.ReconnectGaveUp) })
	assert.Equal(t, []string{"lost", "attempt", "failed", "attempt", "gave up"}, st.names())
	assert.False(t, c.Reconnecting())
	assert.False(t, c.Connected())
}

// TestBackoff: waits double from First up to Max, spread by Jitter.
func TestBackoff(t *testing.T) {
	r := client.Reconnect{First: 100 * time.Millisecond, Max: time.Second, Jitter: -1}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, r.Backoff(n, nil))
	}
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second}, got)
	j := client.Reconnect{First: 100 * time.Millisecond, Jitter: 0.5}
	lo, hi := time.Hour, time.Duration(0)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		d := j.Backoff(1, rng)
		lo, hi = min(lo, d), max(hi, d)
	}
	assert.GreaterOrEqual(t, lo, 50*time.Millisecond)
	assert.LessOrEqual(t, hi, 150*time.Millisecond)
	assert.Less(t, lo, 60*time.Millisecond, "spread")
	assert.Greater(t, hi, 140*time.Millisecond, "spread")
}

// TestDisconnectStopsReconnecting: the game closing the client during an
// attempt ends reconnecting: no step is told after it, no attempt starts.
func TestDisconnectStopsReconnecting(t *testing.T) {
	srv, _ := migrationServer(t, newLedger())
	r := newRelay(t, srv.Addr())
	st := &steps{}
	c := reconnecting(t, r, st, client.Config{ConnectionTimeout: 300 * time.Millisecond, HandshakeTimeout: time.Second,
		Reconnect: &client.Reconnect{First: 20 * time.Millisecond}})
	crash(t, r, srv)
	pump(c, 30*time.Second, func() bool { return st.has(client.ReconnectAttempt) })
	c.Disconnect()
	deadline := time.Now().Add(1500 * time.Millisecond) // past the attempt's handshake timeout
	for time.Now().Before(deadline) {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, []string{"lost", "attempt"}, st.names())
	assert.False(t, c.Reconnecting())
}
