package conn_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/crypto"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/protocol"
)

var perfect = netsim.Profile{Delay: 5 * time.Millisecond}

func TestHandshake(t *testing.T) {
	p := newPair(t, perfect, perfect, 1)
	p.dial()
	assert.Equal(t, conn.Connecting, p.client.Status())
	assert.Zero(t, p.client.Token())
	p.connect()
	assert.Equal(t, p.server.Token(), p.client.Token())
	assert.GreaterOrEqual(t, p.client.Token(), uint32(0x40000000))
	assert.Equal(t, conn.RoleClient, p.client.Role())
	assert.Equal(t, conn.RoleServer, p.server.Role())
	assert.NoError(t, p.client.Err())
	// One hello, one server hello, one challenge response: no repeats.
	assert.EqualValues(t, 2, p.c2s.Stats().Sent)
	assert.EqualValues(t, 1, p.s2c.Stats().Sent)
	assert.EqualValues(t, 2, p.server.Stats().Received)
}

func TestHandshakeUnpinnedTrustsServerKey(t *testing.T) {
	p := newPair(t, perfect, perfect, 2)
	p.ccfg.ServerKey = nil
	p.connect()
	assert.Equal(t, p.server.Token(), p.client.Token())
}

func TestHandshakeWrongPinnedKeyNeverConnects(t *testing.T) {
	p := newPair(t, perfect, perfect, 3)
	other, err := crypto.GenerateKey(nil)
	require.NoError(t, err)
	p.ccfg.ServerKey = other.Public()
	p.dial()
	connected := p.runUntil(time.Millisecond, 5*time.Second, func() bool {
		require.NotEqual(t, conn.Connected, p.client.Status(), "connected with the wrong key")
		return p.client.Status().Closed()
	})
	require.True(t, connected)
	p.runUntil(time.Millisecond, 100*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Disconnected, p.client.Status())
	assert.ErrorIs(t, p.client.Err(), conn.ErrHandshakeTimeout)
	assert.ErrorIs(t, p.client.Err(), conn.ErrBadSignature)
	assert.NotZero(t, p.client.Stats().Drops.Handshake)
	// The server gave up too: it never got a challenge response.
	assert.Equal(t, conn.Disconnected, p.server.Status())
	assert.ErrorIs(t, p.server.Err(), conn.ErrHandshakeTimeout)
}

// dropFirst is a link that loses the first n datagrams, then is perfect.
func lossyStart(t *testing.T, p *pair, link **netsim.Link, n int) {
	t.Helper()
	*link = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	for i := 0; i < n; i++ {
		p.step(time.Millisecond)
		for (*link).Stats().Sent < uint64(i+1) {
			p.step(time.Millisecond)
		}
	}
	*link = netsim.NewLink(perfect, 1)
}

func TestHandshakeSurvivesLostHello(t *testing.T) {
	p := newPair(t, perfect, perfect, 4)
	p.dial()
	lossyStart(t, p, &p.c2s, 1) // the first CLIENT_HELLO is lost
	p.runUntil(time.Millisecond, 3*time.Second, func() bool {
		return p.server != nil && p.server.Status() == conn.Connected && p.client.Status() == conn.Connected
	})
	require.Equal(t, conn.Connected, p.client.Status())
	require.Equal(t, conn.Connected, p.server.Status())
}

func TestHandshakeSurvivesLostServerHello(t *testing.T) {
	p := newPair(t, perfect, perfect, 5)
	p.dial()
	lossyStart(t, p, &p.s2c, 1) // the first SERVER_HELLO is lost
	p.runUntil(time.Millisecond, 3*time.Second, func() bool {
		return p.server.Status() == conn.Connected && p.client.Status() == conn.Connected
	})
	require.Equal(t, conn.Connected, p.client.Status())
	require.Equal(t, conn.Connected, p.server.Status())
	assert.Equal(t, p.server.Token(), p.client.Token())
}

func TestHandshakeSurvivesLostChallenge(t *testing.T) {
	p := newPair(t, perfect, perfect, 6)
	p.dial()
	// Let the hello through, then lose the client's next datagram: the
	// CHALLENGE_RESP.
	p.runUntil(time.Millisecond, time.Second, func() bool { return p.client.Status() == conn.Connected })
	sent := p.c2s.Stats().Sent
	p.c2s = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.runUntil(time.Millisecond, time.Second, func() bool { return p.c2s.Stats().Sent > 0 })
	p.c2s = netsim.NewLink(perfect, 1)
	require.EqualValues(t, 1, sent)
	p.runUntil(time.Millisecond, 3*time.Second, func() bool { return p.server.Status() == conn.Connected })
	require.Equal(t, conn.Connected, p.server.Status())
	require.Equal(t, conn.Connected, p.client.Status())
}

func TestClientHandshakeTimeout(t *testing.T) {
	p := newPair(t, netsim.Profile{Loss: 1}, perfect, 7)
	p.dial()
	p.runUntil(10*time.Millisecond, conn.DefaultHandshakeTimeout+100*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Disconnected, p.client.Status())
	assert.ErrorIs(t, p.client.Err(), conn.ErrHandshakeTimeout)
	assert.NotErrorIs(t, p.client.Err(), conn.ErrBadSignature)
	// The hello was repeated while waiting.
	assert.GreaterOrEqual(t, p.c2s.Stats().Sent, uint64(4))
	assert.Nil(t, p.client.Poll(p.now, nil))
}

func TestSendBeforeConnectedIsQueued(t *testing.T) {
	p := newPair(t, perfect, perfect, 8)
	p.dial()
	var got [][]byte
	var acked bool
	require.NoError(t, p.client.Send([]byte("early"), conn.RetryOnTimeout, func(ok bool) { acked = ok }))
	p.onServer = func(s *conn.Conn) {
		s.SetHandler(func(_ protocol.Seq, m []byte) { got = append(got, append([]byte(nil), m...)) })
	}
	p.runUntil(time.Millisecond, 2*time.Second, func() bool { return acked })
	require.True(t, acked)
	require.Equal(t, [][]byte{[]byte("early")}, got)
}

func TestServerRefusesSendBeforeConnected(t *testing.T) {
	p := newPair(t, perfect, netsim.Profile{Loss: 1}, 9)
	p.dial()
	p.runUntil(time.Millisecond, 100*time.Millisecond, func() bool { return p.server != nil })
	require.NotNil(t, p.server)
	assert.ErrorIs(t, p.server.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
}

func TestSendValidation(t *testing.T) {
	p := newPair(t, perfect, perfect, 10)
	p.connect()
	assert.ErrorIs(t, p.client.Send(nil, conn.RetryMode(5), nil), conn.ErrRetryMode)
	assert.ErrorIs(t, p.client.Send(make([]byte, protocol.MaxMessageSize+1), conn.RetryNone, nil), conn.ErrMessageTooLarge)
	p.ccfg.MaxQueuedBytes = 1000
	small := newPair(t, perfect, perfect, 10)
	small.ccfg.MaxQueuedBytes = 1000
	small.connect()
	require.NoError(t, small.client.Send(make([]byte, 600), conn.RetryNone, nil))
	assert.ErrorIs(t, small.client.Send(make([]byte, 600), conn.RetryNone, nil), conn.ErrQueueFull)
	assert.Equal(t, 600, small.client.QueuedBytes())
}

func TestKeepAliveKeepsIdleConnectionUp(t *testing.T) {
	p := newPair(t, perfect, perfect, 11)
	p.connect()
	sent := p.c2s.Stats().Sent
	p.runUntil(time.Millisecond, 10*time.Second, func() bool { return false })
	assert.Equal(t, conn.Connected, p.client.Status())
	assert.Equal(t, conn.Connected, p.server.Status())
	// One keep-alive per ~100 ms of silence.
	ka := p.c2s.Stats().Sent - sent
	assert.InDelta(t, 100, float64(ka), 10, "keep-alives in 10 s")
	assert.Zero(t, p.client.Stats().Timeouts)
	assert.LessOrEqual(t, p.client.PendingAcks(), 1, "only the newest keep-alive awaits its ack")
	assert.LessOrEqual(t, p.server.PendingAcks(), 1, "only the newest keep-alive awaits its ack")
}

func TestConnectionTimeoutDropsBothEnds(t *testing.T) {
	p := newPair(t, perfect, perfect, 12)
	p.connect()
	var cb []bool
	require.NoError(t, p.client.Send([]byte("lost"), conn.RetryOnTimeout, func(ok bool) { cb = append(cb, ok) }))
	p.c2s = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.s2c = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.runUntil(10*time.Millisecond, conn.DefaultConnectionTimeout+200*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Dropped, p.client.Status())
	assert.Equal(t, conn.Dropped, p.server.Status())
	assert.ErrorIs(t, p.client.Err(), conn.ErrTimeout)
	assert.Equal(t, []bool{false}, cb, "a guaranteed message fails once the connection is gone")
	assert.ErrorIs(t, p.client.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
	assert.ErrorIs(t, p.client.Receive(p.now, make([]byte, 40)), conn.ErrClosed)
	assert.EqualValues(t, 1, p.client.Stats().Drops.Closed)
}

func TestSetConnectionTimeout(t *testing.T) {
	p := newPair(t, perfect, perfect, 13)
	p.connect()
	p.client.SetConnectionTimeout(time.Second)
	p.c2s = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.s2c = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.runUntil(10*time.Millisecond, 1500*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Dropped, p.client.Status())
	assert.Equal(t, conn.Connected, p.server.Status())
}

func TestGracefulDisconnectFromClient(t *testing.T) {
	p := newPair(t, perfect, perfect, 14)
	p.connect()
	var pending []bool
	// A message queued but not sent yet fails on disconnect.
	require.NoError(t, p.client.Send([]byte("never"), conn.RetryOnTimeout, func(ok bool) { pending = append(pending, ok) }))
	p.client.Disconnect(p.now)
	assert.Equal(t, []bool{false}, pending)
	assert.Equal(t, conn.Disconnecting, p.client.Status())
	assert.ErrorIs(t, p.client.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
	done := p.runUntil(time.Millisecond, 2*time.Second, func() bool {
		return p.client.Status().Closed() && p.server.Status().Closed()
	})
	require.True(t, done)
	assert.Equal(t, conn.Disconnected, p.client.Status())
	assert.Equal(t, conn.Disconnected, p.server.Status())
	assert.ErrorIs(t, p.client.Err(), conn.ErrLocalClose)
	assert.ErrorIs(t, p.server.Err(), conn.ErrPeerClosed)
	// It closed on the server's reply, well before the 1 s timeout.
	assert.Less(t, p.now.Sub(start), 500*time.Millisecond)
}

func TestGracefulDisconnectFromServer(t *testing.T) {
	p := newPair(t, perfect, perfect, 15)
	p.connect()
	p.server.Disconnect(p.now)
	done := p.runUntil(time.Millisecond, 2*time.Second, func() bool {
		return p.client.Status().Closed() && p.server.Status().Closed()
	})
	require.True(t, done)
	assert.ErrorIs(t, p.client.Err(), conn.ErrPeerClosed)
	assert.ErrorIs(t, p.server.Err(), conn.ErrLocalClose)
}

func TestDisconnectWithoutAnswerTimesOut(t *testing.T) {
	p := newPair(t, perfect, perfect, 16)
	p.connect()
	p.c2s = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.client.Disconnect(p.now)
	t0 := p.now
	p.runUntil(time.Millisecond, 3*time.Second, func() bool { return p.client.Status().Closed() })
	assert.Equal(t, conn.Disconnected, p.client.Status())
	assert.InDelta(t, conn.DefaultDisconnectTimeout.Seconds(), p.now.Sub(t0).Seconds(), 0.05)
	// The DISCONNECT was repeated while waiting.
	assert.Greater(t, p.c2s.Stats().Sent, uint64(3))
}

func TestDisconnectWhileConnecting(t *testing.T) {
	p := newPair(t, perfect, perfect, 17)
	p.dial()
	p.client.Disconnect(p.now)
	assert.Equal(t, conn.Disconnected, p.client.Status())
	assert.Nil(t, p.client.Poll(p.now, nil))
}

func TestCallbacks(t *testing.T) {
	p := newPair(t, perfect, perfect, 18)
	p.connect()
	var none, best, retry []bool
	require.NoError(t, p.client.Send([]byte("n"), conn.RetryNone, func(ok bool) { none = append(none, ok) }))
	require.NoError(t, p.client.Send([]byte("b"), conn.RetryBestEffort, func(ok bool) { best = append(best, ok) }))
	require.NoError(t, p.client.Send([]byte("r"), conn.RetryOnTimeout, func(ok bool) { retry = append(retry, ok) }))
	p.runUntil(time.Millisecond, 2*time.Second, func() bool { return false })
	assert.Equal(t, []bool{true}, none)
	assert.Equal(t, []bool{true}, best)
	assert.Equal(t, []bool{true}, retry)

	// Over a dead link: NONE and BEST_EFFORT fail after the message
	// timeout; RETRY_ON_TIMEOUT keeps trying and succeeds once the link
	// heals, with a single callback despite many copies.
	none, best, retry = nil, nil, nil
	p.c2s = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	require.NoError(t, p.client.Send([]byte("n"), conn.RetryNone, func(ok bool) { none = append(none, ok) }))
	require.NoError(t, p.client.Send([]byte("b"), conn.RetryBestEffort, func(ok bool) { best = append(best, ok) }))
	require.NoError(t, p.client.Send([]byte("r"), conn.RetryOnTimeout, func(ok bool) { retry = append(retry, ok) }))
	resent := p.client.Stats().Resent
	p.runUntil(time.Millisecond, 2500*time.Millisecond, func() bool { return false })
	assert.Equal(t, []bool{false}, none)
	assert.Equal(t, []bool{false}, best)
	assert.Empty(t, retry)
	assert.Greater(t, p.client.Stats().Resent-resent, uint64(15), "the guaranteed message is being resent")
	p.c2s = netsim.NewLink(perfect, 1)
	p.runUntil(time.Millisecond, time.Second, func() bool { return len(retry) > 0 })
	p.runUntil(time.Millisecond, time.Second, func() bool { return false })
	assert.Equal(t, []bool{true}, retry)
}

func TestCallbackMayReenter(t *testing.T) {
	p := newPair(t, perfect, perfect, 19)
	p.connect()
	var second bool
	require.NoError(t, p.client.Send([]byte("one"), conn.RetryNone, func(bool) {
		require.NoError(t, p.client.Send([]byte("two"), conn.RetryNone, func(ok bool) {
			second = ok
			p.client.Disconnect(p.now)
		}))
	}))
	p.runUntil(time.Millisecond, 3*time.Second, func() bool { return p.client.Status().Closed() })
	assert.True(t, second)
	assert.Equal(t, conn.Disconnected, p.client.Status())
}

func TestPacking(t *testing.T) {
	p := newPair(t, perfect, perfect, 20)
	p.connect()
	var got int
	p.server.SetHandler(func(protocol.Seq, []byte) { got++ })
	for i := 0; i < 50; i++ {
		require.NoError(t, p.client.Send(bytes.Repeat([]byte{byte(i)}, 20), conn.RetryNone, nil))
	}
	before := p.c2s.Stats().Sent
	p.step(20 * time.Millisecond)
	assert.EqualValues(t, 1, p.c2s.Stats().Sent-before, "50 small messages fit one datagram")
	p.runUntil(time.Millisecond, 100*time.Millisecond, func() bool { return got == 50 })
	assert.Equal(t, 50, got)

	// 600 one-byte messages need three packets: at most 255 per packet.
	got = 0
	for i := 0; i < 600; i++ {
		require.NoError(t, p.client.Send([]byte{1}, conn.RetryNone, nil))
	}
	before = p.c2s.Stats().Sent
	p.runUntil(time.Millisecond, time.Second, func() bool { return got == 600 })
	assert.Equal(t, 600, got)
	assert.EqualValues(t, 3, p.c2s.Stats().Sent-before-keepAlivesBetween(p))
}

// keepAlivesBetween returns 0: the three packets go out back to back, less
// than a keep-alive interval apart, and delivery ends before the next.
func keepAlivesBetween(*pair) uint64 { return 0 }

// TestMessageSizes sends messages around every size boundary and checks
// they arrive intact: the largest unfragmented message, the smallest
// fragmented one, the sizes the reference can never send (1433, 1434,
// 1427+1024k), and the largest message allowed.
func TestMessageSizes(t *testing.T) {
	p := newPair(t, perfect, perfect, 21)
	p.ccfg.SendInterval = time.Millisecond
	p.connect()
	var got [][]byte
	p.server.SetHandler(func(_ protocol.Seq, m []byte) { got = append(got, append([]byte(nil), m...)) })
	sizes := []int{0, 1, protocol.MaxSingleMessage, protocol.MaxSingleMessage + 1, 1434, 1435,
		2451, 3475, 1427 + 1024*10, 20_000, protocol.MaxMessageSize}
	acked := 0
	for i, n := range sizes {
		msg := bytes.Repeat([]byte{byte(i + 1)}, n)
		require.NoError(t, p.client.Send(msg, conn.RetryOnTimeout, func(ok bool) {
			require.True(t, ok)
			acked++
		}), "size %d", n)
	}
	p.runUntil(time.Millisecond, 60*time.Second, func() bool { return acked == len(sizes) })
	require.Equal(t, len(sizes), acked)
	require.Len(t, got, len(sizes))
	for i, n := range sizes {
		assert.Equal(t, n, len(got[i]), "message %d", i)
		assert.True(t, bytes.Equal(bytes.Repeat([]byte{byte(i + 1)}, n), got[i]), "message %d differs", i)
	}
}

func TestLatencyEstimate(t *testing.T) {
	link := netsim.Profile{Delay: 40 * time.Millisecond}
	p := newPair(t, link, link, 22)
	p.connect()
	for i := 0; i < 100; i++ {
		require.NoError(t, p.client.Send([]byte("ping"), conn.RetryNone, nil))
		p.runUntil(time.Millisecond, 50*time.Millisecond, func() bool { return false })
	}
	// Half the round trip: 40 ms each way plus at most the 25 ms ack delay
	// (rounded up to the peer's next send opportunity).
	l := p.client.Latency()
	assert.Greater(t, l, 40*time.Millisecond)
	assert.Less(t, l, 60*time.Millisecond)
	s := p.client.Stats()
	assert.InDelta(t, float64(l.Microseconds()), float64(s.Latency.Last()), float64(5*time.Millisecond/time.Microsecond))
}

func TestStatsSeries(t *testing.T) {
	p := newPair(t, perfect, perfect, 23)
	p.connect()
	p.runUntil(time.Millisecond, 5*time.Second, func() bool { return false })
	s := p.client.Stats()
	vals := s.PktsSent.Values(nil)
	require.Len(t, vals, 300)
	// The last complete seconds each hold ~10 keep-alives.
	for _, v := range vals[len(vals)-4 : len(vals)-1] {
		assert.InDelta(t, 10, v, 2)
	}
	assert.Greater(t, s.BytesSent.Last(), int64(0))
	assert.Equal(t, s.Assembled, uint64(sum(vals)))
	var cp conn.Stats
	s.CopyTo(&cp)
	assert.Equal(t, vals, cp.PktsSent.Values(nil))
	assert.Equal(t, s.Acked, cp.Acked)
}

func sum(v []int64) int64 {
	var t int64
	for _, x := range v {
		t += x
	}
	return t
}

func TestNewServerRejectsGarbage(t *testing.T) {
	root, err := crypto.GenerateKey(nil)
	require.NoError(t, err)
	cfg := &conn.Config{RootKey: root}
	for _, d := range [][]byte{nil, []byte("FSOS"), make([]byte, 1438), bytes.Repeat([]byte{0xff}, 100)} {
		_, err := conn.NewServer(cfg, start, 0x40000001, d)
		assert.Error(t, err)
	}
	_, err = conn.NewServer(&conn.Config{}, start, 1, nil)
	assert.Error(t, err, "no root key")
}
