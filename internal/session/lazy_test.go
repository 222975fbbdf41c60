package session_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
)

// A client of ours that streams unreliable messages (a game's inputs)
// marks its packets lazy: the server acknowledges them with what it sends
// anyway, not with a keep-alive each 25 ms, while a guaranteed message is
// still acknowledged at once and the latency estimate stays true.
func TestLazyAcks(t *testing.T) {
	link := netsim.Profile{Delay: 40 * time.Millisecond}
	p := newPair(t, link, link, 31)
	p.ServerConfig.KeepAliveInterval = 250 * time.Millisecond
	require.NoError(t, p.Connect(10*time.Second))
	p.Run(time.Millisecond, time.Second)
	before := p.S2C.Stats().Sent
	for range 300 { // 5 s of inputs at 60 a second, nothing coming back
		require.NoError(t, p.Client.Send([]byte("input"), conn.RetryNone, nil))
		p.Run(time.Millisecond, time.Second/60)
	}
	sent := p.S2C.Stats().Sent - before
	t.Logf("the server sent %d datagrams in 5 s for 300 unreliable client packets", sent)
	// Its keep-alives (4 a second) carry the acks, and a prompt ack for
	// the one unmarked packet a second.
	assert.LessOrEqual(t, sent, uint64(5*(4+1)+3))
	assert.Greater(t, p.Client.Latency(), 40*time.Millisecond, "the latency estimate holds: %v", p.Client.Latency())
	assert.Less(t, p.Client.Latency(), 80*time.Millisecond)

	// A guaranteed message is acknowledged at once: within the round
	// trip and the ack delay, not the keep-alive interval.
	sentAt, ackedAt := p.Now, time.Time{}
	require.NoError(t, p.Client.Send([]byte("important"), conn.RetryOnTimeout, func(ok bool) {
		require.True(t, ok)
		ackedAt = p.Now
	}))
	p.RunUntil(time.Millisecond, 2*time.Second, func() bool { return !ackedAt.IsZero() })
	require.False(t, ackedAt.IsZero())
	assert.Less(t, ackedAt.Sub(sentAt), 80*time.Millisecond+25*time.Millisecond+20*time.Millisecond)
}
