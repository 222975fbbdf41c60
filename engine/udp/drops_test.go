package udp

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// overflow sends n datagrams to a socket whose receive buffer holds only a
// few, so that the system drops most of them.
func overflow(t *testing.T, to *net.UDPConn, n int) {
	t.Helper()
	from, err := net.DialUDP("udp4", nil, to.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer from.Close()
	payload := make([]byte, 200)
	for range n {
		_, err := from.Write(payload)
		require.NoError(t, err)
	}
}

// TestReaderCountsKernelDrops fills a tiny receive buffer past its end and
// checks that every datagram sent is either read or counted as dropped by
// the kernel, once a datagram queued after the drops has been read (the
// kernel reports its count with the datagrams that follow a drop).
func TestReaderCountsKernelDrops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel reports drops (SO_RXQ_OVFL) on Linux")
	}
	const sent = 200
	for _, mode := range []string{"socket", "goroutine"} {
		t.Run(mode, func(t *testing.T) {
			uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			require.NoError(t, err)
			require.NoError(t, uc.SetReadBuffer(1)) // the system's minimum: a few datagrams
			var r *Reader
			var take func() int
			if mode == "socket" {
				sock, err := Detach(uc)
				require.NoError(t, err)
				defer sock.Close()
				r = NewSocketReader(sock, 1024, 1<<20, nil)
				take = func() int {
					r.Drain()
					b := r.Take()
					defer r.Recycle(b)
					return len(b)
				}
			} else {
				defer uc.Close()
				r = NewReader(uc, 1024, 1<<20, nil)
				take = func() int {
					b := r.Take()
					defer r.Recycle(b)
					return len(b)
				}
			}
			require.True(t, r.Batched())

			overflow(t, uc, sent) // nobody reads meanwhile
			if mode == "goroutine" {
				r.Start()
			}
			got := 0
			deadline := time.Now().Add(5 * time.Second)
			for got == 0 && time.Now().Before(deadline) {
				if got += take(); got == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			time.Sleep(20 * time.Millisecond) // the rest of what the buffer held
			got += take()
			require.Positive(t, got)
			require.Less(t, got, sent, "the buffer held them all: no drop to count")
			assert.Zero(t, r.Stats().KernelDrops, "the datagrams queued before the drops carry no count")

			overflow(t, uc, 1) // queued after the drops: it carries the count
			for time.Now().Before(deadline) {
				got += take()
				if st := r.Stats(); st.KernelDrops > 0 && uint64(got)+st.KernelDrops >= sent+1 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			st := r.Stats()
			assert.Equal(t, uint64(sent+1), st.Received+st.KernelDrops, "every datagram read or counted")
			assert.Equal(t, uint64(sent+1-got), st.KernelDrops)
		})
	}
}
