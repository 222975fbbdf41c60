package dgram_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/dgram"
)

func pair(t *testing.T) (srv, cl transport.Conn) {
	n := transport.NewNetwork()
	srv, err := n.Listen(netip.AddrPort{})
	require.NoError(t, err)
	cl, err = n.Dial(srv.LocalAddr())
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(); cl.Close() })
	return srv, cl
}

func send(t *testing.T, c transport.Conn, msgs ...[]byte) {
	for _, m := range msgs {
		_, err := c.WriteBatch([]transport.Datagram{{Data: m}})
		require.NoError(t, err)
	}
}

func TestReaderBatchesAndRecycles(t *testing.T) {
	srv, cl := pair(t)
	r := dgram.NewReader(srv, 10000, 8<<20, nil)
	msg := func(i int) []byte { return fmt.Appendf(nil, "%03d-%0*d", i, i*37%1000, 0) }
	for i := 0; i < 300; i++ { // more than one chunk, more than one batch
		send(t, cl, msg(i))
	}
	assert.Equal(t, 300, r.Drain())
	b := r.Take()
	require.Len(t, b, 300)
	for i, d := range b {
		assert.Equal(t, msg(i), d.Data)
		assert.Equal(t, cl.LocalAddr(), d.From)
	}
	r.Recycle(b)
	assert.Nil(t, r.Take(), "nothing new")
	// From now on the chunks and batches come back from the pool.
	again := []transport.Datagram{{Data: []byte("again")}}
	allocs := testing.AllocsPerRun(50, func() {
		_, _ = cl.WriteBatch(again)
		r.Drain()
		b := r.Take()
		if len(b) != 1 || string(b[0].Data) != "again" {
			t.Fatalf("got %q", b)
		}
		r.Recycle(b)
	})
	assert.Zero(t, allocs)
}

func TestReaderFilterAndLimits(t *testing.T) {
	srv, cl := pair(t)
	r := dgram.NewReader(srv, 70, 1<<20, func(_ netip.AddrPort, b []byte) dgram.Verdict {
		switch string(b) {
		case "blocked":
			return dgram.Blocked
		case "junk":
			return dgram.Junk
		}
		return dgram.Pass
	})
	send(t, cl, []byte("blocked"), []byte("junk"), []byte("ok"))
	r.Drain()
	st := r.Stats()
	assert.EqualValues(t, 1, st.Filtered)
	assert.EqualValues(t, 1, st.Junk)
	assert.EqualValues(t, 3, st.Received)
	b := r.Take()
	require.Len(t, b, 1, "only what passed is queued")
	r.Recycle(b)
	// A full queue leaves the rest in the socket.
	for i := 0; i < 200; i++ {
		send(t, cl, []byte{byte(i)})
	}
	r.Drain()
	assert.LessOrEqual(t, len(r.Take()), 70)
}

func TestWriter(t *testing.T) {
	for _, async := range []bool{false, true} {
		srv, cl := pair(t)
		w := dgram.NewWriter(srv)
		if async {
			w.Start()
		}
		for i := 0; i < 150; i++ {
			d := append(w.Buffer(), fmt.Sprint(i)...)
			w.Queue(d, cl.LocalAddr())
		}
		w.Close()
		st := w.Stats()
		assert.EqualValues(t, 150, st.Datagrams)
		assert.Positive(t, st.Writes)
		ds := make([]transport.Datagram, 200)
		for i := range ds {
			ds[i].Data = make([]byte, 0, transport.RecvSize)
		}
		n, err := cl.ReadBatch(ds)
		require.NoError(t, err)
		assert.Equal(t, 150, n)
	}
}

func TestWriterCountsRefusals(t *testing.T) {
	c, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	defer c.Close()
	w := dgram.NewWriter(c)
	var refused []netip.AddrPort
	w.OnError = func(to netip.AddrPort, err error) { refused = append(refused, to) }
	v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
	w.Queue([]byte("a"), c.LocalAddr())
	w.Queue([]byte("b"), v6)
	w.Queue([]byte("c"), c.LocalAddr())
	w.Flush()
	st := w.Stats()
	assert.EqualValues(t, 2, st.Datagrams, "the others still went")
	assert.EqualValues(t, 1, st.Errors)
	assert.Equal(t, []netip.AddrPort{v6}, refused)
}
