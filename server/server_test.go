package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

func TestConnectEchoDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := echoing(newRecorder())
		w := start(t, r, nil)
		c := w.connect()
		tok := c.Token()
		assert.NotZero(t, tok)

		require.NoError(t, c.Send([]byte("hello"), conn.RetryOnTimeout, nil))
		require.Equal(t, [][]byte{[]byte("hello")}, collect(c, 1, 3*time.Second))
		assert.Equal(t, [][]byte{[]byte("hello")}, r.messages(tok))

		c.WaitForDisconnect()
		assert.Equal(t, conn.Disconnected, c.Status())
		assert.ErrorIs(t, c.Err(), conn.ErrLocalClose)
		assert.NotErrorIs(t, c.Err(), conn.ErrCloseTimeout, "the server acknowledged the DISCONNECT")
		waitFor(t, "disconnect event", time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", tok)) })
		assert.ErrorIs(t, r.reason(tok), conn.ErrPeerClosed)
		assert.Equal(t, []string{"starting", fmt.Sprintf("connect %d", tok), fmt.Sprintf("disconnect %d", tok)}, r.snapshot())

		w.srv.Stop()
		<-w.srv.Done()
		assert.Equal(t, "shutdown", r.snapshot()[3], "Shutdown comes last")
	})
}

func TestManyMessagesInOneFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, echoing(newRecorder()), nil)
		c := w.connect()
		var want []string
		for i := 0; i < 300; i++ {
			m := fmt.Sprintf("message %03d", i)
			want = append(want, m)
			require.NoError(t, c.Send([]byte(m), conn.RetryOnTimeout, nil))
		}
		var gs []string
		for _, g := range collect(c, 300, 5*time.Second) {
			gs = append(gs, string(g))
		}
		assert.ElementsMatch(t, want, gs)
		// 300 x (11 + 5) bytes need 4 packets of at most 1434 payload bytes.
		assert.LessOrEqual(t, c.Stats().Assembled, uint64(20))
	})
}

// TestReplyLeavesInTheSameTick: a reply sent from HandleMessage goes out
// at the end of the tick that received the message, so an echo costs at
// most one tick. (Fake time: the reply is on the network before the next
// tick starts.)
func TestReplyLeavesInTheSameTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 300 * time.Millisecond
		r := newRecorder()
		var handledAt []time.Time
		r.onMessage = func(p *server.Peer, msg []byte) {
			handledAt = append(handledAt, time.Now())
			if err := p.Send(msg, conn.RetryNone, nil); err != nil {
				panic(err)
			}
		}
		w := start(t, r, func(c *server.Config) { c.Interval = interval })
		c := w.connect()
		for i := 0; i < 3; i++ {
			require.NoError(t, c.Send([]byte{'e', byte(i)}, conn.RetryNone, nil))
			got := collect(c, 1, 3*time.Second)
			echoed := time.Now()
			require.Len(t, got, 1, "echo %d", i)
			assert.Less(t, echoed.Sub(handledAt[i]), interval/2, "echo %d left after its tick", i)
		}
	})
}

func TestFragmentsBothWays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), 100_000/16)
		r := newRecorder()
		r.onConnect = func(p *server.Peer) {
			if err := p.SendGuaranteed(big, nil); err != nil {
				panic(err)
			}
		}
		w := start(t, r, nil)
		c := w.connect()
		up := append([]byte("G"), bytes.Repeat([]byte{0xA5}, 60_000)...)
		var acked bool
		require.NoError(t, c.SendGuaranteed(up, func(ok bool) { acked = ok }))
		got := collect(c, 1, 10*time.Second)
		require.Len(t, got, 1)
		assert.True(t, bytes.Equal(big, got[0]), "server to client: 100 KB byte-exact")
		pump(c, 5*time.Second, func() bool { return acked })
		assert.True(t, acked)
		waitFor(t, "60 KB message", time.Second, func() bool { return len(r.messages(c.Token())) == 1 })
		assert.True(t, bytes.Equal(up, r.messages(c.Token())[0]), "client to server: 60 KB byte-exact")
	})
}

// TestGuaranteedDeliveryOverLossyLink runs the server behind a link that
// drops 20% of datagrams each way, duplicates 10% and reorders: every
// guaranteed message comes back exactly once and every callback reports
// true once.
func TestGuaranteedDeliveryOverLossyLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := echoing(newRecorder())
		bad := netsim.Profile{Loss: 0.2, Duplicate: 0.1, Delay: 5 * time.Millisecond, Jitter: 10 * time.Millisecond, Reorder: 0.05, ReorderDelay: 40 * time.Millisecond}
		w, lossy := startBehind(t, r, bad, 42)
		c := w.connectThrough(5)
		const n = 300
		want := map[string]bool{}
		var cbTrue, cbFalse int
		for i := 0; i < n; i++ {
			size := 20 + (i*37)%300
			if i%50 == 0 {
				size = 5000 // fragmented
			}
			m := append([]byte(fmt.Sprintf("G%04d:", i)), bytes.Repeat([]byte{byte(i)}, size)...)
			want[string(m)] = true
			require.NoError(t, c.SendGuaranteed(m, func(ok bool) {
				if ok {
					cbTrue++
				} else {
					cbFalse++
				}
			}))
		}
		counts := map[string]int{}
		take := func() {
			for _, m := range c.Messages() {
				counts[string(m.Data)]++
			}
		}
		pump(c, time.Minute, func() bool { take(); return len(counts) == n && cbTrue+cbFalse == n })
		pump(c, 500*time.Millisecond, func() bool { take(); return false })
		out, in := lossy.LinkStats()
		assert.Greater(t, out.Dropped+in.Dropped, uint64(10), "the link did lose datagrams")
		assert.Greater(t, out.Duplicated+in.Duplicated, uint64(5), "the link did duplicate datagrams")
		require.Len(t, counts, n, "echoes missing")
		for m, k := range counts {
			require.True(t, want[m], "unexpected message")
			require.Equal(t, 1, k, "an echo arrived %d times", k)
		}
		assert.Equal(t, n, cbTrue)
		assert.Zero(t, cbFalse)
		waitFor(t, "server got each message once", time.Second, func() bool { return len(r.messages(c.Token())) == n })
	})
}

func TestServerDisconnectsClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		r.onMessage = func(p *server.Peer, msg []byte) {
			if string(msg) == "kick me" {
				p.Disconnect()
				assert.ErrorIs(t, p.Send([]byte("too late"), conn.RetryNone, nil), conn.ErrNotConnected)
			}
		}
		w := start(t, r, nil)
		c := w.connect()
		require.NoError(t, c.Send([]byte("kick me"), conn.RetryNone, nil))
		pump(c, 3*time.Second, func() bool { return c.Status().Closed() })
		assert.Equal(t, conn.Disconnected, c.Status())
		assert.ErrorIs(t, c.Err(), conn.ErrPeerClosed)
		waitFor(t, "disconnect event", time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", c.Token())) })
		assert.ErrorIs(t, r.reason(c.Token()), conn.ErrLocalClose)
	})
}

// TestConnectionTimeoutApplies: a client that goes silent is dropped
// after the configured timeout, not the default. (With the old Context a
// timeout set after New and before Run was silently ignored; settings are
// now fixed in the Config that New takes.)
func TestConnectionTimeoutApplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, func(c *server.Config) { c.ConnectionTimeout = 300 * time.Millisecond })
		c := w.connect()
		tok := c.Token()
		c.ForceDisconnect() // gone without a word
		silent := time.Now()
		waitFor(t, "disconnect event", 5*time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", tok)) })
		assert.Less(t, time.Since(silent), time.Second, "dropped after the 300 ms configured, not the 5 s default")
		assert.ErrorIs(t, r.reason(tok), conn.ErrTimeout)
	})
}

// helloFrom returns a real CLIENT_HELLO of a client that will never answer.
func helloFrom(t *testing.T, plain bool) []transport.Datagram {
	cc, err := session.NewClient(&session.Config{PlainHello: plain}, time.Now())
	require.NoError(t, err)
	return []transport.Datagram{{Data: cc.Poll(time.Now(), nil)}}
}

func TestHandshakeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, func(c *server.Config) { c.HandshakeTimeout = 1500 * time.Millisecond })
		s := w.raw()
		_, err := s.WriteBatch(helloFrom(t, false))
		require.NoError(t, err)
		// The server answers with its SERVER_HELLO...
		require.NoError(t, s.Wait(time.Now().Add(time.Second)))
		ds := []transport.Datagram{{Data: make([]byte, 0, transport.RecvSize)}}
		n, err := s.ReadBatch(ds)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		h, err := protocol.ParseHeader(ds[0].Data)
		require.NoError(t, err)
		assert.Equal(t, protocol.TypeServerHello, h.Type)
		// ...keeps the half-open client in its temporary pool, then drops it.
		waitFor(t, "pending handshake", 2*time.Second, func() bool { return w.snapshot().Pending == 1 })
		waitFor(t, "handshake to expire", 3*time.Second, func() bool { return w.snapshot().Pending == 0 })
		assert.Equal(t, []string{"starting"}, r.snapshot(), "no events for a client that never connected")
	})
}

func TestBlockList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, func(c *server.Config) { c.BlockList = []netip.Addr{netip.MustParseAddr("10.0.0.1")} })
		blocked := w.newClient(func(c *client.Config) { c.HandshakeTimeout = 300 * time.Millisecond })
		assert.False(t, w.tryConnect(blocked), "the first client dialled is 10.0.0.1")
		assert.Equal(t, netip.MustParseAddr("10.0.0.1"), blocked.LocalAddr().Addr())
		sn := w.snapshot()
		waitFor(t, "blocked count", 2*time.Second, func() bool { sn = w.snapshot(); return sn.Stats.Blocked > 0 })
		assert.Zero(t, sn.Stats.DatagramsIn, "blocked datagrams never reach the tick loop")
		w.srv.SetBlockList(nil)
		assert.True(t, w.connect().Connected())
	})
}

func TestWrongPinnedKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, nil)
		other, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		c := w.newClient(func(c *client.Config) { c.ServerKey = other.Public() })
		assert.False(t, w.tryConnect(c))
		assert.ErrorIs(t, c.Err(), conn.ErrBadSignature)
		assert.Equal(t, []string{"starting"}, r.snapshot())
	})
}

func TestPanickingHandlerKeepsServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := echoing(newRecorder())
		echo := r.onMessage
		r.onMessage = func(p *server.Peer, msg []byte) {
			if string(msg) == "boom" {
				panic("the game exploded")
			}
			echo(p, msg)
		}
		var updates atomic.Int32
		r.onUpdate = func() {
			if updates.Add(1) == 3 {
				panic("update exploded")
			}
		}
		w := start(t, r, nil)
		a := w.connect()
		b := w.connect()
		require.NoError(t, a.Send([]byte("boom"), conn.RetryOnTimeout, nil))
		require.NoError(t, b.Send([]byte("still here"), conn.RetryOnTimeout, nil))
		assert.Equal(t, [][]byte{[]byte("still here")}, collect(b, 1, 3*time.Second))
		require.NoError(t, a.Send([]byte("and me"), conn.RetryOnTimeout, nil))
		assert.Equal(t, [][]byte{[]byte("and me")}, collect(a, 1, 3*time.Second))
		waitFor(t, "panics counted", 2*time.Second, func() bool { return w.snapshot().Stats.HandlerPanics == 2 })
		logs := w.log.String()
		assert.Contains(t, logs, "handler panicked")
		assert.Contains(t, logs, "the game exploded")
		assert.Contains(t, logs, fmt.Sprintf("client=%s token=%d", a.LocalAddr(), a.Token()), "logged with the client's context")
		assert.Contains(t, logs, "event=Update")
	})
}

func TestGracefulStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, nil)
		a, b := w.connect(), w.connect()
		w.srv.Stop()
		<-w.srv.Done()
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
	})
}

func TestServeStopsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		net := transport.NewNetwork()
		sock, err := net.Listen(netip.AddrPort{})
		require.NoError(t, err)
		srv, err := server.NewWithConn(server.Config{Handler: r, RootKey: vectorsKey(t)}, sock)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- srv.Serve(ctx) }()
		time.Sleep(time.Second)
		cancel()
		require.NoError(t, <-done)
		assert.Equal(t, []string{"starting", "shutdown"}, r.snapshot())
		assert.Error(t, srv.Serve(context.Background()), "a server serves once")
	})
}

func TestUnknownAddressGetsNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), nil)
		s := w.raw()
		keepAlive := protocol.Header{Direction: protocol.ToServer, Seq: 1, Type: protocol.TypeKeepAlive}
		badHello := protocol.Header{Direction: protocol.ToServer, Seq: 1, Type: protocol.TypeClientHello, Count: 1, Length: 1414}
		for _, d := range [][]byte{
			append(keepAlive.AppendTo(nil), make([]byte, 16)...),  // not a hello: unexpected
			keepAlive.AppendTo(nil),                               // no room for its tag: junk
			[]byte("hello?"),                                      // no header: junk
			bytes.Repeat([]byte{0}, 1438),                         // bad magic: junk
			append(badHello.AppendTo(nil), make([]byte, 1418)...), // a hello with a bad CRC
		} {
			_, err := s.WriteBatch([]transport.Datagram{{Data: d}})
			require.NoError(t, err)
		}
		require.NoError(t, s.Wait(time.Now().Add(3*time.Second)))
		n, err := s.ReadBatch(make([]transport.Datagram, 1))
		require.NoError(t, err)
		assert.Zero(t, n, "the server answered")
		var sn server.Snapshot
		waitFor(t, "drops counted", 2*time.Second, func() bool { sn = w.snapshot(); return sn.Stats.DatagramsIn+sn.Stats.Junk == 5 })
		assert.EqualValues(t, 3, sn.Stats.Junk, "dropped by the reader before they were copied")
		assert.EqualValues(t, 2, sn.Stats.DatagramsIn)
		assert.EqualValues(t, 1, sn.Stats.Unexpected)
		assert.EqualValues(t, 1, sn.Stats.HandshakeInvalid)
		assert.Zero(t, sn.Pending)
	})
}

func TestAccessLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		access := &syncbuf.Buffer{}
		w := start(t, r, func(c *server.Config) { c.AccessLog = slog.New(slog.NewTextHandler(access, nil)) })
		c := w.connect()
		addr := c.LocalAddr().String()
		c.WaitForDisconnect()
		waitFor(t, "disconnect", time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", c.Token())) })
		assert.Contains(t, access.String(), "msg=connect client="+addr)
		assert.Contains(t, access.String(), "msg=disconnect client="+addr)
		assert.NotContains(t, w.log.String(), addr, "the main log carries no client address")
		assert.Contains(t, w.log.String(), "client connected")
	})
}

func TestPostRunsOnEventGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, nil)
		c := w.connect()
		done := make(chan error, 1)
		w.srv.Post(func() {
			r.mu.Lock()
			p := r.peers[c.Token()]
			r.mu.Unlock()
			done <- p.Send([]byte("from another goroutine"), conn.RetryOnTimeout, nil)
		})
		require.NoError(t, <-done)
		assert.Equal(t, [][]byte{[]byte("from another goroutine")}, collect(c, 1, 3*time.Second))
	})
}

func TestSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, echoing(newRecorder()), nil)
		c := w.connect()
		deadline := time.Now().Add(2500 * time.Millisecond)
		for time.Now().Before(deadline) {
			require.NoError(t, c.Send([]byte("tick"), conn.RetryNone, nil))
			pump(c, 10*time.Millisecond, func() bool { return false })
			c.Messages()
		}
		sn := w.snapshot()
		assert.Equal(t, w.srv.Addr(), sn.Addr)
		assert.Equal(t, 1, sn.Connections)
		require.Len(t, sn.Peers, 1)
		row := sn.Peers[0]
		assert.Equal(t, c.Token(), row.Token)
		assert.Equal(t, c.LocalAddr(), row.Addr)
		assert.Positive(t, row.Stats.Received)
		assert.Positive(t, row.Stats.BytesSent)
		assert.Greater(t, sn.Assembled, uint64(0))
		assert.Greater(t, row.AckedPercent(), 50.0)
		// A second of fake time holds 60 ticks exactly, and their phases a
		// second between them.
		ls := sn.LastSecond
		assert.Equal(t, 60, ls.Ticks)
		assert.InDelta(t, float64(time.Second), float64(ls.Phase.Total()), float64(time.Second/60))
		assert.Positive(t, ls.DatagramsIn)
		assert.Positive(t, ls.BytesOut)
		assert.GreaterOrEqual(t, sn.Stats.Ticks, uint64(120))
		var cp server.Snapshot
		sn.CopyTo(&cp)
		assert.Equal(t, sn, cp)
	})
}

// TestPeerLabel: the game names its clients (Peer.SetLabel) and the
// snapshot carries the names for monitors, cleaned of what a hostile
// player could put in a name and cut to server.MaxLabel bytes.
func TestPeerLabel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := echoing(newRecorder())
		r.onMessage = func(p *server.Peer, msg []byte) { p.SetLabel(string(msg)) }
		w := start(t, r, nil)
		c := w.connect()
		for _, tc := range []struct{ name, want string }{
			{"alice", "alice"},
			{"  bob\x1b[31m \u200b\tthe\nbuilder\u0000 ", "bob[31m the builder"},
			{strings.Repeat("é", 20), strings.Repeat("é", 16)},
			{"\xff\xfe", ""},
		} {
			require.NoError(t, c.Send([]byte(tc.name), conn.RetryOnTimeout, nil))
			pump(c, 1100*time.Millisecond, func() bool { return false }) // a snapshot a second
			sn := w.snapshot()
			require.Len(t, sn.Peers, 1)
			assert.Equal(t, tc.want, sn.Peers[0].Label, "%q", tc.name)
			assert.LessOrEqual(t, len(sn.Peers[0].Label), server.MaxLabel)
		}
	})
}

// TestLongTicksCostNoTick: a game whose Update takes two and a half ticks
// every sixth tick still gets 60 ticks a second (the ticks after a long
// one run back to back until the schedule is met), on the fake clock.
func TestLongTicksCostNoTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		n := 0
		r.onUpdate = func() {
			if n++; n%6 == 0 {
				time.Sleep(40 * time.Millisecond) // the fake clock moves on
			}
		}
		start(t, r, nil)
		time.Sleep(time.Second) // settle on the schedule
		r.mu.Lock()
		before := r.updates
		r.mu.Unlock()
		time.Sleep(6 * time.Second)
		r.mu.Lock()
		ticks := r.updates - before
		r.mu.Unlock()
		assert.InDelta(t, 360, ticks, 2, "60 ticks a second")
	})
}

func TestHandshakePoolLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), func(c *server.Config) { c.MaxPendingHandshakes = 1 })
		// Two half-open handshakes from clients that cannot answer a
		// cookie (the reference's): the second does not fit the pool.
		for i := 0; i < 2; i++ {
			_, err := w.raw().WriteBatch(helloFrom(t, true))
			require.NoError(t, err)
			time.Sleep(50 * time.Millisecond)
		}
		var sn server.Snapshot
		waitFor(t, "second hello rejected", 2*time.Second, func() bool { sn = w.snapshot(); return sn.Stats.HandshakeRejected == 1 })
		assert.Equal(t, 1, sn.Pending)
	})
}

func TestConfigErrors(t *testing.T) {
	net := transport.NewNetwork()
	sock, err := net.Listen(netip.AddrPort{})
	require.NoError(t, err)
	_, err = server.NewWithConn(server.Config{}, sock)
	assert.ErrorContains(t, err, "Handler is required")
	_, err = server.NewWithConn(server.Config{Handler: newRecorder(), Interval: -time.Second}, sock)
	assert.ErrorContains(t, err, "Interval")
	_, err = server.NewWithConn(server.Config{Handler: newRecorder(), MaxMessageSize: conn.MaxMessageSize + 1}, sock)
	assert.ErrorContains(t, err, "MaxMessageSize")
	srv, err := server.NewWithConn(server.Config{Handler: newRecorder()}, sock)
	require.NoError(t, err)
	assert.NotNil(t, srv.RootKey(), "a root key is made")
	cfg := srv.Config()
	assert.Equal(t, server.DefaultInterval, cfg.Interval, "defaults filled in")
	assert.Equal(t, server.DefaultMemoryBudget, cfg.MemoryBudget)
	assert.NoError(t, srv.Close())
	_, err = server.New(server.Config{Handler: newRecorder()}, "not an address")
	assert.ErrorContains(t, err, "not an address")
	assert.True(t, strings.HasPrefix(sock.LocalAddr().String(), "127.0.0.1:"))
}

// TestSnapshotBeforeServe: a status page asked between New and the first
// tick shows the address and the settings, not zeros.
func TestSnapshotBeforeServe(t *testing.T) {
	sock, err := transport.NewNetwork().Listen(netip.MustParseAddrPort("127.0.0.1:1475"))
	require.NoError(t, err)
	srv, err := server.NewWithConn(server.Config{Handler: newRecorder(), MemoryBudget: 1 << 20, Logger: slog.New(slog.DiscardHandler)}, sock)
	require.NoError(t, err)
	defer srv.Close()
	var sn server.Snapshot
	srv.Snapshot(&sn)
	assert.Equal(t, srv.Addr(), sn.Addr)
	assert.Equal(t, int64(1<<20), int64(sn.MemoryBudget))
	assert.Positive(t, sn.Interval)
	assert.True(t, sn.Taken.IsZero(), "no tick has run")
}

// TestShutdownCountsDown: stopping with three clients logs each leaving
// with the count after it left (2, 1, 0), and waiting for goodbyes that
// never come is not a stall.
func TestShutdownCountsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := start(t, newRecorder(), nil)
		for range 3 {
			w.connect() // clients that never answer the DISCONNECT
		}
		w.srv.Stop()
		<-w.srv.Done()
		log := w.log.String()
		for _, n := range []string{"active=2", "active=1", "active=0"} {
			assert.Len(t, regexp.MustCompile(`msg="client disconnected".* `+n+`\n`).FindAllString(log, -1), 1, "%s in:\n%s", n, log)
		}
		assert.NotContains(t, log, "the event goroutine is stuck")
	})
}

// TestServing: what a readiness probe reads is false before Serve, true
// while serving, false again once a stop began.
func TestServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sock, err := transport.NewNetwork().Listen(netip.MustParseAddrPort("127.0.0.1:1476"))
		require.NoError(t, err)
		release := make(chan struct{})
		h := &blockingShutdown{release: release}
		srv, err := server.NewWithConn(server.Config{Handler: h, Logger: slog.New(slog.DiscardHandler)}, sock)
		require.NoError(t, err)
		assert.False(t, srv.Serving())
		go srv.Run()
		time.Sleep(100 * time.Millisecond)
		assert.True(t, srv.Serving())
		srv.Stop()
		synctest.Wait() // the server waits in Shutdown
		assert.False(t, srv.Serving(), "draining")
		close(release)
		<-srv.Done()
		assert.False(t, srv.Serving())
	})
}

// blockingShutdown holds Shutdown until release is closed.
type blockingShutdown struct {
	server.BaseHandler
	release chan struct{}
}

func (b *blockingShutdown) Shutdown() { <-b.release }

// TestBlockDisconnects: Block adds the address to the blocklist and
// disconnects its clients, whose Disconnect event runs; Peer finds a
// client by token on the event goroutine.
func TestBlockDisconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRecorder()
		w := start(t, r, nil)
		c := w.connect()
		found := make(chan bool, 1)
		tok := c.Token()
		w.srv.Post(func() { found <- w.srv.Peer(tok) != nil && w.srv.Peer(12345) == nil })
		assert.True(t, <-found)

		w.srv.Block(c.LocalAddr().Addr())
		assert.Equal(t, []netip.Addr{c.LocalAddr().Addr()}, w.srv.BlockList())
		pump(c, 3*time.Second, func() bool { return r.has(fmt.Sprintf("disconnect %d", c.Token())) })
		assert.True(t, r.has(fmt.Sprintf("disconnect %d", c.Token())), "the game heard of it")
		assert.True(t, w.srv.Blocked(c.LocalAddr().Addr()))
	})
}
