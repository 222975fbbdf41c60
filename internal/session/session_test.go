package session

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

// vectorClock converts a vector clock reading (float seconds) to a time.
func vectorClock(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9)))
}

// replay holds a client and a server Conn set up with the keys and
// randomness of the reference vectors.
type replay struct {
	t         testing.TB
	hs        vectors.Handshake
	keys      vectors.Keys
	root      *conn.PrivateKey
	client    *Conn
	server    *Conn
	delivered map[*Conn][]vectors.Message
}

func newReplay(t testing.TB) *replay {
	r := &replay{
		t:         t,
		hs:        vectors.MustLoad[vectors.Handshake]("handshake.json"),
		keys:      vectors.MustLoad[vectors.Keys]("keys.json"),
		delivered: map[*Conn][]vectors.Message{},
	}
	var err error
	r.root, err = conn.NewPrivateKey(r.keys.ServerRoot.Scalar)
	require.NoError(t, err)
	return r
}

func (r *replay) handler(c *Conn) func(protocol.Seq, []byte) {
	return func(seq protocol.Seq, msg []byte) {
		r.delivered[c] = append(r.delivered[c], vectors.Message{Seq: uint16(seq), Payload: append([]byte(nil), msg...)})
	}
}

func (r *replay) clientConfig() *Config {
	rnd := bytes.NewReader(append(append([]byte{}, r.keys.ClientEphemeral.Scalar...), r.hs.ClientHello.Padding...))
	// The vectors were recorded at the reference's pace: a keep-alive
	// after 100 ms of silence, idle or not.
	return &Config{ServerKey: r.root.Public(), Rand: rnd, PlainHello: true, PacketsPerInterval: 1, IdleKeepAliveInterval: DefaultKeepAliveInterval}
}

func (r *replay) serverConfig() *Config {
	rnd := bytes.NewReader(append(append([]byte{}, r.keys.ServerEphemeral.Scalar...), r.hs.Salt...))
	return &Config{RootKey: r.root, Rand: rnd, PacketsPerInterval: 1, IdleKeepAliveInterval: DefaultKeepAliveInterval}
}

// outstanding returns the seqs of c's packets awaiting an ack.
func outstanding(c *Conn) map[uint16]bool {
	m := map[uint16]bool{}
	for i := 0; i < c.tx.inflight.n; i++ {
		if p := c.tx.inflight.at(i); !p.done {
			m[uint16(p.seq)] = true
		}
	}
	return m
}

// TestSessionReplay drives a client and a server Conn through the
// reference session of session.json: each side must build the vector's
// datagram byte for byte at the vector's time (the SERVER_HELLO up to its
// randomized signature), and each side's reaction to the vector's datagram
// must match receiver_effects field by field.
func TestSessionReplay(t *testing.T) {
	r := newReplay(t)
	sess := vectors.MustLoad[vectors.Session]("session.json")
	require.Len(t, sess.Steps, 18)
	fragMsg := vectors.MustLoad[vectors.Packets]("packets.json").Fragmented.Message

	t0 := vectorClock(sess.Steps[0].Clock)
	var err error
	r.client, err = NewClient(r.clientConfig(), t0)
	require.NoError(t, err)
	r.client.SetHandler(r.handler(r.client))

	buf := make([]byte, 0, protocol.MaxDatagramSize)
	for _, st := range sess.Steps {
		now := vectorClock(st.Clock)
		t.Logf("step %d %s: %s", st.Index, st.Sender, st.Note)
		sender, receiver := r.client, r.server
		if st.Sender == "server" {
			sender, receiver = r.server, r.client
		}

		// The application actions that made the reference send this step.
		switch st.Index {
		case 4, 5, 8:
			for _, m := range st.Messages {
				require.NoError(t, sender.Send(m.Payload, conn.RetryNone, nil))
			}
		case 6:
			require.NoError(t, sender.Send(st.Messages[0].Payload, conn.RetryBestEffort, nil))
		case 9:
			require.NoError(t, sender.Send(fragMsg, conn.RetryNone, nil))
		case 16:
			sender.Disconnect(now)
		}

		dg := sender.Poll(now, buf)
		require.NotNil(t, dg, "step %d: nothing to send", st.Index)
		if st.Index == 1 {
			assertSameServerHello(t, st.Datagram, dg, r.root.Public())
		} else {
			require.Equal(t, []byte(st.Datagram), dg, "step %d: datagram differs", st.Index)
		}
		require.Nil(t, sender.Poll(now, buf), "step %d: a second datagram in the same instant", st.Index)

		in := append([]byte(nil), st.Datagram...)
		if st.Index == 0 {
			r.server, err = NewServer(r.serverConfig(), now, uint32(r.hs.Token), in)
			require.NoError(t, err)
			r.server.SetHandler(r.handler(r.server))
			receiver = r.server
			checkEffects(t, r, st, receiver, nil, 0, nil)
			continue
		}
		before := outstanding(receiver)
		dups := receiver.stats.DuplicateMessages
		nDelivered := len(r.delivered[receiver])
		err := receiver.Receive(now, in)
		checkEffects(t, r, st, receiver, before, dups, err)
		got := r.delivered[receiver][nDelivered:]
		if len(st.Effects.Delivered) == 0 {
			assert.Empty(t, got, "step %d: delivered", st.Index)
		} else {
			assert.Equal(t, st.Effects.Delivered, got, "step %d: delivered", st.Index)
		}
	}

	// After the exchange of DISCONNECTs both ends close.
	end := vectorClock(sess.Steps[17].Clock)
	assert.Nil(t, r.client.Poll(end, buf))
	assert.Equal(t, conn.Disconnected, r.client.Status())
	assert.ErrorIs(t, r.client.Err(), conn.ErrLocalClose)
	assert.Equal(t, conn.Disconnected, r.server.Status())
	assert.ErrorIs(t, r.server.Err(), conn.ErrPeerClosed)
}

func checkEffects(t *testing.T, r *replay, st vectors.Step, c *Conn, before map[uint16]bool, dups uint64, err error) {
	t.Helper()
	e := st.Effects
	require.True(t, e.Accepted)
	require.NoError(t, err, "step %d: packet refused", st.Index)

	after := outstanding(c)
	var acked []uint16
	for s := range before {
		if !after[s] {
			acked = append(acked, s)
		}
	}
	assert.ElementsMatch(t, e.Acked, acked, "step %d: packets acked", st.Index)

	var wantDups uint64
	for _, d := range e.Dedupe {
		if d.Result == "duplicate" {
			wantDups++
		}
		assert.True(t, c.seq.recvMsgs.Contains(protocol.Seq(d.Seq)), "step %d: message %d not recorded", st.Index, d.Seq)
	}
	assert.Equal(t, wantDups, c.stats.DuplicateMessages-dups, "step %d: duplicate messages", st.Index)
	assert.Equal(t, e.Status, c.Status().String(), "step %d: status", st.Index)
	assert.Equal(t, e.Bitfield.Ack, uint16(c.seq.replay.Current()), "step %d: ack", st.Index)
	assert.Equal(t, uint32(e.Bitfield.AckBits), c.seq.replay.AckBits(), "step %d: ack bits", st.Index)
	if len(e.SessionKey) > 0 {
		key := c.sess.key
		if c.aead == nil {
			// A server defers its ECDH to the first encrypted datagram:
			// the key it will derive is the one to compare.
			require.NotNil(t, c.sess.ephemeral, "step %d: no session key", st.Index)
			var err error
			key, err = crypto.SessionKey(c.sess.ephemeral, c.sess.helloKey, c.sess.salt[:])
			require.NoError(t, err)
		}
		assert.Equal(t, []byte(e.SessionKey), key[:], "step %d: session key", st.Index)
	}
}

// assertSameServerHello compares two SERVER_HELLO datagrams field by
// field, except the ECDSA signature (randomized), which must verify.
func assertSameServerHello(t *testing.T, want, got []byte, root *conn.PublicKey) {
	t.Helper()
	parse := func(d []byte) (protocol.Header, protocol.ServerHello) {
		h, payload, err := parseClear(d, protocol.ToClient)
		require.NoError(t, err)
		_, m, err := helloMessage(h, payload, protocol.TypeServerHello)
		require.NoError(t, err)
		sh, err := protocol.ParseServerHello(m.Body)
		require.NoError(t, err)
		return h, sh
	}
	wh, ws := parse(want)
	gh, gs := parse(got)
	wh.Length, gh.Length = 0, 0 // signatures differ in length (70..72 bytes)
	assert.Equal(t, wh, gh)
	assert.Equal(t, ws.RootKey, gs.RootKey)
	assert.Equal(t, ws.Signed, gs.Signed)
	assert.True(t, root.Verify(gs.Signed, gs.Signature), "our signature does not verify")
	assert.True(t, root.Verify(ws.Signed, ws.Signature), "the vector's signature does not verify")
}
