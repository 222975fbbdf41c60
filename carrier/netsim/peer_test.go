package netsim_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
)

// TestPeerProfiles: one peer behind a link that loses everything while
// another's is perfect, until its profile is cleared.
func TestPeerProfiles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		raw, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		srv := netsim.Wrap(raw, netsim.Profile{}, netsim.Profile{}, 1)
		defer srv.Close()
		a, err := net.Dial(srv.LocalAddr())
		require.NoError(t, err)
		b, err := net.Dial(srv.LocalAddr())
		require.NoError(t, err)
		srv.SetPeerProfiles(a.LocalAddr(), netsim.Profile{Loss: 1}, netsim.Profile{Loss: 1})

		count := func(c transport.Conn) int {
			time.Sleep(10 * time.Millisecond)
			ds := make([]transport.Datagram, 64)
			for i := range ds {
				ds[i].Data = make([]byte, 0, 16)
			}
			n, err := c.ReadBatch(ds)
			require.NoError(t, err)
			return n
		}
		for range 10 {
			_, err := srv.WriteBatch([]transport.Datagram{{Data: []byte("to a"), Addr: a.LocalAddr()}, {Data: []byte("to b"), Addr: b.LocalAddr()}})
			require.NoError(t, err)
			_, err = a.WriteBatch([]transport.Datagram{{Data: []byte("from a")}})
			require.NoError(t, err)
			_, err = b.WriteBatch([]transport.Datagram{{Data: []byte("from b")}})
			require.NoError(t, err)
		}
		assert.Equal(t, 0, count(a), "a's link loses everything sent to it")
		assert.Equal(t, 10, count(b), "b's is perfect")
		assert.Equal(t, 10, count(srv), "only b's datagrams arrive")

		srv.ClearPeerProfiles(a.LocalAddr())
		_, err = srv.WriteBatch([]transport.Datagram{{Data: []byte("to a"), Addr: a.LocalAddr()}})
		require.NoError(t, err)
		assert.Equal(t, 1, count(a))
	})
}
