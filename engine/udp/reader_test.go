package udp

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pair(t *testing.T) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
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

func TestReaderBatchesAndRecycles(t *testing.T) {
	srv, cl := pair(t)
	r := NewReader(srv, 100, 10, nil)
	r.Start()
	for i := 0; i < 5; i++ {
		_, err := cl.Write([]byte{byte(i), 1, 2})
		require.NoError(t, err)
	}
	var got []Datagram
	waitFor(t, func() bool { got = append(got, r.Take()...); return len(got) == 5 })
	for i, d := range got {
		assert.Equal(t, []byte{byte(i), 1, 2}, d.Bytes(), "in order")
		assert.Equal(t, cl.LocalAddr().(*net.UDPAddr).AddrPort(), d.From)
	}
	kept := got[0].Buf
	got[0].Buf = nil // the owner keeps this one
	r.Recycle(got)
	assert.Nil(t, r.Take())
	r.Put(kept)
	srv.Close()
	r.Wait()
	assert.Zero(t, r.Stats())
}

func TestReaderFilterAndOverflow(t *testing.T) {
	srv, cl := pair(t)
	var blocked atomic.Bool
	blocked.Store(true)
	r := NewReader(srv, 3, 10, func(netip.AddrPort) bool { return !blocked.Load() })
	r.Start()
	_, err := cl.Write([]byte("blocked"))
	require.NoError(t, err)
	waitFor(t, func() bool { return r.Stats().Filtered == 1 })
	blocked.Store(false)
	for i := 0; i < 5; i++ {
		_, err := cl.Write([]byte{byte(i)})
		require.NoError(t, err)
	}
	waitFor(t, func() bool { return r.Stats().Overflow == 2 })
	assert.Len(t, r.Take(), 3, "the queue holds at most 3")
	srv.Close()
	r.Wait()
}
