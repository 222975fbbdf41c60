package client_test

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// slowOpen is a socket that takes time to open, as a WebRTC data channel
// does: until the test opens it, what is written is dropped (and
// counted), and a read reports the failure the test set, if any.
type slowOpen struct {
	transport.Conn
	open    atomic.Bool
	dropped atomic.Int64
	err     atomic.Pointer[error]
}

func (s *slowOpen) Opened() bool { return s.open.Load() }

func (s *slowOpen) WriteBatch(ds []transport.Datagram) (int, error) {
	if !s.open.Load() {
		s.dropped.Add(int64(len(ds)))
		return len(ds), nil
	}
	return s.Conn.WriteBatch(ds)
}

func (s *slowOpen) ReadBatch(ds []transport.Datagram) (int, error) {
	if err := s.err.Load(); err != nil {
		return 0, *err
	}
	return s.Conn.ReadBatch(ds)
}

// connectSlow starts a client connecting to w's server through a
// slowOpen, and returns it, its socket and where its connect callback
// puts the outcome.
func connectSlow(t *testing.T, w *world) (*client.Client, *slowOpen, **bool) {
	c, sock := slowClient(t, w)
	result := new(*bool)
	require.NoError(t, c.Connect("10.9.9.9:1474", func(ok bool) { *result = &ok }))
	t.Cleanup(c.ForceDisconnect)
	return c, sock, result
}

// slowClient returns a client whose socket is a slowOpen, and the socket.
func slowClient(t *testing.T, w *world) (*client.Client, *slowOpen) {
	sock := new(slowOpen)
	c := w.client(func(c *client.Config) {
		c.Dial = func(addr string) (transport.Conn, error) {
			inner, err := w.net.Dial(netip.MustParseAddrPort(addr))
			if err != nil {
				return nil, err
			}
			sock.Conn = inner
			return sock, nil
		}
	})
	return c, sock
}

// A carrier slower to open than the handshake timeout (a browser on a
// busy machine) does not fail the handshake: it starts when the carrier
// has opened, and nothing is sent before.
func TestHandshakeWaitsForTheCarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, sock, res := connectSlow(t, start(t))

		pump(c, 3*defaultHandshake, func() bool { return *res != nil })
		assert.Nil(t, *res, "the handshake ran out while the carrier was opening")
		assert.Equal(t, conn.Connecting, c.Status())
		assert.Zero(t, sock.dropped.Load(), "hellos went to a carrier that was not open")

		sock.open.Store(true)
		require.True(t, pump(c, time.Second, func() bool { return *res != nil }))
		assert.True(t, **res)
		assert.True(t, c.Connected())
	})
}

// defaultHandshake is the client's default handshake timeout.
const defaultHandshake = 2 * time.Second

// A carrier that fails while opening ends the connection at once with
// its reason, and the connect callback hears false.
func TestCarrierFailingToOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, sock, res := connectSlow(t, start(t))
		pump(c, 100*time.Millisecond, func() bool { return false })
		require.Nil(t, *res)

		broken := transport.Broken(errors.New("the data channel did not open"))
		sock.err.Store(&broken)
		t0 := time.Now()
		require.True(t, pump(c, time.Second, func() bool { return *res != nil }))
		assert.False(t, **res)
		assert.ErrorIs(t, c.Err(), transport.ErrBroken)
		assert.Less(t, time.Since(t0), 100*time.Millisecond, "the failure waited for a timeout")
		assert.True(t, c.Status().Closed())
	})
}
