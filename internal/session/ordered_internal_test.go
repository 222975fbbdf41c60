package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// rawExt queues an extension message body on c as it is, as a hostile
// peer of ours could send it.
func rawExt(c *Conn, body []byte) {
	m := c.newMsg(protocol.TypeKeepAlive, body, conn.RetryNone, nil)
	c.enqueue(m)
}

// exchange delivers what from sends to to, once.
func exchange(t *testing.T, from, to *Conn, now time.Time) {
	t.Helper()
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	for d := from.Poll(now, buf); d != nil; d = from.Poll(now, buf) {
		_ = to.Receive(now, d)
	}
}

// burst lets a test connection send all it has at once (the replay's
// configuration sends one datagram an interval, as the reference).
func burst(c *Config) { c.PacketsPerInterval = 0 }

// TestOrderedAbuse: a peer that sends an ordered chunk further ahead than
// the window, or a message longer than the largest, is disconnected; the
// memory its chunks held is given back.
func TestOrderedAbuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []protocol.Ordered
		want   error
	}{
		{"too far ahead", []protocol.Ordered{{Seq: 1, Data: []byte("x")}, {Seq: orderedWindow, Final: true}}, conn.ErrOutOfWindow},
		{"too long", []protocol.Ordered{{Seq: 0, Data: make([]byte, 1000)}, {Seq: 1, Data: make([]byte, 1000)}, {Seq: 2, Final: true, Data: make([]byte, 1000)}}, conn.ErrMessageTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server, now := newBenchPair(t, burst, func(c *Config) { c.MaxMessageSize = 2500 })
			got := 0
			server.SetHandler(func(protocol.Seq, []byte) { got++ })
			for _, o := range tc.chunks {
				rawExt(client, protocol.AppendOrdered(nil, o))
			}
			now = now.Add(time.Second)
			exchange(t, client, server, now)
			assert.Zero(t, got)
			assert.ErrorIs(t, server.Err(), tc.want)
			assert.NotEqual(t, conn.Connected, server.Status())
			require.NotNil(t, server.rx.ord)
			assert.Zero(t, server.rx.ord.held, "what the chunks held is given back")
		})
	}
}

// TestOrderedHeldIsCharged: chunks held behind a gap count against the
// connection's memory, and are given back once delivered.
func TestOrderedHeldIsCharged(t *testing.T) {
	client, server, now := newBenchPair(t, burst, nil)
	var got []string
	server.SetHandler(func(_ protocol.Seq, m []byte) { got = append(got, string(m)) })
	before := server.Held()
	for i := uint32(1); i < 20; i++ {
		rawExt(client, protocol.AppendOrdered(nil, protocol.Ordered{Seq: i, Final: true, Data: []byte{'a' + byte(i)}}))
	}
	now = now.Add(time.Second)
	exchange(t, client, server, now)
	assert.Empty(t, got, "held behind the gap at 0")
	assert.Greater(t, server.Held(), before+19*64, "the chunks and the ring are charged")
	rawExt(client, protocol.AppendOrdered(nil, protocol.Ordered{Seq: 0, Final: true, Data: []byte("a")}))
	exchange(t, client, server, now.Add(time.Second))
	assert.Len(t, got, 20)
	assert.Equal(t, "a", got[0])
	assert.Equal(t, "t", got[19])
	assert.Equal(t, before, server.Held())
}
