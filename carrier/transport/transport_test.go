package transport_test

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// kind opens a listening Conn and dials it.
type kind struct {
	name   string
	listen func(t *testing.T) transport.Conn
	dial   func(t *testing.T, to netip.AddrPort) transport.Conn
}

func kinds() []kind {
	sock := func(cfg transport.Config) kind {
		name := "socket"
		if cfg.Portable {
			name = "portable"
		}
		return kind{
			name: name,
			listen: func(t *testing.T) transport.Conn {
				c, err := transport.Listen("127.0.0.1:0", cfg)
				require.NoError(t, err)
				return c
			},
			dial: func(t *testing.T, to netip.AddrPort) transport.Conn {
				c, err := transport.Dial(to.String(), cfg)
				require.NoError(t, err)
				return c
			},
		}
	}
	net := transport.NewNetwork()
	return []kind{sock(transport.Config{}), sock(transport.Config{Portable: true}), {
		name: "memory",
		listen: func(t *testing.T) transport.Conn {
			c, err := net.Listen(netip.AddrPort{})
			require.NoError(t, err)
			return c
		},
		dial: func(t *testing.T, to netip.AddrPort) transport.Conn {
			c, err := net.Dial(to)
			require.NoError(t, err)
			return c
		},
	}}
}

func buffers(n int) []transport.Datagram {
	ds := make([]transport.Datagram, n)
	for i := range ds {
		ds[i].Data = make([]byte, 0, transport.RecvSize)
	}
	return ds
}

// readAll waits for and reads n datagrams.
func readAll(t *testing.T, c transport.Conn, n int) []transport.Datagram {
	var got []transport.Datagram
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		require.NoError(t, c.Wait(deadline))
		ds := buffers(transport.BatchSize)
		k, err := c.ReadBatch(ds)
		require.NoError(t, err)
		got = append(got, ds[:k]...)
		require.True(t, time.Now().Before(deadline), "%d of %d datagrams", len(got), n)
	}
	return got
}

func TestExchange(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			srv := k.listen(t)
			defer srv.Close()
			cl := k.dial(t, srv.LocalAddr())
			defer cl.Close()
			ds := buffers(1)
			n, err := srv.ReadBatch(ds)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing waits: ReadBatch returns at once")

			// 200 datagrams in one call, more than a system call's batch.
			out := make([]transport.Datagram, 200)
			for i := range out {
				out[i].Data = []byte(fmt.Sprintf("datagram %d", i))
			}
			sent, err := cl.WriteBatch(out)
			require.NoError(t, err)
			require.Equal(t, 200, sent)
			got := readAll(t, srv, 200)
			seen := map[string]bool{}
			for _, d := range got {
				seen[string(d.Data)] = true
				assert.Equal(t, cl.LocalAddr().Port(), d.Addr.Port())
			}
			assert.Len(t, seen, 200)

			// and back, to the address each came from
			reply := []transport.Datagram{{Data: []byte("reply"), Addr: got[0].Addr}}
			_, err = srv.WriteBatch(reply)
			require.NoError(t, err)
			back := readAll(t, cl, 1)
			assert.Equal(t, "reply", string(back[0].Data))
			assert.Positive(t, srv.Stats().Reads)
			assert.Positive(t, cl.Stats().Writes)
		})
	}
}

func TestWaitDeadlineAndClose(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			c := k.listen(t)
			require.NoError(t, c.Wait(time.Now().Add(time.Millisecond)), "a passed deadline is no error")
			done := make(chan error, 1)
			go func() { done <- c.Wait(time.Time{}) }()
			time.Sleep(20 * time.Millisecond) // let it block (a race either way is fine)
			require.NoError(t, c.Close())
			select {
			case err := <-done:
				assert.ErrorIs(t, err, transport.ErrClosed)
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not wake Wait")
			}
			_, err := c.ReadBatch(buffers(1))
			assert.ErrorIs(t, err, transport.ErrClosed)
			_, err = c.WriteBatch([]transport.Datagram{{Data: []byte("x"), Addr: c.LocalAddr()}})
			assert.ErrorIs(t, err, transport.ErrClosed)
			assert.ErrorIs(t, c.Close(), transport.ErrClosed)
		})
	}
}

// TestPacketInfo: one socket on the loopback sends from, and tells apart,
// many addresses of 127.0.0.0/8, as the load generator's clients do.
func TestPacketInfo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("packet info is Linux's")
	}
	srv, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	defer srv.Close()
	many, err := transport.Listen("0.0.0.0:0", transport.Config{PacketInfo: true})
	require.NoError(t, err)
	defer many.Close()
	var out []transport.Datagram
	for i := 2; i < 6; i++ {
		from := netip.AddrFrom4([4]byte{127, 0, 0, byte(i)})
		out = append(out, transport.Datagram{Data: []byte{byte(i)}, Addr: srv.LocalAddr(), Local: from})
	}
	_, err = many.WriteBatch(out)
	require.NoError(t, err)
	got := readAll(t, srv, 4)
	var replies []transport.Datagram
	for _, d := range got {
		assert.Equal(t, netip.AddrFrom4([4]byte{127, 0, 0, d.Data[0]}), d.Addr.Addr(), "sent from the address asked")
		replies = append(replies, transport.Datagram{Data: d.Data, Addr: d.Addr})
	}
	_, err = srv.WriteBatch(replies)
	require.NoError(t, err)
	for _, d := range readAll(t, many, 4) {
		assert.Equal(t, netip.AddrFrom4([4]byte{127, 0, 0, d.Data[0]}), d.Local, "the address it came to")
	}
}

// TestMemoryUnderSynctest: the in-memory network's waits follow the fake
// clock of a synctest bubble.
func TestMemoryUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := transport.NewNetwork()
		a, err := n.Listen(netip.AddrPort{})
		require.NoError(t, err)
		b, err := n.Dial(a.LocalAddr())
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, a.Wait(start.Add(time.Hour)))
		assert.Equal(t, time.Hour, time.Since(start), "an hour of fake time, at once")
		go func() {
			time.Sleep(3 * time.Second)
			_, _ = b.WriteBatch([]transport.Datagram{{Data: []byte("late")}})
		}()
		require.NoError(t, a.Wait(time.Time{}))
		assert.Equal(t, time.Hour+3*time.Second, time.Since(start))
		ds := buffers(4)
		k, err := a.ReadBatch(ds)
		require.NoError(t, err)
		require.Equal(t, 1, k)
		assert.Equal(t, "late", string(ds[0].Data))
		assert.Equal(t, b.LocalAddr(), ds[0].Addr)
	})
}

func TestMemoryQueueIsBounded(t *testing.T) {
	n := transport.NewNetwork()
	a, err := n.Listen(netip.MustParseAddrPort("10.9.9.9:77"))
	require.NoError(t, err)
	b, err := n.Dial(a.LocalAddr())
	require.NoError(t, err)
	out := make([]transport.Datagram, transport.MemoryQueue+10)
	for i := range out {
		out[i].Data = []byte{1}
	}
	_, err = b.WriteBatch(out)
	require.NoError(t, err)
	assert.EqualValues(t, 10, a.Stats().KernelDrops)
	_, err = n.Listen(a.LocalAddr())
	assert.Error(t, err, "an address in use")
	// a dialled Conn hears only its peer
	c, err := n.Listen(netip.AddrPort{})
	require.NoError(t, err)
	_, err = c.WriteBatch([]transport.Datagram{{Data: []byte("stranger"), Addr: b.LocalAddr()}})
	require.NoError(t, err)
	k, err := b.ReadBatch(buffers(1))
	require.NoError(t, err)
	assert.Zero(t, k)
}

func TestBadAddressIsReported(t *testing.T) {
	c, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	defer c.Close()
	ok := transport.Datagram{Data: []byte("a"), Addr: c.LocalAddr()}
	bad := transport.Datagram{Data: []byte("b"), Addr: netip.MustParseAddrPort("[2001:db8::1]:9")}
	n, err := c.WriteBatch([]transport.Datagram{ok, bad, ok})
	require.Error(t, err, "an IPv4 socket cannot reach an IPv6 address")
	assert.Equal(t, 1, n, "the datagram before it went")
	assert.False(t, errors.Is(err, transport.ErrClosed))
}
