package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSocketDrainAndWrite(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sockets detach from Go's poller on Linux only")
	}
	for _, tc := range []struct{ name, listen, peer string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.1"},
		{"dual-stack", "[::]:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.listen)))
			if err != nil {
				t.Skipf("no socket on %s: %v", tc.listen, err)
			}
			sock, err := Detach(uc)
			require.NoError(t, err)
			_, err = uc.WriteTo([]byte("x"), uc.LocalAddr())
			assert.ErrorIs(t, err, net.ErrClosed, "Detach closes the UDPConn")
			port := sock.LocalAddr().Port()
			require.NotZero(t, port)
			to := netip.AddrPortFrom(netip.MustParseAddr(tc.peer), port)
			peer, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
			require.NoError(t, err)
			defer peer.Close()

			r := NewSocketReader(sock, 1000, 1<<20, nil)
			require.True(t, r.Batched())
			assert.Zero(t, r.Drain(), "nothing waiting is fine")
			assert.Nil(t, r.Take())
			const n = 150 // more than two reads
			for i := 0; i < n; i++ {
				_, err := peer.Write(fmt.Appendf(nil, "d%d", i))
				require.NoError(t, err)
			}
			var got []Datagram
			deadline := time.Now().Add(3 * time.Second)
			for len(got) < n && time.Now().Before(deadline) {
				r.Drain()
				b := r.Take()
				for _, d := range b {
					got = append(got, Datagram{Data: append([]byte(nil), d.Data...), From: d.From})
				}
				r.Recycle(b)
				time.Sleep(time.Millisecond)
			}
			require.Len(t, got, n)
			from := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			for i, d := range got {
				assert.Equal(t, fmt.Sprintf("d%d", i), string(d.Data))
				assert.Equal(t, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), d.From)
			}
			assert.Greater(t, r.Stats().Reads, uint64(1))

			w := NewSocketWriter(sock)
			require.True(t, w.Batched())
			w.Queue(append(w.Buffer(), "reply"...), got[0].From)
			w.Flush()
			assert.Equal(t, uint64(1), w.Stats().Datagrams)
			buf := make([]byte, 64)
			require.NoError(t, peer.SetReadDeadline(time.Now().Add(3*time.Second)))
			k, err := peer.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, "reply", string(buf[:k]))

			require.NoError(t, sock.Close())
			assert.True(t, errors.Is(sock.Close(), net.ErrClosed))
			assert.Zero(t, r.Drain(), "draining a closed socket does nothing")
			w.Queue(append(w.Buffer(), "late"...), got[0].From)
			w.Flush()
			assert.Equal(t, uint64(1), w.Stats().Errors)
		})
	}
}

// TestDrainStopsWhenTheQueueIsFull: the rest waits in the socket instead
// of being dropped.
func TestDrainStopsWhenTheQueueIsFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	sock, err := Detach(uc)
	require.NoError(t, err)
	defer sock.Close()
	peer, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(sock.LocalAddr()))
	require.NoError(t, err)
	defer peer.Close()
	r := NewSocketReader(sock, 100, 1<<20, nil)
	for i := 0; i < 150; i++ {
		_, err := peer.Write([]byte{byte(i)})
		require.NoError(t, err)
	}
	time.Sleep(50 * time.Millisecond)
	k := 0
	for round := 0; round < 5; round++ {
		r.Drain()
		b := r.Take()
		assert.LessOrEqual(t, len(b), 100, "never more than the queue holds")
		k += len(b)
		r.Recycle(b)
	}
	assert.Equal(t, 150, k, "nothing dropped")
	assert.Zero(t, r.Stats().Overflow)
}
