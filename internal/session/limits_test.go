package session

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// fragment returns an authenticated datagram to c carrying fragment
// index of message id, which claims count fragments and holds data bytes.
func fragment(t testing.TB, c *Conn, pktSeq protocol.Seq, msgSeq *protocol.Seq, id protocol.Seq, index, count, data int) []byte {
	*msgSeq = msgSeq.Next()
	body := protocol.AppendFragment(nil, protocol.FragmentHeader{ID: id, Index: uint16(index), Count: uint16(count)}, make([]byte, data))
	msgs := []protocol.Message{{Seq: *msgSeq, Type: protocol.TypeAppFragment, Body: body}}
	n := 1
	payload, err := protocol.AppendPayload(nil, msgs)
	require.NoError(t, err)
	h := protocol.Header{CTime: uint32(c.timeOf(c.clock.now).Unix()), Seq: pktSeq, Type: protocol.TypeAppFragment, Count: uint8(n)}
	return seal(t, c, h, payload)
}

// TestBudgetClosesTheConnectionOverItsShare: connections sharing a budget
// take what their limits allow while memory lasts; once it is short, the
// one holding more than its share and asking for more is closed, told
// with a DISCONNECT, and every byte it held is given back.
func TestBudgetClosesTheConnectionOverItsShare(t *testing.T) {
	b := NewBudget(4 << 20)
	var servers []*Conn
	var now time.Time
	for i := 0; i < 4; i++ {
		var s *Conn
		_, s, now = benchPairWith(t, func(c *Config) { c.Budget = b })
		servers = append(servers, s)
	}
	assert.Equal(t, 4, b.conns)
	assert.Equal(t, (4<<20)/4, b.Share())
	honest, abuser := servers[0], servers[3]
	// The honest connection holds a little: a message for its client.
	require.NoError(t, honest.Send(make([]byte, 100<<10), conn.RetryOnTimeout, nil))
	held := honest.Held()
	assert.Greater(t, held, 100<<10)

	// The abuser's peer sends a message of 8192 fragments of 1 KiB and
	// never its last fragment.
	msgSeq, seq := protocol.Seq(10), protocol.Seq(10)
	var err error
	for i := 1; i < 8192 && !errors.Is(err, conn.ErrOverBudget); i++ {
		seq = seq.Next()
		err = abuser.Receive(now, fragment(t, abuser, seq, &msgSeq, 1, i, 8192, 1024))
	}
	require.ErrorIs(t, err, conn.ErrOverBudget)
	assert.Equal(t, conn.Disconnecting, abuser.Status())
	assert.ErrorIs(t, abuser.Err(), conn.ErrOverBudget)
	assert.LessOrEqual(t, b.Used(), b.Limit())
	// It sends one DISCONNECT, then it is closed.
	d := abuser.Poll(now.Add(20*time.Millisecond), make([]byte, 0, protocol.MaxDatagramSize))
	require.NotNil(t, d)
	assert.Equal(t, byte(protocol.TypeDisconnect), d[12])
	assert.Equal(t, conn.Disconnected, abuser.Status())
	assert.Zero(t, abuser.Held(), "a closed connection holds nothing")
	assert.Equal(t, held, b.Used(), "only the honest connection's bytes remain")
	assert.Equal(t, 3, b.conns)
	assert.Equal(t, conn.Connected, honest.Status())
	for _, s := range servers {
		s.Close()
	}
	assert.Zero(t, b.Used())
	assert.Zero(t, b.conns)
}

// TestBudgetRefusesWhenSpent: when the budget is spent, a connection
// within its share is refused, not closed.
func TestBudgetRefusesWhenSpent(t *testing.T) {
	b := NewBudget(64 << 10)
	_, s, _ := benchPairWith(t, func(c *Config) { c.Budget = b })
	b.used = b.limit - 1000 // the rest is held elsewhere
	b.conns = 1
	err := s.Send(make([]byte, 2000), conn.RetryNone, nil)
	assert.ErrorIs(t, err, conn.ErrQueueFull)
	assert.Equal(t, conn.Connected, s.Status(), "within its share: refused, not closed")
	require.NoError(t, s.Send(make([]byte, 100), conn.RetryNone, nil))
}

// TestSendChargesRealCost: empty messages are not free.
func TestSendChargesRealCost(t *testing.T) {
	_, s, _ := benchPairWith(t, func(c *Config) { c.MaxQueuedBytes = 100 * msgOverhead })
	n := 0
	for s.Send(nil, conn.RetryNone, nil) == nil {
		n++
		require.Less(t, n, 1000)
	}
	assert.LessOrEqual(t, n, 100)
	assert.LessOrEqual(t, s.Held(), 100*msgOverhead)
	s.Close()
	assert.Zero(t, s.Held())
	assert.Zero(t, s.Messages())
}

// TestRefusalsAllocateNothing: datagrams a peer or a flood can send in
// bulk are refused without allocating.
func TestRefusalsAllocateNothing(t *testing.T) {
	client, server := handshake(t, time.Unix(1_700_000_000, 0))
	now := time.Unix(1_700_000_000, 0).Add(time.Second)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	require.NoError(t, client.Send([]byte("hello"), conn.RetryNone, nil))
	valid := append([]byte(nil), client.Poll(now, buf)...)
	require.NoError(t, server.Receive(now, append([]byte(nil), valid...)))
	badTag := append([]byte(nil), valid...)
	badTag[len(badTag)-1] ^= 1
	badTag[8]++ // a fresh seq, so that the tag is checked
	short := valid[:protocol.HeaderSize+3]
	magic := append([]byte("XXXX"), valid[4:]...)
	for name, d := range map[string][]byte{"duplicate": valid, "bad tag": badTag, "short": short, "magic": magic, "empty": nil} {
		scratch := make([]byte, len(d))
		allocs := testing.AllocsPerRun(50, func() {
			copy(scratch, d)
			require.Error(t, server.Receive(now, scratch))
		})
		assert.Zero(t, allocs, name)
	}
	hello, err := NewClient(newReplay(t).clientConfig(), now)
	require.NoError(t, err)
	bad := append([]byte(nil), hello.Poll(now, buf)...)
	bad[len(bad)-1] ^= 1
	allocs := testing.AllocsPerRun(50, func() {
		_, err := ParseHello(bad)
		require.ErrorIs(t, err, conn.ErrAuth)
	})
	assert.Zero(t, allocs, "a hello with a bad CRC")
}

// TestFarAheadMessagesCloseTheConnection: a peer that keeps numbering its
// messages too far ahead to place is closed, not left stuck.
func TestFarAheadMessagesCloseTheConnection(t *testing.T) {
	_, s, now := benchPairWith(t, nil)
	delivered := 0
	s.SetHandler(func(protocol.Seq, []byte) { delivered++ })
	msgSeq := s.seq.recvMsgs.Newest()
	seq := protocol.Seq(100)
	var err error
	for i := 0; i < maxFarRun && err == nil; i++ {
		seq = seq.Next()
		far := protocol.SeqOf(msgSeq + protocol.DefaultFilterAhead + 1 + uint64(i))
		payload, perr := protocol.AppendPayload(nil, []protocol.Message{{Seq: far, Type: protocol.TypeApp, Body: []byte("x")}})
		require.NoError(t, perr)
		err = s.Receive(now, seal(t, s, protocol.Header{CTime: uint32(now.Unix()), Seq: seq, Type: protocol.TypeApp, Count: 1}, payload))
	}
	require.ErrorIs(t, err, conn.ErrOutOfWindow)
	assert.Zero(t, delivered)
	assert.Equal(t, uint64(maxFarRun), s.Stats().FarMessages)
	assert.Equal(t, conn.Disconnecting, s.Status())
}

// TestPacketFarAheadWithAnOldClockIsARepay: a seq that would move the
// window forward but carries a ctime from before the last wrap is refused.
func TestPacketAheadWithAnOldClockIsRefused(t *testing.T) {
	_, s, now := benchPairWith(t, nil)
	newest := s.seq.replay.Newest()
	ahead := protocol.SeqOf(newest + 10)
	h := protocol.Header{CTime: uint32(now.Unix()) - ctimeSlack - 1, Seq: ahead, Type: protocol.TypeKeepAlive}
	expectRejected(t, s, now, seal(t, s, h, nil), conn.ErrStale, "ahead with an old clock")
	h.CTime = uint32(now.Unix()) - ctimeSlack
	require.NoError(t, s.Receive(now, seal(t, s, h, nil)), "within the slack")
}

// TestSenderBoundsPacketsPerSecond: a sender never builds more than
// maxPacketsPerSecond packets in one ctime second, which the receiver's
// anti-replay rule relies on.
func TestSenderBoundsPacketsPerSecond(t *testing.T) {
	_, s, now := benchPairWith(t, func(c *Config) { c.SendInterval = time.Nanosecond })
	now = time.Unix(now.Unix()+1, 0)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	built := 0
	for i := 0; i < maxPacketsPerSecond+100; i++ {
		now = now.Add(time.Microsecond)
		s.clock.lastSend = never // a keep-alive is always due
		if s.Poll(now, buf) != nil {
			built++
		}
	}
	assert.Equal(t, maxPacketsPerSecond, built)
	s.clock.lastSend = never
	assert.NotNil(t, s.Poll(now.Add(time.Second), buf), "the next second may send again")
}

func mustAEAD(t testing.TB) *crypto.AEAD {
	a, err := crypto.NewAEAD([crypto.KeySize]byte{1})
	require.NoError(t, err)
	return a
}

// TestParseHello covers every check a server makes before it spends
// anything on a hello.
func TestParseHello(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	marked, err := NewClient(&Config{}, now)
	require.NoError(t, err)
	plain, err := NewClient(&Config{PlainHello: true}, now)
	require.NoError(t, err)
	md := append([]byte(nil), marked.Poll(now, buf)...)
	pd := append([]byte(nil), plain.Poll(now, buf)...)

	h, err := ParseHello(md)
	require.NoError(t, err)
	assert.True(t, h.Marked)
	assert.True(t, h.Ext.Cookies)
	assert.False(t, h.Ext.HasCookie())
	require.NoError(t, h.CheckKey())
	h, err = ParseHello(pd)
	require.NoError(t, err)
	assert.False(t, h.Marked, "a reference client's random padding carries no extension")

	// The reference's own hello from the vectors passes.
	_, err = ParseHello(newReplay(t).hs.ClientHello.Datagram)
	require.NoError(t, err)

	for name, mod := range map[string]func([]byte) []byte{
		"bad crc":     func(d []byte) []byte { d[len(d)-1] ^= 1; return d },
		"short":       func(d []byte) []byte { return d[:len(d)-5] },
		"to client":   func(d []byte) []byte { d[3] = 'C'; return d },
		"not a hello": func(d []byte) []byte { d[12] = byte(protocol.TypeApp); return d },
		"version": func(d []byte) []byte {
			d[protocol.HeaderSize+2+2+5+91+2] = 2 // the version byte
			return fixCRC(d)
		},
		"length": func(d []byte) []byte {
			binary.BigEndian.PutUint16(d[13:], protocol.ClientHelloBodySize)
			return fixCRC(d)
		},
	} {
		_, err := ParseHello(mod(append([]byte(nil), md...)))
		assert.Error(t, err, name)
	}
	// A key that is not a point of the curve passes the cheap checks and
	// fails CheckKey.
	bad := append([]byte(nil), md...)
	bad[protocol.HeaderSize+2+2+5+30] ^= 0x55
	h, err = ParseHello(fixCRC(bad))
	require.NoError(t, err)
	assert.ErrorIs(t, h.CheckKey(), conn.ErrHandshake)
}

// fixCRC recomputes the CRC of a hello datagram.
func fixCRC(d []byte) []byte {
	n := protocol.HeaderSize + int(binary.BigEndian.Uint16(d[13:]))
	if n > len(d)-protocol.CRCSize {
		n = len(d) - protocol.CRCSize
	}
	return crypto.AppendCRC(d[:n])
}

// TestCookieReply: a client of ours that gets a cookie reply sends its
// hello again at once with the cookie in it; a spoofed SERVER_HELLO-typed
// packet that is not a cookie reply changes nothing.
func TestCookieReply(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	c, err := NewClient(&Config{}, now)
	require.NoError(t, err)
	first := append([]byte(nil), c.Poll(now, buf)...)
	cookie := [protocol.CookieSize]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	reply := cookieReply(t, cookie)
	now = now.Add(20 * time.Millisecond)
	require.NoError(t, c.Receive(now, reply))
	again := c.Poll(now, buf)
	require.NotNil(t, again, "the hello goes out again at once")
	h, err := ParseHello(again)
	require.NoError(t, err)
	assert.Equal(t, cookie, h.Ext.Cookie)
	h0, _ := ParseHello(first)
	assert.Equal(t, h0.Key, h.Key, "the same ephemeral key")
	assert.Equal(t, uint64(1), c.Stats().Cookies)
	assert.Equal(t, conn.Connecting, c.Status())

	// A client sending the reference's plain hello ignores cookie replies.
	p, err := NewClient(&Config{PlainHello: true}, now)
	require.NoError(t, err)
	p.Poll(now, buf)
	assert.Error(t, p.Receive(now, reply))
	assert.Zero(t, p.Stats().Cookies)
}

// cookieReply builds the datagram a server sends as a cookie reply.
func cookieReply(t testing.TB, cookie [protocol.CookieSize]byte) []byte {
	body := protocol.AppendCookieReply(nil, cookie)
	payload, err := protocol.AppendPayload(nil, []protocol.Message{{Seq: 1, Type: protocol.TypeServerHello, Body: body}})
	require.NoError(t, err)
	h := protocol.Header{Direction: protocol.ToClient, Seq: 1, Ack: 1, Type: protocol.TypeServerHello, Count: 1, Length: uint16(len(payload))}
	return crypto.AppendCRC(append(h.AppendTo(nil), payload...))
}

// TestTemplatesAndDeferredECDH: a server answers from a template and
// derives the session key from the client's first encrypted datagram.
func TestTemplatesAndDeferredECDH(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	client, err := NewClient(&Config{ServerKey: root.Public()}, now)
	require.NoError(t, err)
	hello, err := ParseHello(client.Poll(now, buf))
	require.NoError(t, err)
	tmpl, err := NewHelloTemplate(root, nil, 0x40000005)
	require.NoError(t, err)
	assert.Equal(t, uint32(0x40000005), tmpl.Token())
	server, err := NewServerConn(&Config{RootKey: root}, now, tmpl, &hello)
	require.NoError(t, err)
	assert.Nil(t, server.aead, "no ECDH yet")
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	require.Equal(t, conn.Connected, client.Status())
	assert.Equal(t, uint32(0x40000005), client.Token())
	require.NoError(t, server.Receive(now, client.Poll(now.Add(20*time.Millisecond), buf)))
	assert.Equal(t, conn.Connected, server.Status())
	assert.Equal(t, client.sess.key, server.sess.key)
}
