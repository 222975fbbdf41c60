package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/internal/crypto"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/server"
)

// echoing makes a recorder echo every message back, guaranteed when it
// starts with 'G'.
func echoing(r *recorder) *recorder {
	r.onMessage = func(c *server.Client, msg []byte) {
		retry := conn.RetryNone
		if len(msg) > 0 && msg[0] == 'G' {
			retry = conn.RetryOnTimeout
		}
		if err := c.Send(msg, retry, nil); err != nil {
			panic(err)
		}
	}
	return r
}

func TestConnectEchoDisconnect(t *testing.T) {
	r := echoing(newRecorder())
	f := startServer(t, r)
	c := f.connect()
	tok := c.Token()
	assert.NotZero(t, tok)
	waitFor(t, "connect event", func() bool { return r.has(fmt.Sprintf("connect %d", tok)) })

	require.NoError(t, c.Send([]byte("hello"), conn.RetryOnTimeout, nil))
	got := collect(c, 1, 3*time.Second)
	require.Equal(t, [][]byte{[]byte("hello")}, got)
	assert.Equal(t, [][]byte{[]byte("hello")}, r.messages(tok))

	c.WaitForDisconnect()
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.ErrorIs(t, c.Err(), conn.ErrLocalClose)
	assert.NotErrorIs(t, c.Err(), conn.ErrCloseTimeout, "the server acknowledged the DISCONNECT")
	waitFor(t, "disconnect event", func() bool { return r.has(fmt.Sprintf("disconnect %d", tok)) })
	assert.ErrorIs(t, r.reason(tok), conn.ErrPeerClosed)
	assert.Equal(t, []string{"starting", fmt.Sprintf("connect %d", tok), fmt.Sprintf("disconnect %d", tok)}, r.snapshot())

	f.srv.Stop()
	<-f.srv.Done()
	assert.Equal(t, "shutdown", r.snapshot()[3], "Shutdown comes last")
}

func TestManyMessagesInOneFrame(t *testing.T) {
	r := echoing(newRecorder())
	f := startServer(t, r)
	c := f.connect()
	var want []string
	for i := 0; i < 300; i++ {
		m := fmt.Sprintf("message %03d", i)
		want = append(want, m)
		require.NoError(t, c.Send([]byte(m), conn.RetryOnTimeout, nil))
	}
	got := collect(c, 300, 5*time.Second)
	var gs []string
	for _, g := range got {
		gs = append(gs, string(g))
	}
	assert.ElementsMatch(t, want, gs)
	// 300 x (11 + 5) bytes need 4 packets of at most 1434 payload bytes.
	assert.LessOrEqual(t, c.Stats().Assembled, uint64(20))
}

// TestReplyLeavesInTheSameTick checks that a reply sent from HandleMessage
// goes out at the end of the tick that received the message, not in a
// later one, so an echo's round trip is at most one tick. A tick runs:
// receive (HandleMessage), Update, send. Ticks are 300 ms apart, so the
// echo reaches the client right after that tick's Update and long before
// the next tick starts; a reply held back a tick would arrive about 300 ms
// after the Update, or after one more Update. The 150 ms bound is half a
// tick of slack for a loaded machine, not a speed requirement.
func TestReplyLeavesInTheSameTick(t *testing.T) {
	const interval = 300 * time.Millisecond
	r := newRecorder()
	var arrivedAt []int         // Update count when each message was handled
	var updateTimes []time.Time // when each Update ran
	r.onMessage = func(c *server.Client, msg []byte) {
		r.mu.Lock()
		arrivedAt = append(arrivedAt, r.updates)
		r.mu.Unlock()
		if err := c.Send(msg, conn.RetryNone, nil); err != nil {
			panic(err)
		}
	}
	r.onUpdate = func() {
		r.mu.Lock()
		updateTimes = append(updateTimes, time.Now())
		r.mu.Unlock()
	}
	f := setup(t, r, "")
	f.ctx.SetInterval(interval)
	f.start("127.0.0.1:0")
	c := f.connect()
	for i := 0; i < 3; i++ {
		require.NoError(t, c.Send([]byte{'e', byte(i)}, conn.RetryNone, nil))
		got := collect(c, 1, 3*time.Second)
		echoed := time.Now()
		require.Len(t, got, 1, "echo %d", i)
		r.mu.Lock()
		handled, seen := arrivedAt[i], len(updateTimes)
		tickUpdate := updateTimes[handled] // the Update of the tick that handled it
		r.mu.Unlock()
		assert.Equal(t, handled+1, seen, "echo %d arrived %d Updates after its message", i, seen-handled)
		assert.Less(t, echoed.Sub(tickUpdate), interval/2, "echo %d left after its tick", i)
	}
}

func TestFragmentsBothWays(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 100_000/16)
	r := newRecorder()
	r.onConnect = func(c *server.Client) {
		if err := c.SendGuaranteed(big, nil); err != nil {
			panic(err)
		}
	}
	f := startServer(t, r)
	c := f.connect()
	up := append([]byte("G"), bytes.Repeat([]byte{0xA5}, 60_000)...)
	var acked atomic.Bool
	require.NoError(t, c.SendGuaranteed(up, func(ok bool) { acked.Store(ok) }))
	got := collect(c, 1, 10*time.Second)
	require.Len(t, got, 1)
	assert.True(t, bytes.Equal(big, got[0]), "server to client: 100 KB byte-exact")
	pump(c, 5*time.Second, func() bool { return acked.Load() })
	assert.True(t, acked.Load())
	waitFor(t, "60 KB message", func() bool { return len(r.messages(c.Token())) == 1 })
	assert.True(t, bytes.Equal(up, r.messages(c.Token())[0]), "client to server: 60 KB byte-exact")
}

// TestGuaranteedDeliveryOverLossyLink runs the server on a socket that
// drops 20% of datagrams each way, duplicates 10% and reorders: every
// guaranteed message comes back exactly once and every callback reports
// true once.
func TestGuaranteedDeliveryOverLossyLink(t *testing.T) {
	r := echoing(newRecorder())
	f := setup(t, r, "")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	bad := netsim.Profile{Loss: 0.2, Duplicate: 0.1, Delay: 5 * time.Millisecond, Jitter: 10 * time.Millisecond, Reorder: 0.05, ReorderDelay: 40 * time.Millisecond}
	lossy := netsim.NewPacketConn(pc, bad, bad, 42)
	srv, err := server.NewWithConn(f.ctx, lossy)
	require.NoError(t, err)
	f.run(srv)

	var c *client.Client
	for attempt := 0; attempt < 5; attempt++ { // a lost handshake fails the attempt
		cc, ok := f.dial(f.root.Public())
		if ok {
			c = cc
			break
		}
	}
	require.NotNil(t, c, "could not connect over the lossy link")
	const n = 300
	want := map[string]bool{}
	var cbTrue, cbFalse atomic.Int32
	for i := 0; i < n; i++ {
		size := 20 + (i*37)%300
		if i%50 == 0 {
			size = 5000 // fragmented
		}
		m := append([]byte(fmt.Sprintf("G%04d:", i)), bytes.Repeat([]byte{byte(i)}, size)...)
		want[string(m)] = true
		require.NoError(t, c.SendGuaranteed(m, func(ok bool) {
			if ok {
				cbTrue.Add(1)
			} else {
				cbFalse.Add(1)
			}
		}))
	}
	counts := map[string]int{}
	pump(c, 60*time.Second, func() bool {
		for _, m := range c.GetMessages() {
			counts[string(m.Data)]++
		}
		return len(counts) == n && cbTrue.Load()+cbFalse.Load() == n
	})
	pump(c, 500*time.Millisecond, func() bool {
		for _, m := range c.GetMessages() {
			counts[string(m.Data)]++
		}
		return false
	})
	out, in := lossy.Stats()
	t.Logf("server link out %+v in %+v", out, in)
	assert.Greater(t, out.Dropped+in.Dropped, uint64(10), "the link did lose datagrams")
	assert.Greater(t, out.Duplicated+in.Duplicated, uint64(5), "the link did duplicate datagrams")
	require.Len(t, counts, n, "echoes missing")
	for m, k := range counts {
		require.True(t, want[m], "unexpected message")
		require.Equal(t, 1, k, "an echo arrived %d times", k)
	}
	assert.EqualValues(t, n, cbTrue.Load())
	assert.Zero(t, cbFalse.Load())
	waitFor(t, "server got each message once", func() bool { return len(r.messages(c.Token())) == n })
}

func TestServerDisconnectsClient(t *testing.T) {
	r := newRecorder()
	r.onMessage = func(c *server.Client, msg []byte) {
		if string(msg) == "kick me" {
			c.Disconnect()
			assert.ErrorIs(t, c.Send([]byte("too late"), conn.RetryNone, nil), conn.ErrNotConnected)
		}
	}
	f := startServer(t, r)
	c := f.connect()
	require.NoError(t, c.Send([]byte("kick me"), conn.RetryNone, nil))
	pump(c, 3*time.Second, func() bool { return c.Status().Closed() })
	assert.Equal(t, conn.Disconnected, c.Status())
	assert.ErrorIs(t, c.Err(), conn.ErrPeerClosed)
	waitFor(t, "disconnect event", func() bool { return r.has(fmt.Sprintf("disconnect %d", c.Token())) })
	assert.ErrorIs(t, r.reason(c.Token()), conn.ErrLocalClose)
}

func TestConnectionTimeoutDropsSilentClient(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	f.ctx.SetConnectionTimeout(300 * time.Millisecond)
	f.start("127.0.0.1:0")
	c := f.connect()
	tok := c.Token()
	c.ForceDisconnect() // gone without a word
	waitFor(t, "disconnect event", func() bool { return r.has(fmt.Sprintf("disconnect %d", tok)) })
	assert.ErrorIs(t, r.reason(tok), conn.ErrTimeout)
}

func TestTempConnectionTimeout(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	// Long enough for a once-a-second snapshot to see the pending client.
	f.ctx.SetTempConnectionTimeout(1500 * time.Millisecond)
	f.start("127.0.0.1:0")
	// A real CLIENT_HELLO from a socket that never answers the challenge.
	cc, err := conn.NewClient(&conn.Config{}, time.Now())
	require.NoError(t, err)
	s := rawSocket(t, f.srv)
	_, err = s.Write(cc.Poll(time.Now(), nil))
	require.NoError(t, err)
	// The server answers with its SERVER_HELLO...
	require.NoError(t, s.SetReadDeadline(time.Now().Add(2*time.Second)))
	buf := make([]byte, 2048)
	n, err := s.Read(buf)
	require.NoError(t, err)
	h, err := protocol.ParseHeader(buf[:n])
	require.NoError(t, err)
	assert.Equal(t, protocol.TypeServerHello, h.Type)
	snap := func() server.Snapshot {
		var sn server.Snapshot
		f.srv.Snapshot(&sn)
		return sn
	}
	// ...keeps the half-open client in its temporary pool, then drops it.
	waitFor(t, "pending handshake", func() bool { return snap().Pending == 1 })
	waitFor(t, "handshake to expire", func() bool { return snap().Pending == 0 })
	assert.Equal(t, []string{"starting"}, r.snapshot(), "no events for a client that never connected")
}

func TestBlockList(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	f.ctx.SetBlockList([]netip.Addr{netip.MustParseAddr("127.0.0.1")})
	f.start("127.0.0.1:0")
	c := client.New(f.root.Public())
	c.SetHandshakeTimeout(300 * time.Millisecond)
	var result *bool
	require.NoError(t, c.Connect(f.srv.Addr().String(), func(ok bool) { result = &ok }))
	defer c.ForceDisconnect()
	pump(c, 3*time.Second, func() bool { return result != nil })
	require.NotNil(t, result)
	assert.False(t, *result)
	var sn server.Snapshot
	waitFor(t, "blocked count", func() bool { f.srv.Snapshot(&sn); return sn.Stats.Blocked > 0 })
	assert.Zero(t, sn.Stats.DatagramsIn, "blocked datagrams never reach the tick loop")

	f.ctx.SetBlockList(nil)
	c2 := f.connect()
	assert.True(t, c2.Connected())
}

func TestWrongPinnedKey(t *testing.T) {
	r := newRecorder()
	f := startServer(t, r)
	other, err := crypto.GenerateKey(nil)
	require.NoError(t, err)
	c := client.New(other.Public())
	var result *bool
	connected := false
	require.NoError(t, c.Connect(f.srv.Addr().String(), func(ok bool) { result = &ok }))
	defer c.ForceDisconnect()
	pump(c, 5*time.Second, func() bool {
		connected = connected || c.Connected()
		return result != nil
	})
	require.NotNil(t, result)
	assert.False(t, *result)
	assert.False(t, connected)
	assert.ErrorIs(t, c.Err(), conn.ErrBadSignature)
	assert.Equal(t, []string{"starting"}, r.snapshot())
}

func TestIPv6(t *testing.T) {
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	pc.Close()
	r := echoing(newRecorder())
	f := setup(t, r, "").start("[::1]:0")
	assert.True(t, f.srv.Addr().Addr().Is6())
	c := f.connect()
	require.NoError(t, c.Send([]byte("over ipv6"), conn.RetryOnTimeout, nil))
	assert.Equal(t, [][]byte{[]byte("over ipv6")}, collect(c, 1, 3*time.Second))
	r.mu.Lock()
	sc := r.clients[c.Token()]
	r.mu.Unlock()
	assert.True(t, sc.Addr().Addr().Is6())
	assert.Equal(t, "::1", sc.Addr().Addr().String())
}

func TestPanickingHandlerKeepsServing(t *testing.T) {
	r := echoing(newRecorder())
	echo := r.onMessage
	r.onMessage = func(c *server.Client, msg []byte) {
		if string(msg) == "boom" {
			panic("the game exploded")
		}
		echo(c, msg)
	}
	var updates atomic.Int32
	r.onUpdate = func() {
		if updates.Add(1) == 3 {
			panic("update exploded")
		}
	}
	f := startServer(t, r)
	a := f.connect()
	b := f.connect()
	require.NoError(t, a.Send([]byte("boom"), conn.RetryOnTimeout, nil))
	require.NoError(t, b.Send([]byte("still here"), conn.RetryOnTimeout, nil))
	assert.Equal(t, [][]byte{[]byte("still here")}, collect(b, 1, 3*time.Second))
	require.NoError(t, a.Send([]byte("and me"), conn.RetryOnTimeout, nil))
	assert.Equal(t, [][]byte{[]byte("and me")}, collect(a, 1, 3*time.Second))
	var sn server.Snapshot
	waitFor(t, "panics counted", func() bool { f.srv.Snapshot(&sn); return sn.Stats.HandlerPanics == 2 })
	logs := f.log.String()
	assert.Contains(t, logs, "handler panicked")
	assert.Contains(t, logs, "the game exploded")
	assert.Contains(t, logs, fmt.Sprintf("client=%s token=%d", a.LocalAddr(), a.Token()), "logged with the client's context")
	assert.Contains(t, logs, "event=Update")
}

func TestGracefulStop(t *testing.T) {
	r := newRecorder()
	f := startServer(t, r)
	a, b := f.connect(), f.connect()
	waitFor(t, "both connected", func() bool { return len(r.snapshot()) == 3 })
	f.srv.Stop()
	<-f.srv.Done()
	for _, c := range []*client.Client{a, b} {
		pump(c, 2*time.Second, func() bool { return c.Status().Closed() })
		assert.Equal(t, conn.Disconnected, c.Status(), "the client got a DISCONNECT")
		assert.ErrorIs(t, c.Err(), conn.ErrPeerClosed)
	}
	ev := r.snapshot()
	require.Len(t, ev, 6)
	assert.ElementsMatch(t, []string{fmt.Sprintf("disconnect %d", a.Token()), fmt.Sprintf("disconnect %d", b.Token())}, ev[3:5])
	assert.Equal(t, "shutdown", ev[5])
	assert.ErrorIs(t, r.reason(a.Token()), conn.ErrLocalClose)
}

func TestContextShutdown(t *testing.T) {
	r := newRecorder()
	f := startServer(t, r)
	f.ctx.Shutdown()
	select {
	case <-f.srv.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("Context.Shutdown did not stop the server")
	}
	assert.Equal(t, []string{"starting", "shutdown"}, r.snapshot())
}

func TestUnknownAddressGetsNoAnswer(t *testing.T) {
	r := newRecorder()
	f := startServer(t, r)
	s := rawSocket(t, f.srv)
	keepAlive := protocol.Header{Direction: protocol.ToServer, Seq: 1, Type: protocol.TypeKeepAlive}
	badHello := protocol.Header{Direction: protocol.ToServer, Seq: 1, Type: protocol.TypeClientHello, Count: 1, Length: 1414}
	for _, d := range [][]byte{
		append(keepAlive.AppendTo(nil), make([]byte, 16)...),  // not a hello: unexpected
		keepAlive.AppendTo(nil),                               // no room for its tag: junk
		[]byte("hello?"),                                      // no header: junk
		bytes.Repeat([]byte{0}, 1438),                         // bad magic: junk
		append(badHello.AppendTo(nil), make([]byte, 1418)...), // a hello with a bad CRC
	} {
		_, err := s.Write(d)
		require.NoError(t, err)
	}
	require.NoError(t, s.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, err := s.Read(make([]byte, 2048))
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "the server answered: %v", err)
	var sn server.Snapshot
	waitFor(t, "drops counted", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Stats.DatagramsIn+sn.Stats.Junk == 5
	})
	assert.EqualValues(t, 3, sn.Stats.Junk, "dropped by the reader before they were copied")
	assert.EqualValues(t, 2, sn.Stats.DatagramsIn)
	assert.EqualValues(t, 1, sn.Stats.Unexpected)
	assert.EqualValues(t, 1, sn.Stats.HandshakeInvalid)
	assert.Zero(t, sn.Pending)
}

// TestKernelDropsAreCountedAndLogged stalls the event goroutine while a
// flood overfills the socket's receive buffer, and checks that the
// datagrams the system dropped show up in the stats and the log, with the
// buffer size the server got.
func TestKernelDropsAreCountedAndLogged(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the system reports its drops (SO_RXQ_OVFL) on Linux")
	}
	r := newRecorder()
	var stall atomic.Bool
	stalled, release := make(chan struct{}, 1), make(chan struct{})
	r.onUpdate = func() {
		if stall.CompareAndSwap(true, false) {
			stalled <- struct{}{}
			<-release
		}
	}
	f := startServer(t, r)
	var sn server.Snapshot
	waitFor(t, "the first snapshot", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Ticks.Last() > 0
	})
	require.Positive(t, sn.Stats.RecvBuffer, "the buffer size the system reports")
	require.Positive(t, sn.Stats.SendBuffer)
	assert.Contains(t, f.log.String(), "recv_buffer=")

	stall.Store(true)
	<-stalled
	s := rawSocket(t, f.srv)
	junk := []byte("not a packet")
	// Every datagram takes at least 256 bytes of the buffer's budget.
	flood := sn.Stats.RecvBuffer/256 + 1000
	for range flood {
		if _, err := s.Write(junk); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	// The drop count comes with the first datagram queued after the
	// drops, and the stats are published once a second.
	waitFor(t, "kernel drops in the stats", func() bool {
		_, _ = s.Write(junk)
		f.srv.Snapshot(&sn)
		return sn.Stats.KernelDrops > 0
	})
	assert.Less(t, sn.Stats.KernelDrops, uint64(flood))
	assert.Contains(t, f.log.String(), "receive buffer overflowed")
	waitFor(t, "every datagram read or counted as dropped", func() bool {
		f.srv.Snapshot(&sn)
		return sn.Stats.DatagramsIn+sn.Stats.Junk+sn.Stats.KernelDrops >= uint64(flood)
	})
}

func TestAccessLog(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	path := filepath.Join(t.TempDir(), "access.log")
	require.NoError(t, f.ctx.EnableAccessLogs(path))
	f.start("127.0.0.1:0")
	c := f.connect()
	port := c.LocalAddr().Port()
	c.WaitForDisconnect()
	waitFor(t, "disconnect", func() bool { return r.has(fmt.Sprintf("disconnect %d", c.Token())) })
	f.srv.Stop()
	<-f.srv.Done()
	access, err := os.ReadFile(path)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	assert.Contains(t, string(access), "msg=connect client="+addr)
	assert.Contains(t, string(access), "msg=disconnect client="+addr)
	assert.NotContains(t, f.log.String(), addr, "the main log carries no client address")
	assert.Contains(t, f.log.String(), "client connected")
}

func TestPostRunsOnEventGoroutine(t *testing.T) {
	r := newRecorder()
	f := startServer(t, r)
	c := f.connect()
	// The client counts itself connected at the SERVER_HELLO; the server
	// connects it at the CHALLENGE_RESP, a moment later.
	waitFor(t, "connect event", func() bool { return r.has(fmt.Sprintf("connect %d", c.Token())) })
	done := make(chan error, 1)
	f.srv.Post(func() {
		r.mu.Lock()
		sc := r.clients[c.Token()]
		r.mu.Unlock()
		done <- sc.Send([]byte("from another goroutine"), conn.RetryOnTimeout, nil)
	})
	require.NoError(t, <-done)
	assert.Equal(t, [][]byte{[]byte("from another goroutine")}, collect(c, 1, 3*time.Second))
}

func TestSnapshot(t *testing.T) {
	r := echoing(newRecorder())
	f := startServer(t, r)
	c := f.connect()
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		require.NoError(t, c.Send([]byte("tick"), conn.RetryNone, nil))
		pump(c, 10*time.Millisecond, func() bool { return false })
		c.GetMessages()
	}
	var sn server.Snapshot
	f.srv.Snapshot(&sn)
	assert.Equal(t, f.srv.Addr(), sn.Addr)
	assert.Equal(t, 1, sn.Connections)
	require.Len(t, sn.ClientRows, 1)
	row := sn.ClientRows[0]
	assert.Equal(t, c.Token(), row.Token)
	assert.Equal(t, c.LocalAddr(), row.Addr)
	// Rates depend on how busy the machine is; check they are there and
	// consistent, not how fast they are.
	assert.Positive(t, row.PktsIn)
	assert.Positive(t, row.BytesOut)
	assert.Equal(t, sn.PktsIn.At(sn.Second), row.PktsIn, "one client: its rate is the server's")
	assert.Greater(t, sn.Assembled, uint64(0))
	assert.Greater(t, row.AckedPercent(), 50.0)
	ticks := sn.Ticks.At(sn.Second)
	assert.True(t, ticks >= 1 && ticks <= 62, "ticks in second %d: %d, at most 60 and a little", sn.Second, ticks)
	// The four phases cover every tick of the second from start to end, so
	// they add up to a second, give or take the tick that straddles.
	busy := sn.Messages.At(sn.Second) + sn.Update.At(sn.Second) + sn.Network.At(sn.Second) + sn.Idle.At(sn.Second)
	assert.InDelta(t, 1e6, busy, 3e5, "the four phases add up to about a second")
	assert.Positive(t, sn.BytesOut.At(sn.Second))
	assert.EqualValues(t, 1, sn.Clients.At(sn.Second))
	var cp server.Snapshot
	sn.CopyTo(&cp)
	assert.Equal(t, sn.Ticks.Values(nil), cp.Ticks.Values(nil))
}

func TestHandshakePoolLimit(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	f.ctx.SetMaxPendingHandshakes(1)
	f.start("127.0.0.1:0")
	// Two half-open handshakes from clients that cannot answer a cookie
	// (the reference's): the second does not fit the pool.
	for i := 0; i < 2; i++ {
		cc, err := conn.NewClient(&conn.Config{PlainHello: true}, time.Now())
		require.NoError(t, err)
		s := rawSocket(t, f.srv)
		_, err = s.Write(cc.Poll(time.Now(), nil))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
	}
	var sn server.Snapshot
	waitFor(t, "second hello rejected", func() bool { f.srv.Snapshot(&sn); return sn.Stats.HandshakeRejected == 1 })
	assert.Equal(t, 1, sn.Pending)
}

func TestNewErrors(t *testing.T) {
	_, err := server.NewContext(nil, nil)
	assert.Error(t, err)
	ctx, err := server.NewContext(newRecorder(), nil)
	require.NoError(t, err)
	assert.NotNil(t, ctx.RootKey(), "a root key is generated")
	_, err = server.New(ctx, "not an address")
	assert.ErrorContains(t, err, "not an address")
	srv, err := server.New(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	_, err = server.New(ctx, srv.Addr().String())
	assert.Error(t, err, "port in use")
	assert.NoError(t, srv.Close())
	assert.True(t, strings.HasPrefix(srv.Addr().String(), "127.0.0.1:"))
}

func TestInstallSignalsStopsGracefully(t *testing.T) {
	r := newRecorder()
	f := setup(t, r, "")
	srv, err := server.New(f.ctx, "127.0.0.1:0")
	require.NoError(t, err)
	srv.InstallSignals()
	f.run(srv)
	c := f.connect()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case <-srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	pump(c, 2*time.Second, func() bool { return c.Status().Closed() })
	assert.ErrorIs(t, c.Err(), conn.ErrPeerClosed, "the client was told")
	ev := r.snapshot()
	assert.Equal(t, "shutdown", ev[len(ev)-1])
	assert.Contains(t, f.log.String(), "signal=terminated")
}
