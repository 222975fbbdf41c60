package session

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// handshake connects a client and a server Conn by passing datagrams
// directly, with the vector keys and randomness.
func handshake(t testing.TB, now time.Time) (client, server *Conn) {
	return handshakeWith(t, newReplay(t), now)
}

func handshakeWith(t testing.TB, r *replay, now time.Time) (client, server *Conn) {
	var err error
	client, err = NewClient(r.clientConfig(), now)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err = NewServer(r.serverConfig(), now, uint32(r.hs.Token), client.Poll(now, buf))
	require.NoError(t, err)
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	require.NoError(t, server.Receive(now, client.Poll(now.Add(20*time.Millisecond), buf)))
	require.Equal(t, conn.Connected, client.Status())
	require.Equal(t, conn.Connected, server.Status())
	return client, server
}

// fingerprint captures every piece of connection state a datagram could
// change, except the drop counters.
func fingerprint(c *Conn) string {
	s := c.stats
	s.Dropped, s.Drops = 0, conn.Drops{}
	var inflight []string
	for i := 0; i < c.tx.inflight.n; i++ {
		p := c.tx.inflight.at(i)
		inflight = append(inflight, fmt.Sprintf("%d:%v:%d", p.seq, p.done, len(p.msgs)))
	}
	return fmt.Sprintf("status=%s reason=%v pkts=%d/%x/%v msgs=%v ctime=%d lastRecv=%v latency=%v unacked=%d ackDue=%v "+
		"inflight=%v queue=%d/%d retrying=%d reasm=%d/%d token=%d key=%x counters=%d/%d/%d/%d/%d/%d/%d/%d/%d/%d bytes=%d/%d",
		c.status, c.reason, c.seq.replay.Current(), c.seq.replay.AckBits(), c.seq.replay, c.seq.recvMsgs,
		c.seq.newestCTime, int64(c.clock.lastRecv), c.clock.latency, c.clock.unacked, int64(c.clock.ackDue),
		inflight, c.tx.small.len()+c.tx.bulk.len(), c.mem.queuedBytes, len(c.tx.retrying), c.rx.reasm.Held(), c.rx.reasm.Pending(),
		c.sess.token, c.sess.key, s.Assembled, s.Sent, s.Received, s.Acked, s.Timeouts, s.Delivered, s.DuplicateMessages, s.BadMessages, s.Resent, s.Dropped,
		s.BytesSent, s.BytesRecv)
}

// seal builds an authenticated datagram to c with arbitrary header fields
// and payload, as a peer holding the session key could.
func seal(t testing.TB, c *Conn, h protocol.Header, payload []byte) []byte {
	h.Direction = c.in
	h.Length = uint16(len(payload))
	b := h.AppendTo(nil)
	aead, err := crypto.NewAEAD(c.sess.key)
	require.NoError(t, err)
	return aead.Seal(b, b, payload)
}

// expectRejected feeds d to c and checks that it was refused with an error
// wrapping want, counted once, and changed nothing else.
func expectRejected(t *testing.T, c *Conn, now time.Time, d []byte, want error, what string) {
	t.Helper()
	before := fingerprint(c)
	drops := c.stats.Dropped
	err := c.Receive(now, append([]byte(nil), d...))
	require.Error(t, err, what)
	if want != nil {
		require.ErrorIs(t, err, want, what)
	}
	require.Equal(t, drops+1, c.stats.Dropped, "%s: not counted", what)
	require.Equal(t, c.stats.Dropped, c.stats.Drops.Total(), "%s: breakdown", what)
	require.Equal(t, before, fingerprint(c), "%s: state changed", what)
}

func TestBadInputChangesNothing(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	client, server := handshake(t, now)
	now = now.Add(50 * time.Millisecond)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	require.NoError(t, client.Send([]byte("a valid message"), conn.RetryNone, nil))
	valid := append([]byte(nil), client.Poll(now, buf)...)
	require.NotNil(t, valid)

	t.Run("random bytes", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 2000; i++ {
			d := make([]byte, rng.IntN(2100))
			for j := range d {
				d[j] = byte(rng.Uint32())
			}
			if i%2 == 0 && len(d) >= 4 {
				copy(d, "FSOS") // get past the magic check
			}
			expectRejected(t, server, now, d, nil, fmt.Sprintf("random datagram %d", i))
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for n := 0; n < len(valid); n++ {
			expectRejected(t, server, now, valid[:n], nil, fmt.Sprintf("first %d bytes", n))
		}
	})
	t.Run("magic and direction", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			d := append([]byte(nil), valid...)
			d[i] ^= 0x20
			expectRejected(t, server, now, d, conn.ErrBadHeader, fmt.Sprintf("byte %d of the magic", i))
		}
		d := append([]byte(nil), valid...)
		d[3] = 'C'
		expectRejected(t, server, now, d, protocol.ErrDirection, "to-client datagram sent to the server")
	})
	t.Run("packet type", func(t *testing.T) {
		for typ := 8; typ < 256; typ += 7 {
			d := append([]byte(nil), valid...)
			d[12] = byte(typ)
			expectRejected(t, server, now, d, protocol.ErrPacketType, fmt.Sprintf("type %d", typ))
		}
	})
	t.Run("tag and header tampering", func(t *testing.T) {
		for i := 4; i < len(valid); i++ {
			if i == 12 || i == 13 || i == 14 {
				continue // type and length: covered below and by truncation
			}
			d := append([]byte(nil), valid...)
			d[i] ^= 0x01
			expectRejected(t, server, now, d, nil, fmt.Sprintf("flipped byte %d", i))
		}
	})
	t.Run("length beyond datagram", func(t *testing.T) {
		d := append([]byte(nil), valid...)
		binary.BigEndian.PutUint16(d[13:], uint16(len(d)))
		expectRejected(t, server, now, d, conn.ErrBadHeader, "length past the end")
		binary.BigEndian.PutUint16(d[13:], 0xFFFF)
		expectRejected(t, server, now, d, conn.ErrBadHeader, "length 65535")
	})
	t.Run("lying counts and records", func(t *testing.T) {
		h := protocol.Header{CTime: uint32(now.Unix()), Seq: 900, Ack: 1, Type: protocol.TypeApp}
		two, err := protocol.AppendPayload(nil, []protocol.Message{
			{Seq: 500, Type: protocol.TypeApp, Body: []byte("one")},
			{Seq: 501, Type: protocol.TypeApp, Body: []byte("two")},
		})
		require.NoError(t, err)
		cases := []struct {
			name    string
			count   uint8
			payload []byte
		}{
			{"count 3 for 2 records", 3, two},
			{"count 1 with 1 byte", 1, []byte{0}},
			{"count 0 with a payload", 0, []byte{1, 2, 3}},
			{"count 255 for 2 records", 255, two},
			{"record longer than the payload", 2, two[:len(two)-1]},
			{"trailing bytes", 2, append(append([]byte{}, two...), 9)},
			{"invalid record type", 2, func() []byte { b := append([]byte{}, two...); b[4] = 9; return b }()},
		}
		for _, tc := range cases {
			h.Count = tc.count
			expectRejected(t, server, now, seal(t, server, h, tc.payload), conn.ErrBadPayload, tc.name)
		}
	})
	t.Run("hello packets after the handshake", func(t *testing.T) {
		// A CRC-protected hello cannot touch an established session, even
		// with a correct CRC.
		h := protocol.Header{Direction: protocol.ToServer, Seq: 1000, Ack: 1, AckBits: 0xFFFFFFFF, Type: protocol.TypeClientHello, Count: 1}
		payload := make([]byte, 2+protocol.ClientHelloBodySize)
		h.Length = uint16(len(payload))
		d := crypto.AppendCRC(append(h.AppendTo(nil), payload...))
		expectRejected(t, server, now, d, nil, "client hello to a connected server")
		d[len(d)-1] ^= 1
		expectRejected(t, server, now, d, conn.ErrAuth, "hello with a bad CRC")
		h.Direction, h.Type = protocol.ToClient, protocol.TypeServerHello
		d = crypto.AppendCRC(append(h.AppendTo(nil), payload...))
		expectRejected(t, client, now, d, nil, "server hello to a connected client")
	})
	t.Run("replay", func(t *testing.T) {
		require.NoError(t, server.Receive(now, append([]byte(nil), valid...)))
		expectRejected(t, server, now, valid, conn.ErrDuplicate, "the same datagram again")
	})
}

// TestReplayOfOldDatagrams replays a captured datagram after the window
// moved on: inside the anti-replay window it is a duplicate, behind it it
// is refused whatever its ctime, and in neither case is its message
// delivered again or its AES tag even checked.
func TestReplayOfOldDatagrams(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	client, server := handshake(t, now)
	delivered := 0
	server.SetHandler(func(protocol.Seq, []byte) { delivered++ })
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	now = now.Add(50 * time.Millisecond)
	require.NoError(t, client.Send([]byte("pay 100 gold"), conn.RetryNone, nil))
	captured := append([]byte(nil), client.Poll(now, buf)...)
	require.NoError(t, server.Receive(now, append([]byte(nil), captured...)))
	require.Equal(t, 1, delivered)
	send := func(n int, step time.Duration) {
		for i := 0; i < n; i++ {
			now = now.Add(step)
			require.NoError(t, client.Send([]byte("tick"), conn.RetryNone, nil))
			require.NoError(t, server.Receive(now, client.Poll(now, buf)))
			if d := server.Poll(now, buf); d != nil {
				require.NoError(t, client.Receive(now, d))
			}
		}
	}
	send(40, 20*time.Millisecond)
	expectRejected(t, server, now, captured, conn.ErrDuplicate, "replay 40 packets later")
	send(1100, 17*time.Millisecond)
	expectRejected(t, server, now, captured, conn.ErrStale, "replay 1141 packets later")
	require.Equal(t, 1141, delivered)
}

// fastPair connects a client and a server whose send interval lets the
// client build maxPacketsPerSecond packets a second.
func fastPair(t testing.TB, now time.Time) (client, server *Conn) {
	r := newReplay(t)
	ccfg, scfg := r.clientConfig(), r.serverConfig()
	ccfg.SendInterval = time.Second / maxPacketsPerSecond / 2
	scfg.SendInterval = ccfg.SendInterval
	var err error
	client, err = NewClient(ccfg, now)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err = NewServer(scfg, now, uint32(r.hs.Token), client.Poll(now, buf))
	require.NoError(t, err)
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	require.NoError(t, server.Receive(now, client.Poll(now.Add(time.Millisecond), buf)))
	require.Equal(t, conn.Connected, server.Status())
	// The server's acknowledgement of the challenge response, so that the
	// client numbers new messages freely.
	require.NoError(t, client.Receive(now, server.Poll(now.Add(30*time.Millisecond), buf)))
	require.Zero(t, client.PendingAcks())
	return client, server
}

// TestNoMessageDeliveredTwiceAcrossWraps sends packets of 255 messages
// (the message seq wraps every 257 packets) at the fastest rate a sender
// may build them, through more than one wrap of the packet seq, while an
// attacker replays captured datagrams of every age: every message is
// delivered exactly once.
func TestNoMessageDeliveredTwiceAcrossWraps(t *testing.T) {
	if raceEnabled {
		t.Skip("70,000 packets of 255 messages take minutes under the race detector; the test runs without it")
	}
	now := time.Unix(1_700_000_000, 0)
	client, server := fastPair(t, now)
	now = now.Add(40 * time.Millisecond)
	const packets = 70000
	// Each packet carries 254 empty messages and one numbered one (255
	// messages fill a packet only when nearly all are empty).
	seen := make([]uint8, packets)
	var dup, total int
	server.SetHandler(func(_ protocol.Seq, msg []byte) {
		total++
		if len(msg) == 0 {
			return
		}
		k := int(binary.BigEndian.Uint32(msg))
		if seen[k] > 0 {
			dup++
		}
		seen[k]++
	})
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	var captured [][]byte
	rng := rand.New(rand.NewPCG(5, 6))
	body := make([]byte, 4)
	step := time.Second / maxPacketsPerSecond
	replays, aheadReplays := 0, 0
	for p := 0; p < packets; p++ {
		binary.BigEndian.PutUint32(body, uint32(p))
		require.NoError(t, client.Send(body, conn.RetryNone, nil))
		for i := 0; i < 254; i++ {
			require.NoError(t, client.Send(nil, conn.RetryNone, nil))
		}
		now = now.Add(step)
		d := client.Poll(now, buf)
		require.NotNil(t, d, "packet %d", p)
		require.Equal(t, uint8(255), d[15], "packet %d: messages", p)
		if p%97 == 0 {
			captured = append(captured, append([]byte(nil), d...))
		}
		require.NoError(t, server.Receive(now, d))
		if ack := server.Poll(now, buf); ack != nil {
			require.NoError(t, client.Receive(now, ack))
		}
		// Replay a few captured datagrams of any age, and the one from
		// a whole ring of packet seqs ago and its neighbours.
		for k := 0; k < 2 && len(captured) > 0; k++ {
			old := captured[rng.IntN(len(captured))]
			if _, v := server.seq.replay.Check(protocol.Seq(binary.BigEndian.Uint16(old[8:]))); v == protocol.Fresh {
				aheadReplays++ // read as ahead: only its ctime gives it away
			}
			_ = server.Receive(now, append([]byte(nil), old...))
			replays++
		}
	}
	require.Equal(t, 0, dup, "messages delivered twice")
	require.Equal(t, packets*255, total, "every message delivered")
	assert.Greater(t, replays, packets)
	assert.Positive(t, aheadReplays, "some replays came a whole seq ring later")
	assert.Equal(t, uint64(replays), server.stats.Drops.Duplicate+server.stats.Drops.Stale, "every replay refused")
}

// TestBadFragments sends authenticated packets carrying malformed
// fragments. The packets are valid, so they are accepted (the reference
// resends fragments without their sub-header, and their acks must count),
// but the fragment is refused with ErrBadMessage, counted, and the
// reassembly state does not change.
func TestBadFragments(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	_, server := handshake(t, now)
	delivered := 0
	server.SetHandler(func(protocol.Seq, []byte) { delivered++ })

	seq, msgSeq := protocol.Seq(100), protocol.Seq(100)
	send := func(body []byte) error {
		seq, msgSeq = seq.Next(), msgSeq.Next()
		payload, err := protocol.AppendPayload(nil, []protocol.Message{{Seq: msgSeq, Type: protocol.TypeAppFragment, Body: body}})
		require.NoError(t, err)
		h := protocol.Header{CTime: uint32(now.Unix()), Seq: seq, Ack: 1, Type: protocol.TypeAppFragment, Count: 1}
		return server.Receive(now, seal(t, server, h, payload))
	}
	frag := func(id protocol.Seq, index, count uint16, n int) []byte {
		return protocol.AppendFragment(nil, protocol.FragmentHeader{ID: id, Index: index, Count: count}, make([]byte, n))
	}

	// A good first fragment of a 3-part message.
	require.NoError(t, send(frag(7, 1, 3, 1024)))
	held, pending := server.rx.reasm.Held(), server.rx.reasm.Pending()
	require.Equal(t, 1, pending)

	bad := []struct {
		name string
		body []byte
	}{
		{"shorter than the sub-header", []byte{0, 7, 0}},
		{"index 0", frag(7, 0, 3, 100)},
		{"index beyond count", frag(7, 4, 3, 100)},
		{"count 0", frag(8, 1, 0, 100)},
		{"count changes mid-message", frag(7, 2, 4, 100)},
		{"huge count", frag(9, 1, 60000, 100)},
	}
	for _, b := range bad {
		badBefore := server.stats.BadMessages
		err := send(b.body)
		require.ErrorIs(t, err, conn.ErrBadMessage, b.name)
		assert.Equal(t, badBefore+1, server.stats.BadMessages, b.name)
		assert.Equal(t, held, server.rx.reasm.Held(), b.name)
		assert.Equal(t, pending, server.rx.reasm.Pending(), b.name)
	}
	// The largest legal count with one fragment allocates next to nothing.
	require.NoError(t, send(frag(10, 1, protocol.MaxFragments, 1024)))
	assert.Less(t, server.rx.reasm.Held()-held, 4096)
	// A duplicate fragment is not an error and changes nothing.
	require.NoError(t, send(frag(7, 1, 3, 1024)))
	assert.Equal(t, 2, server.rx.reasm.Pending())
	// The message still completes.
	require.NoError(t, send(frag(7, 2, 3, 1024)))
	require.NoError(t, send(frag(7, 3, 3, 10)))
	assert.Equal(t, 1, delivered)
	// And the partial message with the huge count expires.
	server.Poll(now.Add(6*time.Second), nil)
	assert.Equal(t, 0, server.rx.reasm.Pending())
	assert.Equal(t, 0, server.rx.reasm.Held())
}

func TestEncryptedBeforeKeyIsRefused(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := newReplay(t)
	client, err := NewClient(r.clientConfig(), now)
	require.NoError(t, err)
	sess := r.hs
	d := append([]byte(nil), sess.ChallengeResp.Datagram...)
	d[3] = 'C'
	expectRejected(t, client, now, d, conn.ErrNoSession, "encrypted datagram before the server hello")
}

func TestServerIgnoresNonChallengeWhileConnecting(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := newReplay(t)
	client, err := NewClient(r.clientConfig(), now)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err := NewServer(r.serverConfig(), now, uint32(r.hs.Token), client.Poll(now, buf))
	require.NoError(t, err)
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	// A packet that does not start with the challenge response is refused
	// (and so never acknowledged): here a keep-alive.
	// (Sealed with the key the client derived: the server derives it from
	// the first encrypted datagram.)
	h := protocol.Header{CTime: uint32(now.Unix()), Seq: 5, Ack: 1, Type: protocol.TypeKeepAlive}
	server.sess.key = client.sess.key
	expectRejected(t, server, now, seal(t, server, h, nil), conn.ErrHandshake, "keep-alive before the challenge")
	// A challenge with the wrong token is refused.
	body := protocol.AppendChallengeResponse(nil, int64(r.hs.Token)+1)
	payload, err := protocol.AppendPayload(nil, []protocol.Message{{Seq: 2, Type: protocol.TypeChallengeResp, Body: body}})
	require.NoError(t, err)
	h = protocol.Header{CTime: uint32(now.Unix()), Seq: 6, Ack: 1, Type: protocol.TypeChallengeResp, Count: 1}
	expectRejected(t, server, now, seal(t, server, h, payload), conn.ErrHandshake, "wrong token")
	require.Equal(t, conn.Connecting, server.Status())
	require.NoError(t, server.Receive(now, client.Poll(now.Add(20*time.Millisecond), buf)))
	require.Equal(t, conn.Connected, server.Status())
}

// TestSmallToken: a token below 128 travels as an int8 in the challenge
// response; the server must accept any integer width.
func TestSmallToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := newReplay(t)
	client, err := NewClient(r.clientConfig(), now)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err := NewServer(r.serverConfig(), now, 5, client.Poll(now, buf))
	require.NoError(t, err)
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	d := client.Poll(now.Add(20*time.Millisecond), buf)
	require.NoError(t, server.Receive(now, d))
	assert.Equal(t, conn.Connected, server.Status())
	assert.EqualValues(t, 5, client.Token())
}
