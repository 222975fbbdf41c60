package loadgen

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientAddresses(t *testing.T) {
	seen := map[netip.Addr]bool{}
	for _, idx := range []int{0, 1, 254, 255, 256, 65535, 65536, maxSharedClients - 1} {
		a := clientAddr(idx)
		assert.Equal(t, byte(127), a.As4()[0], "on the loopback")
		assert.False(t, seen[a])
		seen[a] = true
		got, ok := clientIndex(a, maxSharedClients)
		assert.True(t, ok)
		assert.Equal(t, idx, got)
	}
	_, ok := clientIndex(netip.MustParseAddr("127.0.0.1"), 10)
	assert.False(t, ok, "the server's own address is nobody's")
	_, ok = clientIndex(clientAddr(10), 10)
	assert.False(t, ok, "beyond the clients")
	_, ok = clientIndex(netip.Addr{}, 10)
	assert.False(t, ok)
	linux := runtime.GOOS == "linux"
	assert.Equal(t, linux, sharedPossible(netip.MustParseAddrPort("127.0.0.1:1")))
	assert.Equal(t, linux, sharedPossible(netip.MustParseAddrPort("[::ffff:127.0.0.1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("[::1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("192.0.2.1:1")))
}

// TestSharedSocketsCountTheirDrops overfills the shared socket's receive
// buffer and checks that the datagrams the system dropped are counted as
// the generator's, and that the rest still reach their clients.
func TestSharedSocketsCountTheirDrops(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer srv.Close()
	s, err := newSharedSockets(srv.LocalAddr().(*net.UDPAddr).AddrPort(), 4, 1) // room for a few datagrams
	if runtime.GOOS != "linux" {
		require.Error(t, err)
		t.Skip("shared sockets are for Linux")
	}
	require.NoError(t, err)
	defer s.close()
	require.NoError(t, s.open(2))
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(clientAddr(2), s.c.LocalAddr().Port()))

	const sent = 200
	for range sent {
		_, err := srv.WriteToUDP([]byte("echo"), to)
		require.NoError(t, err)
	}
	got := 0
	read := func() {
		s.wait(time.Now(), func(idx int, b []byte, _ time.Time) {
			assert.Equal(t, 2, idx)
			assert.Equal(t, "echo", string(b))
			got++
		}, nil)
	}
	read()
	require.Positive(t, got)
	require.Less(t, got, sent)
	_, err = srv.WriteToUDP([]byte("echo"), to) // carries the drop count
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for s.kernelDrops() == 0 && time.Now().Before(deadline) {
		read()
	}
	assert.Equal(t, uint64(sent+1-got), s.kernelDrops())

	// A client's datagrams leave from its own address.
	s.write(3, append(s.buffer(), "from 3"...))
	s.flush()
	b := make([]byte, 64)
	require.NoError(t, srv.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, from, err := srv.ReadFromUDPAddrPort(b)
	require.NoError(t, err)
	assert.Equal(t, "from 3", string(b[:n]))
	assert.Equal(t, clientAddr(3), from.Addr())
}

// TestConnSocketsNoticeRefusal: a per-client socket connected to a port
// where nothing listens is told so (Linux: the ICMP port unreachable
// comes back as ECONNREFUSED on the next read or write), and remembers
// it until the client's socket is opened again.
func TestConnSocketsNoticeRefusal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("refusals are read from Linux sockets")
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	require.NoError(t, pc.Close())
	s, err := newConnSockets(addr, 2, false)
	require.NoError(t, err)
	defer s.close()
	require.NoError(t, s.open(0))
	require.NoError(t, s.open(1))
	deadline := time.Now().Add(10 * time.Second)
	for !s.refused(0) && time.Now().Before(deadline) {
		s.write(0, append(s.buffer(), "anyone?"...))
		s.wait(time.Now().Add(time.Millisecond), func(int, []byte, time.Time) { t.Error("nothing can answer") }, nil)
	}
	assert.True(t, s.refused(0))
	assert.False(t, s.refused(1), "client 1 sent nothing")
	s.shut(0)
	require.NoError(t, s.open(0))
	assert.False(t, s.refused(0), "a new socket starts afresh")
}

// TestSharedSocketsTellWhoComesNext: in a batch, the client of each
// datagram is announced for prefetching aheadDepth, ..., 1 datagrams
// before its own, in that order, once each.
func TestSharedSocketsTellWhoComesNext(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("shared sockets are for Linux")
	}
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer srv.Close()
	s, err := newSharedSockets(srv.LocalAddr().(*net.UDPAddr).AddrPort(), 4, 0)
	require.NoError(t, err)
	defer s.close()
	for i := range 3 {
		require.NoError(t, s.open(i))
	}
	order := []int{0, 1, 2, 3, 0, 1, 2, 0, 1, 2} // client 3 is not open: never announced nor delivered
	for _, idx := range order {
		to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(clientAddr(idx), s.c.LocalAddr().Port()))
		_, err := srv.WriteToUDP([]byte{byte(idx)}, to)
		require.NoError(t, err)
	}

	type event struct{ idx, d int } // d 0: delivered
	var events []event
	deadline := time.Now().Add(10 * time.Second)
	for delivered := 0; delivered < len(order)-1 && time.Now().Before(deadline); {
		s.wait(time.Now(), func(idx int, b []byte, _ time.Time) {
			assert.Equal(t, []byte{byte(idx)}, b)
			events = append(events, event{idx, 0})
			delivered++
		}, func(idx, d int) {
			events = append(events, event{idx, d})
		})
	}
	// All ten were queued before the first read: one batch. Client i+d's
	// step d is announced as datagram i is handled, so each client hears
	// d = aheadDepth (or its place in the batch), ..., 1, then gets its
	// datagram.
	var want []event
	for i := range order {
		for d := 1; d <= aheadDepth && i+d < len(order); d++ {
			if order[i+d] != 3 {
				want = append(want, event{order[i+d], d})
			}
		}
		if order[i] != 3 {
			want = append(want, event{order[i], 0})
		}
	}
	assert.Equal(t, want, events)
}
