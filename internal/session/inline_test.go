package session

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// laneOf returns how many messages wait in c's inline lane.
func laneOf(c *Conn) int { return c.tx.inline.n }

// deliveries records what c's handler is given.
func deliveries(c *Conn) *[]string {
	var got []string
	c.SetHandler(func(_ protocol.Seq, msg []byte) { got = append(got, string(msg)) })
	return &got
}

// Untracked messages take the inline lane only while the send queue is
// empty, so the peer is given every message in the order it was sent,
// whatever mix of lane and queue carried them.
func TestInlineLaneKeepsOrder(t *testing.T) {
	client, server, now := benchPair(t)
	got := deliveries(client)
	send := func(msg string, retry conn.RetryMode, cb func(bool)) {
		t.Helper()
		require.NoError(t, server.Send([]byte(msg), retry, cb))
	}
	send("u1", conn.RetryNone, nil) // the lane
	send("u2", conn.RetryNone, nil) // the lane
	assert.Equal(t, 2, laneOf(server))
	send("t1", conn.RetryOnTimeout, nil)      // the queue: tracked
	send("u3", conn.RetryNone, nil)           // the queue: behind t1
	send("c1", conn.RetryNone, func(bool) {}) // the queue: a callback waits
	assert.Equal(t, 2, laneOf(server))
	assert.Equal(t, 3, server.tx.small.len())

	now = now.Add(time.Second / 60)
	d := server.Poll(now, nil)
	require.NotNil(t, d)
	require.NoError(t, client.Receive(now, d))
	assert.Equal(t, []string{"u1", "u2", "t1", "u3", "c1"}, *got)
	assert.Equal(t, 0, laneOf(server))
}

// A lane longer than a packet goes out over several, in order, each
// message once; what the lane held is given back as it goes.
func TestInlineLaneSpansPackets(t *testing.T) {
	client, server, now := benchPair(t)
	got := deliveries(client)
	budget := server.cfg.Budget
	body := bytes.Repeat([]byte{'x'}, 300)
	var want []string
	for i := range 40 { // about 12 KB: nine packets
		msg := fmt.Sprintf("%02d%s", i, body)
		want = append(want, msg)
		require.NoError(t, server.Send([]byte(msg), conn.RetryNone, nil))
	}
	assert.Equal(t, 40, laneOf(server))
	assert.Equal(t, 40, server.Messages())
	assert.Equal(t, 40*302, server.QueuedBytes())
	assert.Greater(t, server.Held(), 40*302)

	packets := 0
	for i := 0; i < 100 && laneOf(server) > 0; i++ {
		now = now.Add(time.Second / 60) // a datagram an interval: the peer may be the reference
		d := server.Poll(now, nil)
		require.NotNil(t, d)
		packets++
		require.NoError(t, client.Receive(now, d))
		assert.LessOrEqual(t, len(d), protocol.MaxDatagramSize)
	}
	assert.Greater(t, packets, 1)
	require.Len(t, *got, len(want))
	for i := range want {
		require.Equal(t, want[i][:2], (*got)[i][:2], "message %d", i) // in order
		require.True(t, want[i] == (*got)[i], "message %d intact", i)
	}
	assert.Equal(t, 0, laneOf(server))
	assert.Equal(t, 0, server.Messages())
	assert.Equal(t, 0, server.QueuedBytes())
	assert.Nil(t, server.tx.inline.buf, "a burst's buffer is not kept once the lane is empty")
	if budget != nil {
		assert.Equal(t, 0, budget.Used())
	}
}

// The lane is bounded by the connection's limits like the queue, and
// closing the connection gives back what it held.
func TestInlineLaneLimitsAndClose(t *testing.T) {
	budget := NewBudget(1 << 20)
	_, server, now := benchPairWith(t, func(c *Config) {
		c.MaxQueuedMessages = 8
		c.Budget = budget
	})
	for range 8 {
		require.NoError(t, server.Send([]byte("m"), conn.RetryNone, nil))
	}
	assert.ErrorIs(t, server.Send([]byte("m"), conn.RetryNone, nil), conn.ErrQueueFull)
	assert.Equal(t, 8, laneOf(server))
	assert.Positive(t, budget.Used())

	server.Disconnect(now)
	assert.Equal(t, 0, laneOf(server))
	// What remains held is the DISCONNECT being sent.
	assert.Equal(t, 1, server.Messages())
	server.Close()
	assert.Equal(t, 0, server.Messages())
	assert.Equal(t, 0, server.Held())
	assert.Equal(t, 0, budget.Used())
}
