//go:build linux

package loadgen

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestClientAddresses(t *testing.T) {
	seen := map[[4]byte]bool{}
	for _, idx := range []int{0, 1, 254, 255, 256, 65535, 65536, maxSharedClients - 1} {
		a := clientAddr(idx)
		assert.Equal(t, byte(127), a[0], "on the loopback")
		assert.False(t, seen[a])
		seen[a] = true
		got, ok := clientIndex(a, maxSharedClients)
		assert.True(t, ok)
		assert.Equal(t, idx, got)
	}
	_, ok := clientIndex([4]byte{127, 0, 0, 1}, 10)
	assert.False(t, ok, "the server's own address is nobody's")
	_, ok = clientIndex(clientAddr(10), 10)
	assert.False(t, ok, "beyond the clients")
	assert.True(t, sharedPossible(netip.MustParseAddrPort("127.0.0.1:1")))
	assert.True(t, sharedPossible(netip.MustParseAddrPort("[::ffff:127.0.0.1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("[::1]:1")))
	assert.False(t, sharedPossible(netip.MustParseAddrPort("192.0.2.1:1")))
}

// TestSharedTransportCountsItsDrops overfills the shared socket's receive
// buffer and checks that the datagrams the system dropped are counted as
// the generator's, and that the rest still reach their clients although
// the drop count comes first among the control messages.
func TestSharedTransportCountsItsDrops(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer srv.Close()
	tr, err := newSharedTransport(srv.LocalAddr().(*net.UDPAddr).AddrPort(), 4)
	require.NoError(t, err)
	defer tr.close()
	require.NoError(t, tr.open(2, netip.AddrPort{}))
	require.NoError(t, unix.SetsockoptInt(tr.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1)) // a few datagrams
	sa, err := unix.Getsockname(tr.fd)
	require.NoError(t, err)
	a := clientAddr(2)
	to := &net.UDPAddr{IP: net.IP(a[:]), Port: sa.(*unix.SockaddrInet4).Port}

	const sent = 200
	for range sent {
		_, err := srv.WriteToUDP([]byte("echo"), to)
		require.NoError(t, err)
	}
	got := 0
	read := func() {
		tr.wait(time.Now(), func(idx int, b []byte, _ time.Time) {
			assert.Equal(t, 2, idx)
			assert.Equal(t, "echo", string(b))
			got++
		})
	}
	read()
	require.Positive(t, got)
	require.Less(t, got, sent)
	_, err = srv.WriteToUDP([]byte("echo"), to) // carries the drop count
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for tr.kernelDrops() == 0 && time.Now().Before(deadline) {
		read()
	}
	assert.Equal(t, uint64(sent+1-got), tr.kernelDrops())
}
