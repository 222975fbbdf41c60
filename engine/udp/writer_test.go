package udp

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterSendsEveryDatagram sends more than a batch to two peers and
// checks each gets its datagrams intact and in order.
func TestWriterSendsEveryDatagram(t *testing.T) {
	for _, tc := range []struct {
		name, network, local, peer string
		async                      bool
	}{
		{"ipv4", "udp4", "127.0.0.1:0", "127.0.0.1:0", false},
		{"ipv4 started", "udp4", "127.0.0.1:0", "127.0.0.1:0", true},
		{"ipv6", "udp6", "[::1]:0", "[::1]:0", false},
		{"dual-stack to ipv4", "udp", "[::]:0", "127.0.0.1:0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := net.ListenUDP(tc.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.local)))
			if err != nil {
				t.Skipf("no socket on %s: %v", tc.local, err)
			}
			defer src.Close()
			var peers [2]*net.UDPConn
			var readers [2]*Reader
			for i := range peers {
				p, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.peer)))
				if err != nil {
					t.Skipf("no socket on %s: %v", tc.peer, err)
				}
				peers[i] = p
				readers[i] = NewReader(p, 1000, 1<<20, nil)
				readers[i].Start()
			}
			w := NewWriter(src)
			if tc.async {
				w.Start()
			}
			const n = 2*BatchSize + 7
			for i := 0; i < n; i++ {
				to := peers[i%2].LocalAddr().(*net.UDPAddr).AddrPort()
				w.Queue(fmt.Appendf(w.Buffer(), "datagram %d", i), to)
			}
			w.Close()
			st := w.Stats()
			assert.Equal(t, uint64(n), st.Datagrams)
			assert.Zero(t, st.Errors)
			if w.Batched() {
				assert.Equal(t, uint64(3), st.Writes, "three sendmmsg calls")
			}
			srcPort := src.LocalAddr().(*net.UDPAddr).AddrPort().Port()
			for k := range peers {
				got := takeAll(t, readers[k], (n+1-k)/2)
				for j, d := range got {
					assert.Equal(t, fmt.Sprintf("datagram %d", 2*j+k), string(d.Data))
					assert.Equal(t, srcPort, d.From.Port())
					assert.False(t, d.From.Addr().Is4In6(), "addresses come unmapped")
				}
				peers[k].Close()
				readers[k].Wait()
			}
		})
	}
}

// TestWriterCountsFailures: a datagram the socket cannot send (an IPv6
// peer from an IPv4 socket) is reported and counted; the rest go out.
func TestWriterCountsFailures(t *testing.T) {
	src, _ := pair(t, "udp4", "127.0.0.1:0")
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer recv.Close()
	rr := NewReader(recv, 100, 1<<20, nil)
	rr.Start()
	w := NewWriter(src)
	var failed []netip.AddrPort
	w.OnError = func(to netip.AddrPort, err error) { failed = append(failed, to) }
	bad := netip.MustParseAddrPort("[2001:db8::1]:9")
	good := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	w.Queue(append(w.Buffer(), "one"...), good)
	w.Queue(append(w.Buffer(), "bad"...), bad)
	w.Queue(append(w.Buffer(), "two"...), good)
	w.Flush()
	assert.Equal(t, []netip.AddrPort{bad}, failed)
	st := w.Stats()
	assert.Equal(t, uint64(2), st.Datagrams)
	assert.Equal(t, uint64(1), st.Errors)
	assert.Equal(t, uint64(6), st.Bytes)
	got := takeAll(t, rr, 2)
	assert.Equal(t, "one", string(got[0].Data))
	assert.Equal(t, "two", string(got[1].Data))
	recv.Close()
	rr.Wait()
}

// TestWriterAfterClose: sending on a closed socket counts every datagram
// as failed and does not block.
func TestWriterAfterClose(t *testing.T) {
	src, dst := pair(t, "udp4", "127.0.0.1:0")
	w := NewWriter(src)
	src.Close()
	w.Queue(append(w.Buffer(), "x"...), dst.LocalAddr().(*net.UDPAddr).AddrPort())
	w.Flush()
	assert.Equal(t, WriterStats{Errors: 1, Writes: 1}, w.Stats())
	w.Close()
	w.Close()
}

func TestWriterAllocatesNothing(t *testing.T) {
	for _, async := range []bool{false, true} {
		src, dst := pair(t, "udp4", "127.0.0.1:0")
		to := dst.LocalAddr().(*net.UDPAddr).AddrPort()
		w := NewWriter(src)
		if async {
			w.Start()
		}
		payload := make([]byte, 100)
		allocs := testing.AllocsPerRun(100, func() {
			for i := 0; i < BatchSize; i++ {
				w.Queue(append(w.Buffer(), payload...), to)
			}
			w.Flush()
		})
		w.Close()
		assert.Zero(t, allocs, "started: %v", async)
	}
}

// TestWriterStartedKeepsOrder: with a goroutine sending, datagrams still
// leave in the order they were queued, across many batches, and Close
// waits for the last.
func TestWriterStartedKeepsOrder(t *testing.T) {
	src, _ := pair(t, "udp4", "127.0.0.1:0")
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer recv.Close()
	r := NewReader(recv, 10000, 8<<20, nil)
	r.Start()
	w := NewWriter(src)
	w.Start()
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 100 // under the default socket buffer; a dozen batches
	for i := 0; i < n; i++ {
		w.Queue(fmt.Appendf(w.Buffer(), "%d", i), to)
		if i%9 == 0 {
			w.Flush() // partial batches too
		}
	}
	w.Close()
	assert.Equal(t, uint64(n), w.Stats().Datagrams)
	got := takeAll(t, r, n)
	for i, d := range got {
		assert.Equal(t, fmt.Sprint(i), string(d.Data))
	}
	recv.Close()
	r.Wait()
}
