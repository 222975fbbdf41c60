package client_test

import (
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
	"github.com/mpgs/mpgameserver/server"
)

// Most tests run a server and the client on an in-memory network inside a
// testing/synctest bubble (fake time); the server's link can be made to
// lose everything. One test uses real sockets.

// echo answers every message, guaranteed when it starts with 'G', and
// "burst" with 40 guaranteed messages of 1,000 bytes.
type echo struct{ server.BaseHandler }

func (echo) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	if string(msg) == "burst" {
		for i := 0; i < 40; i++ {
			m := make([]byte, 1000)
			m[0] = byte(i)
			p.SendGuaranteed(m, nil)
		}
		return
	}
	retry := conn.RetryNone
	if len(msg) > 0 && msg[0] == 'G' {
		retry = conn.RetryOnTimeout
	}
	p.Send(msg, retry, nil)
}

type world struct {
	srv  *server.Server
	key  *conn.PrivateKey
	link *netsim.Conn // the server's link: perfect until a test changes it
	net  *transport.Network
}

func key(t testing.TB) *conn.PrivateKey {
	k, err := conn.LoadPrivateKey("../internal/vectors/testdata/server_root.key.pem")
	require.NoError(t, err)
	return k
}

// start runs an echo server on an in-memory network; call it in a bubble.
func start(t *testing.T) *world {
	t.Helper()
	w := &world{key: key(t), net: transport.NewNetwork()}
	sock, err := w.net.Listen(netip.MustParseAddrPort("10.9.9.9:1474"))
	require.NoError(t, err)
	w.link = netsim.Wrap(sock, netsim.Profile{}, netsim.Profile{}, 1)
	w.srv, err = server.NewWithConn(server.Config{Handler: echo{}, RootKey: w.key, Logger: slog.New(slog.DiscardHandler)}, w.link)
	require.NoError(t, err)
	go w.srv.Run()
	t.Cleanup(func() { w.srv.Stop(); <-w.srv.Done() })
	return w
}

func (w *world) client(mod func(*client.Config)) *client.Client {
	cfg := client.Config{ServerKey: w.key.Public(), Dial: func(addr string) (transport.Conn, error) {
		return w.net.Dial(netip.MustParseAddrPort(addr))
	}}
	if mod != nil {
		mod(&cfg)
	}
	return client.New(cfg)
}

// connect returns a connected client.
func (w *world) connect(t *testing.T, mod func(*client.Config)) *client.Client {
	t.Helper()
	c := w.client(mod)
	var ok *bool
	require.NoError(t, c.Connect(w.srv.Addr().String(), func(r bool) { ok = &r }))
	t.Cleanup(c.ForceDisconnect)
	pump(c, 3*time.Second, func() bool { return ok != nil })
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	return c
}

// pump calls Update every 2 ms (a frame) until done or limit.
func pump(c *client.Client, limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c.Update()
		if done() {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return done()
}

func TestBeforeConnect(t *testing.T) {
	c := client.New(client.Config{})
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.False(t, c.Connected())
	assert.Zero(t, c.Token())
	assert.Zero(t, c.Stats())
	assert.Zero(t, c.Latency())
	assert.NoError(t, c.Err())
	assert.False(t, c.HasMessages())
	_, err := c.Message()
	assert.ErrorIs(t, err, client.ErrNoMessage)
	assert.Nil(t, c.Messages())
	assert.ErrorIs(t, c.Send([]byte("x"), conn.RetryNone, nil), client.ErrNotConnected)
	c.Update() // no-op
	c.Disconnect()
	c.WaitForDisconnect()
	c.ForceDisconnect()
	assert.Error(t, c.Connect("no-such-host.invalid:1", nil))
	assert.Error(t, c.Connect("missing port", nil))
}

func TestMessageAndMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.connect(t, nil)
		for _, m := range []string{"one", "two", "three"} {
			require.NoError(t, c.Send([]byte(m), conn.RetryOnTimeout, nil))
		}
		// Read them one by one as they arrive.
		var got []string
		pump(c, 3*time.Second, func() bool {
			for c.HasMessages() {
				m, err := c.Message()
				require.NoError(t, err)
				got = append(got, string(m.Data))
				assert.NotZero(t, m.Seq)
			}
			return len(got) == 3
		})
		assert.ElementsMatch(t, []string{"one", "two", "three"}, got)
		_, err := c.Message()
		assert.ErrorIs(t, err, client.ErrNoMessage)
	})
}

// TestUpdateReadsEveryWaitingDatagram: a game that skipped frames catches
// up in one Update (the reference reads one datagram per update). It runs
// in a bubble: the server ticks on the fake clock, so what piles up while
// the game skips its frames is the same on any machine, and
// synctest.Wait lets the server finish before the game looks.
func TestUpdateReadsEveryWaitingDatagram(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		var sock transport.Conn // the client's socket
		c := w.connect(t, func(cfg *client.Config) {
			cfg.Dial = func(addr string) (transport.Conn, error) {
				s, err := w.net.Dial(netip.MustParseAddrPort(addr))
				sock = s
				return s, err
			}
		})
		require.NoError(t, c.SendGuaranteed([]byte("burst"), nil))
		pump(c, time.Second, func() bool { return c.QueuedBytes() == 0 })
		// No Update for a second: the server sends (and, unacknowledged,
		// resends) the burst a datagram a tick, 60 ticks.
		time.Sleep(time.Second)
		synctest.Wait()
		before := c.Stats().Received
		c.Update()
		read := c.Stats().Received - before
		assert.Greater(t, read, uint64(20), "one Update read %d datagrams", read)
		left, err := sock.ReadBatch(make([]transport.Datagram, 1))
		require.NoError(t, err)
		assert.Zero(t, left, "the Update left a datagram waiting")
		// The acks of that Update let the rest of the burst come.
		got := len(c.Messages())
		pump(c, 3*time.Second, func() bool { got += len(c.Messages()); return got == 40 })
		assert.Equal(t, 40, got)
	})
}

func TestConnectToNothingFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.client(func(c *client.Config) { c.HandshakeTimeout = 300 * time.Millisecond })
		var result *bool
		// No server listens on this address: the hellos vanish.
		require.NoError(t, c.Connect("10.9.9.9:1475", func(ok bool) { result = &ok }))
		defer c.ForceDisconnect()
		t0 := time.Now()
		pump(c, 3*time.Second, func() bool { return result != nil })
		require.NotNil(t, result)
		assert.False(t, *result)
		assert.ErrorIs(t, c.Err(), conn.ErrHandshakeTimeout)
		assert.Less(t, time.Since(t0), time.Second, "after the 300 ms configured")
	})
}

// TestConfigApplies: the reference ignores a keep-alive interval set
// before connect; ours is fixed in Config and applies.
func TestConfigApplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.connect(t, func(c *client.Config) {
			c.KeepAliveInterval, c.IdleKeepAliveInterval = 20*time.Millisecond, 20*time.Millisecond
		})
		sent := c.Stats().Assembled
		pump(c, time.Second, func() bool { return false })
		// About 50 keep-alives a second instead of 10.
		assert.InDelta(t, 50, c.Stats().Assembled-sent, 5)
	})
}

func TestConnectionTimeoutWhenServerGoesSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.connect(t, func(c *client.Config) { c.ConnectionTimeout = 400 * time.Millisecond })
		w.link.SetProfiles(netsim.Profile{Loss: 1}, netsim.Profile{Loss: 1})
		t0 := time.Now()
		pump(c, 3*time.Second, func() bool { return c.Status().Closed() })
		assert.Equal(t, conn.Dropped, c.Status())
		assert.ErrorIs(t, c.Err(), conn.ErrTimeout)
		assert.InDelta(t, 400*time.Millisecond, time.Since(t0), float64(50*time.Millisecond))
	})
}

func TestWaitForDisconnectReturnsWhenServerIsGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.connect(t, nil)
		var cb []bool
		w.link.SetProfiles(netsim.Profile{Loss: 1}, netsim.Profile{Loss: 1})
		require.NoError(t, c.SendGuaranteed([]byte("Gnever"), func(ok bool) { cb = append(cb, ok) }))
		t0 := time.Now()
		c.WaitForDisconnect()
		assert.LessOrEqual(t, time.Since(t0), session.DefaultDisconnectTimeout+100*time.Millisecond, "bounded by the disconnect timeout")
		assert.Equal(t, conn.Disconnected, c.Status())
		assert.ErrorIs(t, c.Err(), conn.ErrCloseTimeout)
		assert.Equal(t, []bool{false}, cb)
	})
}

func TestForceDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.connect(t, nil)
		var cb []bool
		require.NoError(t, c.SendGuaranteed([]byte("Gpending"), func(ok bool) { cb = append(cb, ok) }))
		c.ForceDisconnect()
		assert.Equal(t, []bool{false}, cb)
		assert.Equal(t, conn.Disconnected, c.Status())
		c.Update() // harmless after the socket is gone
		assert.Error(t, c.Send([]byte("x"), conn.RetryNone, nil))

		// Connecting again uses a new socket.
		first := c.LocalAddr()
		var again *bool
		require.NoError(t, c.Connect(w.srv.Addr().String(), func(ok bool) { again = &ok }))
		pump(c, 3*time.Second, func() bool { return again != nil })
		require.NotNil(t, again)
		assert.True(t, *again)
		assert.NotEqual(t, first, c.LocalAddr())
	})
}

func TestSendBeforeHandshakeCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t)
		c := w.client(nil)
		require.NoError(t, c.Connect(w.srv.Addr().String(), nil))
		defer c.ForceDisconnect()
		// Queued while connecting: goes out after the handshake.
		require.NoError(t, c.SendGuaranteed([]byte("Gearly"), nil))
		var got []string
		pump(c, 3*time.Second, func() bool {
			for _, m := range c.Messages() {
				got = append(got, string(m.Data))
			}
			return len(got) == 1
		})
		assert.Equal(t, []string{"Gearly"}, got)
	})
}

// TestRealSocket connects over a real UDP socket on the loopback (the
// default Dial).
func TestRealSocket(t *testing.T) {
	k := key(t)
	srv, err := server.New(server.Config{Handler: echo{}, RootKey: k, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	c := client.New(client.Config{ServerKey: k.Public()})
	var ok *bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(r bool) { ok = &r }))
	defer c.ForceDisconnect()
	pump(c, 10*time.Second, func() bool { return ok != nil })
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	assert.True(t, c.LocalAddr().Addr().IsLoopback())
	require.NoError(t, c.SendGuaranteed([]byte("Greal"), nil))
	var got []client.Message
	pump(c, 10*time.Second, func() bool { got = append(got, c.Messages()...); return len(got) == 1 })
	require.Len(t, got, 1)
	assert.Equal(t, "Greal", string(got[0].Data))
	c.WaitForDisconnect()
	assert.ErrorIs(t, c.Err(), conn.ErrLocalClose)
}

// BenchmarkUpdateIdle is the cost of Update for a connected client with
// nothing to send or read, on a real socket: what a game pays per frame
// when idle.
func BenchmarkUpdateIdle(b *testing.B) {
	k := key(b)
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, RootKey: k, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(b, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	c := client.New(client.Config{ServerKey: k.Public()})
	var ok bool
	require.NoError(b, c.Connect(srv.Addr().String(), func(r bool) { ok = r }))
	defer c.ForceDisconnect()
	pump(c, 3*time.Second, func() bool { return ok })
	require.True(b, ok)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Update()
	}
}
