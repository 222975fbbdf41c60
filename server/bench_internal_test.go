package server

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
)

// benchEcho answers each message with itself, untracked, as the echo
// game does, without the echo game's counts.
type benchEcho struct{ BaseHandler }

func (benchEcho) HandleMessage(p *Peer, _ conn.Seq, msg []byte) {
	_ = p.Send(msg, conn.RetryNone, nil)
}

// benchConn is the server's socket in benchWorld: clients put their
// datagrams in its queue, and the server's go to the clients' boxes. It
// copies each datagram once, as a socket does, and allocates nothing, so
// that what the benchmark counts is the server's.
type benchConn struct {
	in      []transport.Datagram // queued for the server, from head on
	head    int
	clients []benchClient
}

// benchAddr is the address of client i: 10.x.y.z, a host of its own.
func benchAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 5000)
}

func (c *benchConn) ReadBatch(ds []transport.Datagram) (int, error) {
	n := 0
	for ; n < len(ds) && c.head < len(c.in); n++ {
		d := &c.in[c.head]
		ds[n].Data = append(ds[n].Data[:0], d.Data...)
		ds[n].Addr = d.Addr
		c.head++
	}
	if c.head == len(c.in) { // all read: the buffers are free again
		c.in, c.head = c.in[:0], 0
	}
	return n, nil
}

func (c *benchConn) WriteBatch(ds []transport.Datagram) (int, error) {
	for _, d := range ds {
		b := d.Addr.Addr().As4()
		i := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if b[0] != 10 || i >= len(c.clients) {
			continue
		}
		cl := &c.clients[i]
		if len(cl.box) < cap(cl.box) {
			cl.box = cl.box[:len(cl.box)+1]
			m := &cl.box[len(cl.box)-1]
			m.Data = append(m.Data[:0], d.Data...)
		}
	}
	return len(ds), nil
}

func (c *benchConn) Wait(time.Time) error { return nil }
func (c *benchConn) LocalAddr() netip.AddrPort {
	return netip.MustParseAddrPort("127.0.0.1:1474")
}
func (c *benchConn) Stats() transport.Stats { return transport.Stats{} }
func (c *benchConn) Close() error           { return nil }

// benchClient is one client of benchWorld: a connection's state machine
// and the datagrams the server sent it.
type benchClient struct {
	sess *session.Conn
	box  []transport.Datagram
}

// benchWorld is a server with n clients, stepped tick by tick on a fake
// clock by the benchmark itself: the server's tick is the one its loop
// runs (serverTick), without the loop's sleeps.
type benchWorld struct {
	s   *Server
	c   *benchConn
	now time.Time
}

// datagrams returns n empty datagrams of a socket's capacity.
func datagrams(n int) []transport.Datagram {
	ds := make([]transport.Datagram, n)
	for i := range ds {
		ds[i].Data = make([]byte, 0, transport.RecvSize)
	}
	return ds
}

func newBenchWorld(b testing.TB, n int) *benchWorld {
	return newTickWorld(b, n, Config{Handler: benchEcho{}})
}

// newTickWorld returns a benchWorld of n connected clients whose server
// has cfg (its key, logger and handshake budget set here).
func newTickWorld(b testing.TB, n int, cfg Config) *benchWorld {
	b.Helper()
	key, err := conn.LoadPrivateKey("../internal/vectors/testdata/server_root.key.pem")
	if err != nil {
		b.Fatal(err)
	}
	c := &benchConn{in: datagrams(n + 64)[:0]}
	cfg.RootKey, cfg.Logger, cfg.HandshakeBudget = key, slog.New(slog.DiscardHandler), time.Second
	s, err := NewWithConn(cfg, c)
	if err != nil {
		b.Fatal(err)
	}
	if s.cookies, err = newCookieJar(); err != nil {
		b.Fatal(err)
	}
	// No goroutine signs hello templates ahead: the handshakes make
	// theirs, and the benchmark runs on this goroutine alone.
	w := &benchWorld{s: s, c: c, now: time.Now()}
	s.now, s.started = w.now, w.now
	ccfg := &session.Config{ServerKey: key.Public(), Logger: slog.New(slog.DiscardHandler)}
	for range n {
		sess, err := session.NewClient(ccfg, w.now)
		if err != nil {
			b.Fatal(err)
		}
		sess.SetHandler(func(conn.Seq, []byte) {})
		c.clients = append(c.clients, benchClient{sess: sess, box: datagrams(4)[:0]})
	}
	// Connect them, a few hundred at a time (the handshakes a tick takes
	// are bounded), in at most a minute of fake time.
	for t := 0; w.connected() < n; t++ {
		if t > 3600 {
			b.Fatalf("%d of %d clients connected", w.connected(), n)
		}
		w.clientsSend(nil)
		w.serverTick()
		w.clientsReceive()
	}
	return w
}

func (w *benchWorld) connected() int {
	k := 0
	for _, c := range w.c.clients {
		if c.sess.Status() == conn.Connected {
			k++
		}
	}
	return k
}

// clientsSend has each client queue msg (none: nil) and send what is due,
// as far as the server's queue holds.
func (w *benchWorld) clientsSend(msg []byte) {
	c := w.c
	for i := range c.clients {
		cl := &c.clients[i]
		if msg != nil {
			if err := cl.sess.Send(msg, conn.RetryNone, nil); err != nil {
				panic(err)
			}
		}
		if len(c.in) == cap(c.in) {
			continue
		}
		c.in = c.in[:len(c.in)+1]
		d := &c.in[len(c.in)-1]
		if d.Data = cl.sess.Poll(w.now, d.Data[:0]); d.Data == nil {
			c.in = c.in[:len(c.in)-1]
			continue
		}
		d.Addr = benchAddr(i)
	}
}

// clientsReceive has each client take what the server sent it, and
// returns how many datagrams that was.
func (w *benchWorld) clientsReceive() int {
	got := 0
	for i := range w.c.clients {
		cl := &w.c.clients[i]
		for _, d := range cl.box {
			_ = cl.sess.Receive(w.now, d.Data)
		}
		got += len(cl.box)
		cl.box = cl.box[:0]
	}
	return got
}

// serverTick runs one tick of the server, as its loop does, at the
// world's clock, then moves the clock a tick on.
func (w *benchWorld) serverTick() {
	s := w.s
	s.now = w.now
	s.tickNo++
	s.runPosted()
	s.receive()
	s.callUpdate(s.cfg.Interval)
	s.network()
	w.now = w.now.Add(s.cfg.Interval)
}

// measuredTick is the tick BenchmarkServerTick times: a function of its
// own, which cachelines.sh names to count it alone.
//
//go:noinline
func (w *benchWorld) measuredTick() { w.serverTick() }

// warmUpTick is a tick before the measured ones (the server derives the
// clients' keys as their first data arrives, the queues grow).
//
//go:noinline
func (w *benchWorld) warmUpTick() { w.serverTick() }

// BenchmarkServerTick measures the server's side of one echo, as its tick
// does it for many clients at once: n clients each send a 64-byte message
// in one datagram, the server's tick receives them all, hands them to the
// game (which echoes each), and sends the echoes. The time is the server's
// tick only, per echo; the clients run outside it. With many clients,
// each tick finds the connections' state out of the CPU caches, as a busy
// server does. examples/echo/loadtest/cachelines.sh counts its cache
// lines.
func BenchmarkServerTick(b *testing.B) {
	for _, n := range []int{256, 4096} {
		var w *benchWorld // made once: the function runs for each b.N
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			if w == nil {
				w = newBenchWorld(b, n)
			}
			msg := make([]byte, 64)
			var server time.Duration
			tick := func(run func()) {
				w.clientsSend(msg)
				start := time.Now()
				run()
				server += time.Since(start)
				if got := w.clientsReceive(); got != n {
					b.Fatalf("%d echoes of %d", got, n)
				}
			}
			runtime.GC()
			for range 3 { // the first ticks grow the queues and the rings
				tick(w.warmUpTick)
			}
			server = 0
			b.ResetTimer()
			for range b.N {
				tick(w.measuredTick)
			}
			b.ReportMetric(float64(server.Nanoseconds())/float64(b.N*n), "ns/echo")
		})
	}
}
