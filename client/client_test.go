package client_test

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/examples/echo"
)

// echoServer runs an echo server on a socket wrapped by a netsim
// PacketConn (perfect until a test changes it).
func echoServer(t *testing.T) (*server.Server, *conn.PrivateKey, *netsim.PacketConn) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	ctx, err := server.NewContext(echo.NewHandler(nil), root)
	require.NoError(t, err)
	ctx.SetLogger(slog.New(slog.DiscardHandler))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	link := netsim.NewPacketConn(pc, netsim.Profile{}, netsim.Profile{}, 1)
	srv, err := server.NewWithConn(ctx, link)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, root, link
}

func pump(c *client.Client, timeout time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.Update()
		if done() {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return done()
}

func connect(t *testing.T, srv *server.Server, key *conn.PublicKey) *client.Client {
	t.Helper()
	c := client.New(key)
	var ok *bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(r bool) { ok = &r }))
	t.Cleanup(c.ForceDisconnect)
	pump(c, 3*time.Second, func() bool { return ok != nil })
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	return c
}

func TestBeforeConnect(t *testing.T) {
	c := client.New(nil)
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.False(t, c.Connected())
	assert.Zero(t, c.Token())
	assert.Nil(t, c.Stats())
	assert.Zero(t, c.Latency())
	assert.NoError(t, c.Err())
	assert.False(t, c.HasMessages())
	_, err := c.GetMessage()
	assert.ErrorIs(t, err, client.ErrNoMessage)
	assert.Nil(t, c.GetMessages())
	assert.ErrorIs(t, c.Send([]byte("x"), conn.RetryNone, nil), client.ErrNotConnected)
	c.Update() // no-op
	c.Disconnect()
	c.WaitForDisconnect()
	c.ForceDisconnect()
	assert.Error(t, c.Connect("no-such-host.invalid:1", nil))
	assert.Error(t, c.Connect("missing port", nil))
}

func TestMessagesAndGetMessage(t *testing.T) {
	srv, root, _ := echoServer(t)
	c := connect(t, srv, root.Public())
	for _, m := range []string{"one", "two", "three"} {
		require.NoError(t, c.Send([]byte(m), conn.RetryOnTimeout, nil))
	}
	// Read them one by one as they arrive.
	var got []string
	pump(c, 3*time.Second, func() bool {
		for c.HasMessages() {
			m, err := c.GetMessage()
			require.NoError(t, err)
			got = append(got, string(m.Data))
			assert.NotZero(t, m.Seq)
		}
		return len(got) == 3
	})
	assert.ElementsMatch(t, []string{"one", "two", "three"}, got)
	_, err := c.GetMessage()
	assert.ErrorIs(t, err, client.ErrNoMessage)
}

// burst is a handler that answers "burst" with 40 guaranteed messages,
// which the server sends one datagram per tick.
type burst struct{ server.BaseHandler }

func (burst) HandleMessage(c *server.Client, _ conn.Seq, msg []byte) {
	if string(msg) != "burst" {
		return
	}
	for i := 0; i < 40; i++ {
		m := make([]byte, 1000)
		m[0] = byte(i)
		if err := c.SendGuaranteed(m, nil); err != nil {
			panic(err)
		}
	}
}

// TestUpdateReadsEveryWaitingDatagram: a game that skipped frames catches
// up in one Update (the reference reads one datagram per update).
func TestUpdateReadsEveryWaitingDatagram(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	ctx, err := server.NewContext(burst{}, root)
	require.NoError(t, err)
	ctx.SetLogger(slog.New(slog.DiscardHandler))
	srv, err := server.New(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	c := connect(t, srv, root.Public())
	require.NoError(t, c.SendGuaranteed([]byte("burst"), nil))
	pump(c, time.Second, func() bool { return c.QueuedBytes() == 0 })
	// No Update for a second: about 40 datagrams pile up.
	time.Sleep(time.Second)
	before := c.Stats().Received
	c.Update()
	read := c.Stats().Received - before
	assert.Greater(t, read, uint64(20), "one Update read %d datagrams", read)
	got := len(c.GetMessages())
	pump(c, 2*time.Second, func() bool { got += len(c.GetMessages()); return got == 40 })
	assert.Equal(t, 40, got)
}

func TestConnectToNothingFails(t *testing.T) {
	// A port with nothing behind it: the hellos vanish (or bounce).
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	c := client.New(nil)
	c.SetHandshakeTimeout(300 * time.Millisecond)
	var result *bool
	require.NoError(t, c.Connect(addr, func(ok bool) { result = &ok }))
	defer c.ForceDisconnect()
	pump(c, 3*time.Second, func() bool { return result != nil })
	require.NotNil(t, result)
	assert.False(t, *result)
	assert.ErrorIs(t, c.Err(), conn.ErrHandshakeTimeout)
}

// TestSettingsBeforeConnectApply: the reference ignores a keep-alive
// interval set before connect; ours applies it.
func TestSettingsBeforeConnectApply(t *testing.T) {
	srv, root, _ := echoServer(t)
	c := client.New(root.Public())
	c.SetKeepAliveInterval(20 * time.Millisecond)
	var ok bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(r bool) { ok = r }))
	defer c.ForceDisconnect()
	pump(c, 3*time.Second, func() bool { return ok })
	require.True(t, ok)
	sent := c.Stats().Assembled
	pump(c, time.Second, func() bool { return false })
	// About 50 keep-alives a second instead of 10.
	assert.Greater(t, c.Stats().Assembled-sent, uint64(25))
}

func TestConnectionTimeoutWhenServerGoesSilent(t *testing.T) {
	srv, root, link := echoServer(t)
	c := client.New(root.Public())
	c.SetConnectionTimeout(400 * time.Millisecond)
	var ok bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(r bool) { ok = r }))
	defer c.ForceDisconnect()
	pump(c, 3*time.Second, func() bool { return ok })
	require.True(t, ok)
	link.SetProfiles(netsim.Profile{Loss: 1}, netsim.Profile{Loss: 1})
	pump(c, 3*time.Second, func() bool { return c.Status().Closed() })
	assert.Equal(t, conn.Dropped, c.Status())
	assert.ErrorIs(t, c.Err(), conn.ErrTimeout)
}

func TestWaitForDisconnectReturnsWhenServerIsGone(t *testing.T) {
	srv, root, link := echoServer(t)
	c := connect(t, srv, root.Public())
	var cb []bool
	link.SetProfiles(netsim.Profile{Loss: 1}, netsim.Profile{Loss: 1})
	require.NoError(t, c.SendGuaranteed([]byte("Gnever"), func(ok bool) { cb = append(cb, ok) }))
	t0 := time.Now()
	c.WaitForDisconnect()
	assert.Less(t, time.Since(t0), 2*time.Second, "bounded by the 1 s disconnect timeout")
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.ErrorIs(t, c.Err(), conn.ErrCloseTimeout)
	assert.Equal(t, []bool{false}, cb)
}

func TestForceDisconnect(t *testing.T) {
	srv, root, _ := echoServer(t)
	c := connect(t, srv, root.Public())
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
	require.NoError(t, c.Connect(srv.Addr().String(), func(ok bool) { again = &ok }))
	pump(c, 3*time.Second, func() bool { return again != nil })
	require.NotNil(t, again)
	assert.True(t, *again)
	assert.NotEqual(t, first, c.LocalAddr())
}

func TestSendBeforeHandshakeCompletes(t *testing.T) {
	srv, root, _ := echoServer(t)
	c := client.New(root.Public())
	require.NoError(t, c.Connect(srv.Addr().String(), nil))
	defer c.ForceDisconnect()
	// Queued while connecting: goes out after the handshake.
	require.NoError(t, c.SendGuaranteed([]byte("Gearly"), nil))
	var got []string
	pump(c, 3*time.Second, func() bool {
		for _, m := range c.GetMessages() {
			got = append(got, string(m.Data))
		}
		return len(got) == 1
	})
	assert.Equal(t, []string{"Gearly"}, got)
}

// BenchmarkUpdateIdle is the cost of Update for a connected client with
// nothing to send or read: what a game pays per frame when idle.
func BenchmarkUpdateIdle(b *testing.B) {
	root, err := conn.GenerateKey(nil)
	require.NoError(b, err)
	ctx, err := server.NewContext(server.BaseHandler{}, root)
	require.NoError(b, err)
	ctx.SetLogger(slog.New(slog.DiscardHandler))
	srv, err := server.New(ctx, "127.0.0.1:0")
	require.NoError(b, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	c := client.New(root.Public())
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
