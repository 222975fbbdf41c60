package loadgen

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// readyAfter polls until a token is ready or 5 s passed (a datagram on
// the loopback arrives at once; the limit only ends a broken test).
func readyAfter(t *testing.T, p *poller) []int {
	t.Helper()
	tokens := make([]int, 8)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := p.ready(tokens)
		require.NoError(t, err)
		if n > 0 || time.Now().After(deadline) {
			return tokens[:n]
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPoller(t *testing.T) {
	mem := transport.NewNetwork()
	for _, kind := range []struct {
		name string
		open func(t *testing.T) (srv transport.Conn, dial func() transport.Conn)
	}{
		{"sockets", func(t *testing.T) (transport.Conn, func() transport.Conn) {
			srv, err := transport.Listen("127.0.0.1:0", transport.Config{})
			require.NoError(t, err)
			return srv, func() transport.Conn {
				c, err := transport.Dial(srv.LocalAddr().String(), transport.Config{})
				require.NoError(t, err)
				return c
			}
		}},
		{"portable", func(t *testing.T) (transport.Conn, func() transport.Conn) {
			srv, err := transport.Listen("127.0.0.1:0", transport.Config{Portable: true})
			require.NoError(t, err)
			return srv, func() transport.Conn {
				c, err := transport.Dial(srv.LocalAddr().String(), transport.Config{Portable: true})
				require.NoError(t, err)
				return c
			}
		}},
		{"memory", func(t *testing.T) (transport.Conn, func() transport.Conn) {
			srv, err := mem.Listen(netip.MustParseAddrPort("10.9.9.9:1"))
			require.NoError(t, err)
			return srv, func() transport.Conn {
				c, err := mem.Dial(srv.LocalAddr())
				require.NoError(t, err)
				return c
			}
		}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			srv, dial := kind.open(t)
			defer srv.Close()
			p, err := newPoller()
			require.NoError(t, err)
			defer p.close()
			clients := []transport.Conn{dial(), dial(), dial()}
			for i, c := range clients {
				defer c.Close()
				require.NoError(t, p.add(c, 10+i))
			}
			n, err := p.ready(make([]int, 8))
			require.NoError(t, err)
			assert.Zero(t, n, "nothing arrived yet")

			// The server answers the second client only.
			_, err = clients[1].WriteBatch([]transport.Datagram{{Data: []byte("hi")}})
			require.NoError(t, err)
			in := []transport.Datagram{{Data: make([]byte, 0, transport.RecvSize)}}
			require.NoError(t, srv.Wait(time.Now().Add(5*time.Second)))
			k, err := srv.ReadBatch(in)
			require.NoError(t, err)
			require.Equal(t, 1, k)
			in[0].Data = []byte("for you")
			_, err = srv.WriteBatch(in)
			require.NoError(t, err)

			assert.Equal(t, []int{11}, readyAfter(t, p))
			assert.Equal(t, []int{11}, readyAfter(t, p), "ready until read")
			k, err = clients[1].ReadBatch(in)
			require.NoError(t, err)
			require.Equal(t, 1, k)
			n, err = p.ready(make([]int, 8))
			require.NoError(t, err)
			assert.Zero(t, n, "read empty: no longer ready")

			require.NoError(t, p.remove(clients[1]))
			assert.ErrorIs(t, p.remove(clients[1]), errNotPolled)
			require.NoError(t, p.close())
			_, err = p.ready(make([]int, 8))
			assert.ErrorIs(t, err, transport.ErrClosed)
			assert.ErrorIs(t, p.add(clients[0], 1), transport.ErrClosed)
		})
	}
}

// TestPollerRemoveAfterClose: a socket closed before Remove is simply
// forgotten.
func TestPollerRemoveAfterClose(t *testing.T) {
	p, err := newPoller()
	require.NoError(t, err)
	defer p.close()
	c, err := transport.Dial("127.0.0.1:9", transport.Config{})
	require.NoError(t, err)
	require.NoError(t, p.add(c, 1))
	require.NoError(t, c.Close())
	assert.NoError(t, p.remove(c))
	assert.ErrorIs(t, p.add(c, 1), transport.ErrClosed)
}
