package session_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/pair"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

var perfect = netsim.Profile{Delay: 5 * time.Millisecond}

func newPair(t testing.TB, c2s, s2c netsim.Profile, seed uint64) *pair.Pair {
	p, err := pair.NewPair(c2s, s2c, seed)
	require.NoError(t, err)
	return p
}

func TestHandshake(t *testing.T) {
	p := newPair(t, perfect, perfect, 1)
	require.NoError(t, p.Dial())
	assert.Equal(t, conn.Connecting, p.Client.Status())
	assert.Zero(t, p.Client.Token())
	require.NoError(t, p.Connect(10*time.Second))
	assert.Equal(t, p.Server.Token(), p.Client.Token())
	assert.GreaterOrEqual(t, p.Client.Token(), uint32(0x40000000))
	assert.Equal(t, session.RoleClient, p.Client.Role())
	assert.Equal(t, session.RoleServer, p.Server.Role())
	assert.NoError(t, p.Client.Err())
	// One hello, one server hello, one challenge response: no repeats;
	// and the packet that tells the client the server is ours.
	assert.EqualValues(t, 2, p.C2S.Stats().Sent)
	assert.EqualValues(t, 2, p.S2C.Stats().Sent)
	assert.EqualValues(t, 2, p.Server.Stats().Received)
}

func TestHandshakeUnpinnedTrustsServerKey(t *testing.T) {
	p := newPair(t, perfect, perfect, 2)
	p.ClientConfig.ServerKey = nil
	require.NoError(t, p.Connect(10*time.Second))
	assert.Equal(t, p.Server.Token(), p.Client.Token())
}

func TestHandshakeWrongPinnedKeyNeverConnects(t *testing.T) {
	p := newPair(t, perfect, perfect, 3)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	p.ClientConfig.ServerKey = other.Public()
	require.NoError(t, p.Dial())
	connected := p.RunUntil(time.Millisecond, 5*time.Second, func() bool {
		require.NotEqual(t, conn.Connected, p.Client.Status(), "connected with the wrong key")
		return p.Client.Status().Closed()
	})
	require.True(t, connected)
	p.RunUntil(time.Millisecond, 100*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrHandshakeTimeout)
	assert.ErrorIs(t, p.Client.Err(), conn.ErrBadSignature)
	assert.NotZero(t, p.Client.Stats().Drops.Handshake)
	// The server gave up too: it never got a challenge response.
	assert.Equal(t, conn.Disconnected, p.Server.Status())
	assert.ErrorIs(t, p.Server.Err(), conn.ErrHandshakeTimeout)
}

// lossyStart loses the first n datagrams sent on *link, then makes it
// perfect.
func lossyStart(t *testing.T, p *pair.Pair, link **netsim.Link, n int) {
	t.Helper()
	*link = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	for i := 0; i < n; i++ {
		p.Step(time.Millisecond)
		for (*link).Stats().Sent < uint64(i+1) {
			p.Step(time.Millisecond)
		}
	}
	*link = netsim.NewLink(perfect, 1)
}

func TestHandshakeSurvivesLostHello(t *testing.T) {
	p := newPair(t, perfect, perfect, 4)
	require.NoError(t, p.Dial())
	lossyStart(t, p, &p.C2S, 1) // the first CLIENT_HELLO is lost
	p.RunUntil(time.Millisecond, 3*time.Second, func() bool {
		return p.Server != nil && p.Server.Status() == conn.Connected && p.Client.Status() == conn.Connected
	})
	require.Equal(t, conn.Connected, p.Client.Status())
	require.Equal(t, conn.Connected, p.Server.Status())
}

func TestHandshakeSurvivesLostServerHello(t *testing.T) {
	p := newPair(t, perfect, perfect, 5)
	require.NoError(t, p.Dial())
	lossyStart(t, p, &p.S2C, 1) // the first SERVER_HELLO is lost
	p.RunUntil(time.Millisecond, 3*time.Second, func() bool {
		return p.Server.Status() == conn.Connected && p.Client.Status() == conn.Connected
	})
	require.Equal(t, conn.Connected, p.Client.Status())
	require.Equal(t, conn.Connected, p.Server.Status())
	assert.Equal(t, p.Server.Token(), p.Client.Token())
}

func TestHandshakeSurvivesLostChallenge(t *testing.T) {
	p := newPair(t, perfect, perfect, 6)
	require.NoError(t, p.Dial())
	// Let the hello through, then lose the client's next datagram: the
	// CHALLENGE_RESP.
	p.RunUntil(time.Millisecond, time.Second, func() bool { return p.Server != nil })
	require.EqualValues(t, 1, p.C2S.Stats().Sent, "the hello only")
	p.C2S = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.RunUntil(time.Millisecond, time.Second, func() bool { return p.C2S.Stats().Sent > 0 })
	require.Equal(t, conn.Connected, p.Client.Status(), "the client answered the SERVER_HELLO")
	p.C2S = netsim.NewLink(perfect, 1)
	p.RunUntil(time.Millisecond, 3*time.Second, func() bool { return p.Server.Status() == conn.Connected })
	require.Equal(t, conn.Connected, p.Server.Status())
	require.Equal(t, conn.Connected, p.Client.Status())
}

func TestClientHandshakeTimeout(t *testing.T) {
	p := newPair(t, netsim.Profile{Loss: 1}, perfect, 7)
	require.NoError(t, p.Dial())
	p.RunUntil(10*time.Millisecond, session.DefaultHandshakeTimeout+100*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrHandshakeTimeout)
	assert.NotErrorIs(t, p.Client.Err(), conn.ErrBadSignature)
	// The hello was repeated while waiting.
	assert.GreaterOrEqual(t, p.C2S.Stats().Sent, uint64(4))
	assert.Nil(t, p.Client.Poll(p.Now, nil))
}

func TestSendBeforeConnectedIsQueued(t *testing.T) {
	p := newPair(t, perfect, perfect, 8)
	require.NoError(t, p.Dial())
	var got [][]byte
	var acked bool
	require.NoError(t, p.Client.Send([]byte("early"), conn.RetryOnTimeout, func(ok bool) { acked = ok }))
	p.OnServer = func(s *session.Conn) {
		s.SetHandler(func(_ protocol.Seq, m []byte) { got = append(got, append([]byte(nil), m...)) })
	}
	p.RunUntil(time.Millisecond, 2*time.Second, func() bool { return acked })
	require.True(t, acked)
	require.Equal(t, [][]byte{[]byte("early")}, got)
}

func TestServerRefusesSendBeforeConnected(t *testing.T) {
	p := newPair(t, perfect, netsim.Profile{Loss: 1}, 9)
	require.NoError(t, p.Dial())
	p.RunUntil(time.Millisecond, 100*time.Millisecond, func() bool { return p.Server != nil })
	require.NotNil(t, p.Server)
	assert.ErrorIs(t, p.Server.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
}

func TestSendValidation(t *testing.T) {
	p := newPair(t, perfect, perfect, 10)
	require.NoError(t, p.Connect(10*time.Second))
	assert.ErrorIs(t, p.Client.Send(nil, conn.RetryMode(5), nil), conn.ErrRetryMode)
	assert.ErrorIs(t, p.Client.Send(make([]byte, protocol.MaxMessageSize+1), conn.RetryNone, nil), conn.ErrMessageTooLarge)
	small := newPair(t, perfect, perfect, 10)
	small.ClientConfig.MaxQueuedBytes = 1500 // a 600-byte message costs more than 600 bytes
	require.NoError(t, small.Connect(10*time.Second))
	require.NoError(t, small.Client.Send(make([]byte, 600), conn.RetryNone, nil))
	assert.ErrorIs(t, small.Client.Send(make([]byte, 600), conn.RetryNone, nil), conn.ErrQueueFull)
	assert.Equal(t, 600, small.Client.QueuedBytes())
	few := newPair(t, perfect, perfect, 10)
	few.ClientConfig.MaxQueuedMessages = 3
	require.NoError(t, few.Connect(10*time.Second))
	for few.Client.Messages() < 3 {
		require.NoError(t, few.Client.Send(nil, conn.RetryNone, nil), "empty messages are counted too")
	}
	assert.ErrorIs(t, few.Client.Send(nil, conn.RetryNone, nil), conn.ErrQueueFull)
}

func TestKeepAliveKeepsIdleConnectionUp(t *testing.T) {
	p := newPair(t, perfect, perfect, 11)
	require.NoError(t, p.Connect(10*time.Second))
	sent, srvSent := p.C2S.Stats().Sent, p.S2C.Stats().Sent
	p.RunUntil(time.Millisecond, 10*time.Second, func() bool { return false })
	assert.Equal(t, conn.Connected, p.Client.Status())
	assert.Equal(t, conn.Connected, p.Server.Status())
	// Idle: one keep-alive per 500 ms of silence each way.
	ka := p.C2S.Stats().Sent - sent
	assert.InDelta(t, 20, float64(ka), 2, "keep-alives in 10 s")
	assert.InDelta(t, 20, float64(p.S2C.Stats().Sent-srvSent), 2, "the server's keep-alives in 10 s")
	assert.Zero(t, p.Client.Stats().Timeouts)
	assert.LessOrEqual(t, p.Client.PendingAcks(), 1, "only the newest keep-alive awaits its ack")
	assert.LessOrEqual(t, p.Server.PendingAcks(), 1, "only the newest keep-alive awaits its ack")
}

func TestConnectionTimeoutDropsBothEnds(t *testing.T) {
	p := newPair(t, perfect, perfect, 12)
	require.NoError(t, p.Connect(10*time.Second))
	var cb []bool
	require.NoError(t, p.Client.Send([]byte("lost"), conn.RetryOnTimeout, func(ok bool) { cb = append(cb, ok) }))
	p.C2S = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.S2C = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.RunUntil(10*time.Millisecond, session.DefaultConnectionTimeout+200*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Dropped, p.Client.Status())
	assert.Equal(t, conn.Dropped, p.Server.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrTimeout)
	assert.Equal(t, []bool{false}, cb, "a guaranteed message fails once the connection is gone")
	assert.ErrorIs(t, p.Client.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
	assert.ErrorIs(t, p.Client.Receive(p.Now, make([]byte, 40)), conn.ErrClosed)
	assert.EqualValues(t, 1, p.Client.Stats().Drops.Closed)
}

func TestConfigConnectionTimeout(t *testing.T) {
	p := newPair(t, perfect, perfect, 13)
	p.ClientConfig.ConnectionTimeout = time.Second
	require.NoError(t, p.Connect(10*time.Second))
	p.C2S = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.S2C = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.RunUntil(10*time.Millisecond, 1500*time.Millisecond, func() bool { return false })
	assert.Equal(t, conn.Dropped, p.Client.Status())
	assert.Equal(t, conn.Connected, p.Server.Status())
}

func TestGracefulDisconnectFromClient(t *testing.T) {
	p := newPair(t, perfect, perfect, 14)
	require.NoError(t, p.Connect(10*time.Second))
	var pending []bool
	// A message queued but not sent yet fails on disconnect.
	require.NoError(t, p.Client.Send([]byte("never"), conn.RetryOnTimeout, func(ok bool) { pending = append(pending, ok) }))
	p.Client.Disconnect(p.Now)
	assert.Equal(t, []bool{false}, pending)
	assert.Equal(t, conn.Disconnecting, p.Client.Status())
	assert.ErrorIs(t, p.Client.Send([]byte("x"), conn.RetryNone, nil), conn.ErrNotConnected)
	done := p.RunUntil(time.Millisecond, 2*time.Second, func() bool {
		return p.Client.Status().Closed() && p.Server.Status().Closed()
	})
	require.True(t, done)
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.Equal(t, conn.Disconnected, p.Server.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrLocalClose)
	assert.NotErrorIs(t, p.Client.Err(), conn.ErrCloseTimeout)
	assert.ErrorIs(t, p.Server.Err(), conn.ErrPeerClosed)
	// It closed on the server's reply, well before the 1 s timeout.
	assert.Less(t, p.Now.Sub(pair.Start), 500*time.Millisecond)
}

func TestGracefulDisconnectFromServer(t *testing.T) {
	p := newPair(t, perfect, perfect, 15)
	require.NoError(t, p.Connect(10*time.Second))
	p.Server.Disconnect(p.Now)
	done := p.RunUntil(time.Millisecond, 2*time.Second, func() bool {
		return p.Client.Status().Closed() && p.Server.Status().Closed()
	})
	require.True(t, done)
	assert.ErrorIs(t, p.Client.Err(), conn.ErrPeerClosed)
	assert.ErrorIs(t, p.Server.Err(), conn.ErrLocalClose)
}

func TestDisconnectWithoutAnswerTimesOut(t *testing.T) {
	p := newPair(t, perfect, perfect, 16)
	require.NoError(t, p.Connect(10*time.Second))
	p.C2S = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	p.Client.Disconnect(p.Now)
	t0 := p.Now
	p.RunUntil(time.Millisecond, 3*time.Second, func() bool { return p.Client.Status().Closed() })
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrCloseTimeout)
	assert.ErrorIs(t, p.Client.Err(), conn.ErrLocalClose)
	assert.InDelta(t, session.DefaultDisconnectTimeout.Seconds(), p.Now.Sub(t0).Seconds(), 0.05)
	// The DISCONNECT was repeated while waiting.
	assert.Greater(t, p.C2S.Stats().Sent, uint64(3))
}

func TestDisconnectWhileConnecting(t *testing.T) {
	p := newPair(t, perfect, perfect, 17)
	require.NoError(t, p.Dial())
	p.Client.Disconnect(p.Now)
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.Nil(t, p.Client.Poll(p.Now, nil))
}

func TestCallbacks(t *testing.T) {
	p := newPair(t, perfect, perfect, 18)
	require.NoError(t, p.Connect(10*time.Second))
	var none, best, retry []bool
	require.NoError(t, p.Client.Send([]byte("n"), conn.RetryNone, func(ok bool) { none = append(none, ok) }))
	require.NoError(t, p.Client.Send([]byte("b"), conn.RetryBestEffort, func(ok bool) { best = append(best, ok) }))
	require.NoError(t, p.Client.Send([]byte("r"), conn.RetryOnTimeout, func(ok bool) { retry = append(retry, ok) }))
	p.RunUntil(time.Millisecond, 2*time.Second, func() bool { return false })
	assert.Equal(t, []bool{true}, none)
	assert.Equal(t, []bool{true}, best)
	assert.Equal(t, []bool{true}, retry)

	// Over a dead link: NONE and BEST_EFFORT fail after the message
	// timeout; RETRY_ON_TIMEOUT keeps trying and succeeds once the link
	// heals, with a single callback despite many copies.
	none, best, retry = nil, nil, nil
	p.C2S = netsim.NewLink(netsim.Profile{Loss: 1}, 1)
	require.NoError(t, p.Client.Send([]byte("n"), conn.RetryNone, func(ok bool) { none = append(none, ok) }))
	require.NoError(t, p.Client.Send([]byte("b"), conn.RetryBestEffort, func(ok bool) { best = append(best, ok) }))
	require.NoError(t, p.Client.Send([]byte("r"), conn.RetryOnTimeout, func(ok bool) { retry = append(retry, ok) }))
	resent := p.Client.Stats().Resent
	p.RunUntil(time.Millisecond, 2500*time.Millisecond, func() bool { return false })
	assert.Equal(t, []bool{false}, none)
	assert.Equal(t, []bool{false}, best)
	assert.Empty(t, retry)
	assert.Greater(t, p.Client.Stats().Resent-resent, uint64(15), "the guaranteed message is being resent")
	p.C2S = netsim.NewLink(perfect, 1)
	p.RunUntil(time.Millisecond, time.Second, func() bool { return len(retry) > 0 })
	p.RunUntil(time.Millisecond, time.Second, func() bool { return false })
	assert.Equal(t, []bool{true}, retry)
}

func TestCallbackMayReenter(t *testing.T) {
	p := newPair(t, perfect, perfect, 19)
	require.NoError(t, p.Connect(10*time.Second))
	var second bool
	require.NoError(t, p.Client.Send([]byte("one"), conn.RetryNone, func(bool) {
		require.NoError(t, p.Client.Send([]byte("two"), conn.RetryNone, func(ok bool) {
			second = ok
			p.Client.Disconnect(p.Now)
		}))
	}))
	p.RunUntil(time.Millisecond, 3*time.Second, func() bool { return p.Client.Status().Closed() })
	assert.True(t, second)
	assert.Equal(t, conn.Disconnected, p.Client.Status())
}

func TestPacking(t *testing.T) {
	p := newPair(t, perfect, perfect, 20)
	require.NoError(t, p.Connect(10*time.Second))
	var got int
	p.Server.SetHandler(func(protocol.Seq, []byte) { got++ })
	for i := 0; i < 50; i++ {
		require.NoError(t, p.Client.Send(bytes.Repeat([]byte{byte(i)}, 20), conn.RetryNone, nil))
	}
	before := p.C2S.Stats().Sent
	p.Step(20 * time.Millisecond)
	assert.EqualValues(t, 1, p.C2S.Stats().Sent-before, "50 small messages fit one datagram")
	p.RunUntil(time.Millisecond, 100*time.Millisecond, func() bool { return got == 50 })
	assert.Equal(t, 50, got)

	// 600 one-byte messages need three packets: at most 255 per packet.
	got = 0
	for i := 0; i < 600; i++ {
		require.NoError(t, p.Client.Send([]byte{1}, conn.RetryNone, nil))
	}
	before = p.C2S.Stats().Sent
	p.RunUntil(time.Millisecond, time.Second, func() bool { return got == 600 })
	assert.Equal(t, 600, got)
	assert.EqualValues(t, 3, p.C2S.Stats().Sent-before, "back to back, before any keep-alive")
}

// TestMessageSizes sends messages around every size boundary and checks
// they arrive intact: the largest unfragmented message, the smallest
// fragmented one, the sizes the reference can never send (1433, 1434,
// 1427+1024k), and the largest message allowed.
func TestMessageSizes(t *testing.T) {
	p := newPair(t, perfect, perfect, 21)
	p.ClientConfig.SendInterval = time.Millisecond
	require.NoError(t, p.Connect(10*time.Second))
	var got [][]byte
	p.Server.SetHandler(func(_ protocol.Seq, m []byte) { got = append(got, append([]byte(nil), m...)) })
	sizes := []int{0, 1, protocol.MaxSingleMessage, protocol.MaxSingleMessage + 1, 1434, 1435,
		2451, 3475, 1427 + 1024*10, 20_000, protocol.MaxMessageSize}
	acked := 0
	for i, n := range sizes {
		msg := bytes.Repeat([]byte{byte(i + 1)}, n)
		require.NoError(t, p.Client.Send(msg, conn.RetryOnTimeout, func(ok bool) {
			require.True(t, ok)
			acked++
		}), "size %d", n)
	}
	p.RunUntil(time.Millisecond, 60*time.Second, func() bool { return acked == len(sizes) })
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
	require.NoError(t, p.Connect(10*time.Second))
	for i := 0; i < 100; i++ {
		require.NoError(t, p.Client.Send([]byte("ping"), conn.RetryNone, nil))
		p.RunUntil(time.Millisecond, 50*time.Millisecond, func() bool { return false })
	}
	// Half the round trip: 40 ms each way plus at most the 25 ms ack delay
	// (rounded up to the peer's next send opportunity).
	l := p.Client.Latency()
	assert.Greater(t, l, 40*time.Millisecond)
	assert.Less(t, l, 60*time.Millisecond)
}

func TestStatsCounters(t *testing.T) {
	p := newPair(t, perfect, perfect, 23)
	require.NoError(t, p.Connect(10*time.Second))
	before := p.Client.Stats()
	p.RunUntil(time.Millisecond, 5*time.Second, func() bool { return false })
	s := p.Client.Stats()
	// Five seconds of idle keep-alives, two a second, each 36 bytes.
	assert.InDelta(t, 10, s.Assembled-before.Assembled, 1)
	assert.Equal(t, 36*(s.Assembled-before.Assembled), s.BytesSent-before.BytesSent)
	for d := p.S2C.Next(p.Now.Add(time.Second)); d != nil; d = p.S2C.Next(p.Now.Add(time.Second)) {
		require.NoError(t, p.Client.Receive(p.Now, d)) // what is still on the wire
	}
	s = p.Client.Stats()
	assert.Equal(t, p.Server.Stats().Assembled, s.Received, "every packet the server built arrived")
	assert.Positive(t, s.BytesRecv)
}

func TestNewServerRejectsGarbage(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	cfg := &session.Config{RootKey: root}
	for _, d := range [][]byte{nil, []byte("FSOS"), make([]byte, 1438), bytes.Repeat([]byte{0xff}, 100)} {
		_, err := session.NewServer(cfg, pair.Start, 0x40000001, d)
		assert.Error(t, err)
	}
	_, err = session.NewServer(&session.Config{}, pair.Start, 1, nil)
	assert.Error(t, err, "no root key")
}

// TestKeepAlivePaceFollowsTraffic: a message waiting for its ack brings
// the keep-alive interval back (its loss over a dead link shows in 100 ms
// steps); once acknowledged, the idle pace returns; the reference's pace
// is a setting away.
func TestKeepAlivePaceFollowsTraffic(t *testing.T) {
	p := newPair(t, perfect, perfect, 12)
	require.NoError(t, p.Connect(10*time.Second))
	p.Run(time.Millisecond, 2*time.Second)
	p.S2C = netsim.NewLink(netsim.Profile{Loss: 1}, 1) // the server's acks never come
	require.NoError(t, p.Client.Send([]byte("r"), conn.RetryOnTimeout, nil))
	sent := p.C2S.Stats().Sent
	p.Run(time.Millisecond, 2*time.Second)
	busy := p.C2S.Stats().Sent - sent
	assert.GreaterOrEqual(t, busy, uint64(16), "resends and keep-alives at the busy pace")

	p.S2C = netsim.NewLink(perfect, 1)
	p.Run(time.Millisecond, 2*time.Second) // acknowledged
	sent = p.C2S.Stats().Sent
	p.Run(time.Millisecond, 4*time.Second)
	assert.InDelta(t, 8, float64(p.C2S.Stats().Sent-sent), 1, "idle again: two a second")

	q := newPair(t, perfect, perfect, 13)
	q.ClientConfig.IdleKeepAliveInterval = session.DefaultKeepAliveInterval
	require.NoError(t, q.Connect(10*time.Second))
	sent = q.C2S.Stats().Sent
	q.Run(time.Millisecond, 2*time.Second)
	assert.InDelta(t, 20, float64(q.C2S.Stats().Sent-sent), 2, "the reference's pace when asked")
}

// A client whose carrier took time to open starts its handshake timeout
// then, not at its creation.
func TestStartHandshakeMovesTheTimeout(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	opened := t0.Add(10 * time.Second)
	c, err := session.NewClient(&session.Config{}, t0)
	require.NoError(t, err)
	c.StartHandshake(opened)
	require.NotNil(t, c.Poll(opened, nil), "the hello goes out once the carrier opened")
	c.Poll(opened.Add(session.DefaultHandshakeTimeout-time.Millisecond), nil)
	assert.Equal(t, conn.Connecting, c.Status(), "the timeout counted from the connection's creation")
	c.Poll(opened.Add(session.DefaultHandshakeTimeout+time.Millisecond), nil)
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.ErrorIs(t, c.Err(), conn.ErrHandshakeTimeout)

	// Without it, the same poll after the carrier opened is too late.
	late, err := session.NewClient(&session.Config{}, t0)
	require.NoError(t, err)
	late.Poll(opened, nil)
	assert.ErrorIs(t, late.Err(), conn.ErrHandshakeTimeout)
}
