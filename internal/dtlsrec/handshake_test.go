package dtlsrec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The facts the handoff rests on, checked against a live pion client.
func TestHandoffSequenceNumbers(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())
	assert.Empty(t, p.pending)

	// pion's server sent one epoch-1 record, its Finished, with sequence
	// number 0; its export says 1: SequenceNumber is the next number to
	// use, not the last one used. Likewise it received the client's
	// Finished (0) and exports RemoteSequenceNumber 1.
	assert.Equal(t, uint64(1), p.conn.seq)
	assert.Equal(t, uint64(1), p.conn.win.next)
	last := p.server.LastFlight()
	require.NotEmpty(t, last)
	assert.Equal(t, TypeChangeCipherSpec, last[0][0], "the final flight starts with ChangeCipherSpec")

	// A record reusing sequence number 0 is dropped by pion as a replay
	// of the Finished: had we taken SequenceNumber as the last number
	// used, our first record would be lost (and would reuse a nonce).
	// (This test reuses a nonce on purpose, with throwaway keys.)
	p.conn.seq = 0
	p.sealToClient([]byte("reused sequence number"))
	p.conn.seq = 1
	// The first record at the exported number is accepted.
	p.sealToClient([]byte("first"))
	got, err := p.clientRead()
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))

	// The client's first record carries the number the export gave as
	// RemoteSequenceNumber: it is the next expected, so the window must
	// take it as fresh.
	_, err = p.pc.Write([]byte("hello"))
	require.NoError(t, err)
	recs := openAll(t, p.conn, p.recv())
	require.Len(t, recs, 1)
	require.NoError(t, recs[0].err)
	assert.Equal(t, uint64(1), recs[0].seq)
	assert.Equal(t, TypeApplicationData, recs[0].typ)
	assert.Equal(t, "hello", string(recs[0].plain))
}

// Hundreds of messages each way, of all sizes up to 1400 bytes.
func TestExchange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		suite dtls.CipherSuiteID
	}{
		{"AES128GCM", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"AES256GCM", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, setup{suite: tc.suite})
			require.NoError(t, p.serverErr)
			require.NoError(t, p.waitClient())
			exchange(t, p, 300)
		})
	}
}

// exchange sends n messages each way, interleaved, and checks them.
func exchange(t *testing.T, p *pair, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	msg := func(i, size int) []byte {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	for i := range n {
		size := 1 + rng.IntN(1400)
		if i%50 == 0 {
			size = 1400
		}

		// client to server
		want := msg(i, size)
		_, err := p.pc.Write(want)
		require.NoError(t, err)
		recs := openAll(t, p.conn, p.recv())
		require.Len(t, recs, 1)
		require.NoError(t, recs[0].err)
		require.Equal(t, TypeApplicationData, recs[0].typ)
		require.Equal(t, want, recs[0].plain, "message %d", i)

		// server to client
		want = msg(i+7, size)
		p.sealToClient(want)
		got, err := p.clientRead()
		require.NoError(t, err)
		require.Equal(t, want, got, "message %d", i)
	}
}

// The client's first data, sent while pion's server is still finishing,
// is kept from pion and reaches Open through Drain.
func TestEarlyDataWaitsForDrain(t *testing.T) {
	var once bool
	p := newPair(t, setup{afterDown: func(p *pair, b []byte) {
		if b[0] != TypeChangeCipherSpec || once {
			return
		}
		once = true
		// pion's server has written its final flight but is not done yet
		// (it is still in this write): the client completes and sends.
		err := <-p.clientErr
		p.clientErr <- err
		if err != nil {
			return
		}
		p.direct.Store(true)
		_, _ = p.pc.Write([]byte("early"))
		p.direct.Store(false)
	}})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())
	require.Len(t, p.pending, 1)
	recs := openAll(t, p.conn, p.pending[0])
	require.Len(t, recs, 1)
	require.NoError(t, recs[0].err)
	assert.Equal(t, "early", string(recs[0].plain))
}

// Several records in one datagram, both ways.
func TestSeveralRecordsPerDatagram(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())

	var d []byte
	for _, m := range []string{"one", "two", "three"} {
		var err error
		d, err = p.conn.Seal(d, []byte(m))
		require.NoError(t, err)
	}
	p.toClient(d)
	for _, m := range []string{"one", "two", "three"} {
		got, err := p.clientRead()
		require.NoError(t, err)
		assert.Equal(t, m, string(got))
	}

	var joined []byte
	for _, m := range []string{"a", "bb", "ccc"} {
		_, err := p.pc.Write([]byte(m))
		require.NoError(t, err)
		joined = append(joined, p.recv()...)
	}
	recs := openAll(t, p.conn, joined)
	require.Len(t, recs, 3)
	for i, m := range []string{"a", "bb", "ccc"} {
		require.NoError(t, recs[i].err)
		assert.Equal(t, m, string(recs[i].plain))
	}
}

// Open refuses a replayed record and a corrupted one, and a refused
// record does not move the window.
func TestOpenRefuses(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())

	send := func(m string) []byte {
		_, err := p.pc.Write([]byte(m))
		require.NoError(t, err)
		return p.recv()
	}
	open := func(d []byte) (byte, string, error) {
		typ, plain, rest, err := p.conn.Open(bytes.Clone(d))
		assert.Empty(t, rest)
		return typ, string(plain), err
	}

	a := send("a")
	_, got, err := open(a)
	require.NoError(t, err)
	assert.Equal(t, "a", got)
	_, _, err = open(a)
	assert.ErrorIs(t, err, ErrReplay)

	b := send("b")
	for _, at := range []int{0, 3, 5, headerLen - 1, headerLen, headerLen + explicitLen, len(b) - 1} {
		bad := bytes.Clone(b)
		bad[at] ^= 0x10
		typ, _, _, err := p.conn.Open(bad) // rest: a changed length moves the record's end
		assert.Error(t, err, "bit flipped at %d", at)
		assert.Zero(t, typ)
	}
	bad := bytes.Clone(b)
	bad[len(bad)-1] ^= 1
	_, _, err = open(bad)
	assert.ErrorIs(t, err, ErrAuth)
	bad = bytes.Clone(b)
	bad[headerLen+explicitLen] ^= 1
	_, _, err = open(bad)
	assert.ErrorIs(t, err, ErrAuth)
	_, got, err = open(b)
	require.NoError(t, err, "a forged copy must not burn the genuine record's number")
	assert.Equal(t, "b", got)

	// Out of order within the window is fine, once.
	c, d, e := send("c"), send("d"), send("e")
	for _, r := range [][]byte{e, c, d} {
		_, _, err := open(r)
		require.NoError(t, err)
	}
	for _, r := range [][]byte{c, d, e} {
		_, _, err := open(r)
		assert.ErrorIs(t, err, ErrReplay)
	}
}

// pion drops a record of ours delivered twice: our numbers are pion's
// replay detector's business as well as ours.
func TestPionDropsOurReplay(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())

	r1, err := p.conn.Seal(nil, []byte("once"))
	require.NoError(t, err)
	r2, err := p.conn.Seal(nil, []byte("next"))
	require.NoError(t, err)
	p.toClient(r1, r1, r2)
	got, err := p.clientRead()
	require.NoError(t, err)
	assert.Equal(t, "once", string(got))
	got, err = p.clientRead()
	require.NoError(t, err)
	assert.Equal(t, "next", string(got), "the duplicate was delivered")
}

// Alerts both ways: our close_notify closes the pion client, whose
// close_notify in answer reaches Open as an authenticated alert.
func TestAlerts(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())

	a, err := p.conn.SealAlert(nil, AlertWarning, AlertCloseNotify)
	require.NoError(t, err)
	p.toClient(a)
	_, err = p.clientRead()
	assert.ErrorIs(t, err, io.EOF)

	recs := openAll(t, p.conn, p.recv())
	require.Len(t, recs, 1)
	require.NoError(t, recs[0].err)
	assert.Equal(t, TypeAlert, recs[0].typ)
	assert.Equal(t, []byte{AlertWarning, AlertCloseNotify}, recs[0].plain)
}

// The server's final flight is lost. pion's server is done once it has
// written it, so the handoff happens anyway; the client retransmits its
// flight, which reaches Open, and re-sending LastFlight completes the
// client's handshake.
func TestFinalFlightLost(t *testing.T) {
	p := newPair(t, setup{
		dropDown:   func(b []byte) bool { return b[0] == TypeChangeCipherSpec },
		clientOpts: []dtls.ClientOption{dtls.WithFlightInterval(100 * time.Millisecond)},
	})
	require.NoError(t, p.serverErr)
	last := p.server.LastFlight()
	require.NotEmpty(t, last)
	select {
	case err := <-p.clientErr:
		t.Fatalf("client finished without the final flight: %v", err)
	default:
	}

	// The client's retransmissions, until both its clear records and its
	// Finished were seen after the handoff. Whatever arrived before the
	// handoff went to pion (whose answers were dropped too).
	var clear, ccs, finished int
	for _, d := range p.pending {
		countFlight(t, p.conn, d, &clear, &ccs, &finished)
	}
	for clear == 0 || finished == 0 {
		countFlight(t, p.conn, p.recv(), &clear, &ccs, &finished)
	}
	assert.Positive(t, ccs)

	p.toClient(last...)
	require.NoError(t, p.waitClient())

	// Anything the client retransmitted meanwhile is still in up; the
	// data exchange skips it.
	drainUp(t, p)
	p.sealToClient([]byte("after recovery"))
	got, err := p.clientRead()
	require.NoError(t, err)
	assert.Equal(t, "after recovery", string(got))
	_, err = p.pc.Write([]byte("client data"))
	require.NoError(t, err)
	for {
		recs := openAll(t, p.conn, p.recv())
		if len(recs) == 1 && recs[0].err == nil && recs[0].typ == TypeApplicationData {
			assert.Equal(t, "client data", string(recs[0].plain))
			break
		}
	}
	exchange(t, p, 20)
}

// countFlight opens a datagram of the client's retransmitted flight.
func countFlight(t *testing.T, c *Conn, d []byte, clear, ccs, finished *int) {
	t.Helper()
	for _, r := range openAll(t, c, d) {
		switch {
		case errors.Is(r.err, ErrPlaintext) && r.typ == TypeHandshake:
			*clear++
		case errors.Is(r.err, ErrPlaintext) && r.typ == TypeChangeCipherSpec:
			*ccs++
		case r.err == nil && r.typ == TypeHandshake:
			*finished++ // epoch 1, authenticated: the client's Finished
		case errors.Is(r.err, ErrReplay):
			// a Finished pion had already seen
		default:
			t.Fatalf("unexpected record in the client's flight: type %d, %v", r.typ, r.err)
		}
	}
}

// drainUp runs the client's waiting datagrams through Open, expecting
// only handshake retransmissions.
func drainUp(t *testing.T, p *pair) {
	t.Helper()
	for {
		select {
		case d := <-p.up:
			var clear, ccs, finished int
			countFlight(t, p.conn, d, &clear, &ccs, &finished)
		default:
			return
		}
	}
}

// The handshake fails, promptly and with pion's error, when the client's
// certificate is refused; the client learns it from pion's alert.
func TestHandshakeRefusesCertificate(t *testing.T) {
	start := time.Now()
	p := newPair(t, setup{refuse: true})
	require.Error(t, p.serverErr)
	assert.NotErrorIs(t, p.serverErr, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), wait)
	assert.Nil(t, p.conn)
	assert.Error(t, p.waitClient())
}

// Suites and connection IDs the record layer does not implement are
// refused at the handoff.
func TestHandshakeRefusesUnsupported(t *testing.T) {
	t.Run("suite", func(t *testing.T) {
		p := newPair(t, setup{suite: dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256})
		assert.ErrorIs(t, p.serverErr, ErrSuite)
		assert.Nil(t, p.conn)
	})
	t.Run("connection ID", func(t *testing.T) {
		p := newPair(t, setup{
			serverOpts: []dtls.ServerOption{dtls.WithConnectionIDGenerator(dtls.RandomCIDGenerator(8))},
			clientOpts: []dtls.ClientOption{dtls.WithConnectionIDGenerator(dtls.RandomCIDGenerator(8))},
		})
		assert.ErrorIs(t, p.serverErr, ErrCID)
		assert.Nil(t, p.conn)
	})
}

// Handshake ends with the context.
func TestHandshakeContext(t *testing.T) {
	var sent atomic.Int32
	pipe := NewPipe(testAddr("nobody"), func([]byte) { sent.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Handshake(ctx, pipe, dtls.WithCertificates(selfSigned(t)))
	assert.Error(t, err)
	assert.Nil(t, c)
	assert.Zero(t, sent.Load())
}

// The client side's export works too (IsClient picks the directions):
// both sides taken over, talking to each other.
func TestClientSideExport(t *testing.T) {
	p := newPair(t, setup{})
	require.NoError(t, p.serverErr)
	require.NoError(t, p.waitClient())

	require.NoError(t, p.client.Close())
	state, ok := p.pc.ConnectionState()
	require.True(t, ok)
	raw, err := state.MarshalBinary()
	require.NoError(t, err)
	client, err := fromExport(raw)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), client.seq)
	assert.Equal(t, uint64(1), client.win.next)

	for i := range 100 {
		m := fmt.Appendf(nil, "client %d", i)
		rec, err := client.Seal(nil, m)
		require.NoError(t, err)
		recs := openAll(t, p.conn, rec)
		require.NoError(t, recs[0].err)
		assert.Equal(t, m, recs[0].plain)

		m = fmt.Appendf(nil, "server %d", i)
		rec, err = p.conn.Seal(nil, m)
		require.NoError(t, err)
		recs = openAll(t, client, rec)
		require.NoError(t, recs[0].err)
		assert.Equal(t, m, recs[0].plain)
	}
}
