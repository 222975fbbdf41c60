package udp

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pair(t *testing.T, network, addr string) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	a, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("no %s socket on %s: %v", network, addr, err)
	}
	b, err := net.DialUDP("udp", nil, a.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out")
		time.Sleep(time.Millisecond)
	}
}

// takeAll collects n datagrams, copying them out of their batches.
func takeAll(t *testing.T, r *Reader, n int) []Datagram {
	t.Helper()
	var got []Datagram
	waitFor(t, func() bool {
		b := r.Take()
		for _, d := range b {
			got = append(got, Datagram{Data: append([]byte(nil), d.Data...), From: d.From})
		}
		r.Recycle(b)
		return len(got) >= n
	})
	return got
}

func TestReaderBatchesAndRecycles(t *testing.T) {
	srv, cl := pair(t, "udp", "127.0.0.1:0")
	r := NewReader(srv, 1000, 1<<20, nil)
	r.Start()
	// Groups of 80 datagrams of up to 1000 bytes: each group spans more
	// than one chunk, yet fits the default socket buffer.
	msg := func(i int) []byte { return fmt.Appendf(nil, "%03d-%0*d", i, i*37%1000, 0) }
	const n, group = 320, 80
	var got []Datagram
	for g := 0; g < n; g += group {
		for i := g; i < g+group; i++ {
			_, err := cl.Write(msg(i))
			require.NoError(t, err)
		}
		got = append(got, takeAll(t, r, group)...)
	}
	require.Len(t, got, n)
	for i, d := range got {
		assert.Equal(t, msg(i), d.Data, "in order, intact")
		assert.Equal(t, cl.LocalAddr().(*net.UDPAddr).AddrPort(), d.From)
	}
	assert.Nil(t, r.Take())
	srv.Close()
	r.Wait()
	st := r.Stats()
	assert.Equal(t, uint64(n), st.Received)
	assert.Zero(t, st.Overflow+st.Filtered+st.Errors)
	if r.Batched() {
		t.Logf("%d datagrams in %d reads", st.Received, st.Reads)
	}
}

func TestReaderRecycledMemoryIsReused(t *testing.T) {
	srv, cl := pair(t, "udp", "127.0.0.1:0")
	r := NewReader(srv, 1000, 1<<20, nil)
	r.Start()
	defer func() { srv.Close(); r.Wait() }()
	_, err := cl.Write([]byte("first"))
	require.NoError(t, err)
	var b []Datagram
	waitFor(t, func() bool { b = r.Take(); return b != nil })
	first := &b[0].Data[0]
	r.Recycle(b)
	_, err = cl.Write([]byte("again"))
	require.NoError(t, err)
	waitFor(t, func() bool { b = r.Take(); return b != nil })
	assert.Equal(t, "again", string(b[0].Data))
	assert.Same(t, first, &b[0].Data[0], "the chunk came back from the pool")
	r.Recycle(b)
}

func TestReaderFilterAndOverflow(t *testing.T) {
	srv, cl := pair(t, "udp", "127.0.0.1:0")
	var blocked atomic.Bool
	blocked.Store(true)
	r := NewReader(srv, 3, 1<<20, func(_ netip.AddrPort, b []byte) Verdict {
		switch {
		case blocked.Load():
			return Blocked
		case string(b) == "junk":
			return Junk
		}
		return Pass
	})
	r.Start()
	_, err := cl.Write([]byte("blocked"))
	require.NoError(t, err)
	waitFor(t, func() bool { return r.Stats().Filtered == 1 })
	blocked.Store(false)
	_, err = cl.Write([]byte("junk"))
	require.NoError(t, err)
	waitFor(t, func() bool { return r.Stats().Junk == 1 })
	for i := 0; i < 5; i++ {
		_, err := cl.Write([]byte{byte(i)})
		require.NoError(t, err)
	}
	waitFor(t, func() bool { return r.Stats().Overflow == 2 })
	b := r.Take()
	assert.Len(t, b, 3, "the queue holds at most 3")
	r.Recycle(b)
	srv.Close()
	r.Wait()
}

func TestReaderByteLimit(t *testing.T) {
	srv, cl := pair(t, "udp", "127.0.0.1:0")
	r := NewReader(srv, 100, 250, nil)
	r.Start()
	for i := 0; i < 4; i++ {
		_, err := cl.Write(make([]byte, 100))
		require.NoError(t, err)
	}
	waitFor(t, func() bool { return r.Stats().Overflow == 2 })
	b := r.Take()
	assert.Len(t, b, 2, "250 bytes hold two 100-byte datagrams")
	r.Recycle(b)
	srv.Close()
	r.Wait()
}

// TestReaderAllocatesNothing: once its pools are warm, reading, queueing,
// taking and recycling datagrams allocates nothing.
func TestReaderAllocatesNothing(t *testing.T) {
	srv, cl := pair(t, "udp4", "127.0.0.1:0")
	r := NewReader(srv, 1000, 1<<20, nil)
	r.Start()
	defer func() { srv.Close(); r.Wait() }()
	payload := make([]byte, 120)
	round := func() {
		for i := 0; i < 20; i++ {
			if _, err := cl.Write(payload); err != nil {
				panic(err)
			}
		}
		for got := 0; got < 20; {
			b := r.Take()
			got += len(b)
			r.Recycle(b)
			if got < 20 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	for i := 0; i < 20; i++ {
		round()
	}
	assert.Zero(t, testing.AllocsPerRun(50, round))
}
