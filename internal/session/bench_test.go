package session

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// benchPair is a connected client and server whose timers are far away, so
// a benchmark can run for millions of fake seconds.
func benchPair(b testing.TB) (client, server *Conn, now time.Time) {
	return benchPairWith(b, nil)
}

// benchPairWith is benchPair with the server's configuration changed by
// mod.
func benchPairWith(b testing.TB, mod func(*Config)) (client, server *Conn, now time.Time) {
	return newBenchPair(b, nil, mod)
}

// benchPairTimeout is benchPair whose unacknowledged packets time out
// after d of fake time, which keeps the in-flight lists short.
func benchPairTimeout(b testing.TB, d time.Duration) (client, server *Conn, now time.Time) {
	timeout := func(c *Config) { c.MessageTimeout = d }
	return newBenchPair(b, timeout, timeout)
}

// newBenchPair makes a connected pair whose client and server
// configurations are changed by modClient and modServer. Its times carry
// a monotonic clock reading, as the times a running server or client
// takes from time.Now do (subtracting them is cheaper), with a fixed wall
// clock.
func newBenchPair(b testing.TB, modClient, modServer func(*Config)) (client, server *Conn, now time.Time) {
	mono := time.Now()
	now = mono.Add(time.Unix(1_700_000_000, 0).Sub(mono))
	r := newReplay(b)
	ccfg, scfg := r.clientConfig(), r.serverConfig()
	for _, c := range []*Config{ccfg, scfg} {
		c.ConnectionTimeout = 100 * 365 * 24 * time.Hour
		c.MessageTimeout = time.Hour
	}
	if modClient != nil {
		modClient(ccfg)
	}
	if modServer != nil {
		modServer(scfg)
	}
	client, err := NewClient(ccfg, now)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err = NewServer(scfg, now, uint32(r.hs.Token), client.Poll(now, buf))
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Receive(now, server.Poll(now, buf)); err != nil {
		b.Fatal(err)
	}
	now = now.Add(20 * time.Millisecond)
	if err := server.Receive(now, client.Poll(now, buf)); err != nil {
		b.Fatal(err)
	}
	// The server's keep-alive acknowledges the challenge response.
	now = now.Add(100 * time.Millisecond)
	if err := client.Receive(now, server.Poll(now, buf)); err != nil {
		b.Fatal(err)
	}
	if n := client.PendingAcks(); n != 0 {
		b.Fatalf("handshake left %d packets unacknowledged", n)
	}
	return client, server, now
}

// batch is the messages of one benchmark datagram.
type batch struct {
	name string
	msgs [][]byte
}

func benchBatches() []batch {
	full := make([][]byte, 14) // 14 x (97 + 5) = 1428 of 1434 payload bytes
	for i := range full {
		full[i] = make([]byte, 97)
	}
	return []batch{
		{"1x100B", [][]byte{make([]byte, 100)}},
		{"14x97B", full},
		{"1x1432B", [][]byte{make([]byte, protocol.MaxSingleMessage)}},
	}
}

// BenchmarkSendPoll measures the send path: queue the messages of one
// datagram, then Poll builds, numbers, frames and seals it. One op is one
// datagram.
func BenchmarkSendPoll(b *testing.B) {
	for _, bt := range benchBatches() {
		b.Run(bt.name, func(b *testing.B) {
			// Unacknowledged packets time out after a second of fake time,
			// which keeps the in-flight list at about 60 packets.
			client, _, now := benchPairTimeout(b, time.Second)
			buf := make([]byte, 0, protocol.MaxDatagramSize)
			step := time.Second / 60
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(step)
				for _, m := range bt.msgs {
					if err := client.Send(m, conn.RetryNone, nil); err != nil {
						b.Fatal(err)
					}
				}
				d := client.Poll(now, buf)
				if d == nil {
					b.Fatalf("no datagram at %d", i)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
		})
	}
}

// BenchmarkReceive measures the receive path: parse the header, check the
// windows, decrypt, validate the payload, process acks, filter duplicate
// messages and hand each message to the handler. One op is one datagram.
func BenchmarkReceive(b *testing.B) {
	for _, bt := range benchBatches() {
		b.Run(bt.name, func(b *testing.B) {
			client, server, now := benchPair(b)
			// A full cycle of the packet seq ring, so datagrams can be
			// replayed in order forever.
			const ring = 65535
			dgs := make([][]byte, ring)
			buf := make([]byte, 0, protocol.MaxDatagramSize)
			for i := range dgs {
				now = now.Add(time.Second / 60)
				for _, m := range bt.msgs {
					if err := client.Send(m, conn.RetryNone, nil); err != nil {
						b.Fatal(err)
					}
				}
				dgs[i] = append([]byte(nil), client.Poll(now, buf)...)
				if i%1000 == 999 { // keep the client's in-flight list short
					client.tx.inflight = packetRing{}
				}
			}
			delivered := 0
			server.SetHandler(func(protocol.Seq, []byte) { delivered++ })
			in := make([]byte, protocol.RecvBufferSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i > 0 && i%ring == 0 {
					// Another turn of the ring is a replay of the first,
					// which the anti-replay windows refuse: forget them, as
					// if a new connection sent the same datagrams.
					server.seq.replay.InitIn(replayWidth, protocol.DefaultFilterAhead, server.bits.replay[:])
					server.seq.recvMsgs.InitIn(server.cfg.MessageWindow, protocol.DefaultFilterAhead, server.bits.recvMsgs[:])
					server.seq.newestCTime = 0
				}
				d := dgs[i%ring]
				n := copy(in, d) // what a socket read does
				if err := server.Receive(now, in[:n]); err != nil {
					b.Fatalf("datagram %d: %v", i, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
			if delivered != b.N*len(bt.msgs) {
				b.Fatalf("delivered %d of %d", delivered, b.N*len(bt.msgs))
			}
		})
	}
}

// echoPairs makes n connected pairs whose servers echo every message.
func echoPairs(b *testing.B, n int) (clients, servers []*Conn, now time.Time) {
	clients = make([]*Conn, n)
	servers = make([]*Conn, n)
	for i := range clients {
		clients[i], servers[i], now = benchPairTimeout(b, time.Second)
		s := servers[i]
		s.SetHandler(func(_ protocol.Seq, msg []byte) {
			if err := s.Send(msg, conn.RetryNone, nil); err != nil {
				b.Fatal(err)
			}
		})
	}
	shareConfig(servers)
	return clients, servers, now
}

// shareConfig makes servers share the first one's configuration, as a
// server's connections do (Resolve). Their configurations differ in their
// handshake's random source only, which is done with.
func shareConfig(servers []*Conn) {
	shared := servers[0].cfg
	shared.shared = true
	for _, s := range servers {
		s.cfg = shared
	}
}

// BenchmarkEcho measures one echo round between many connection pairs, as
// a server with that many clients does it: the client queues a 100-byte
// message and sends it, the server receives it and echoes it, the client
// receives the echo. The pairs are served in turn, so with many of them
// each round finds its connections' state out of the CPU cache, as a
// server does. One op is one round: two datagrams.
func BenchmarkEcho(b *testing.B) {
	for _, n := range []int{1, 4096} {
		b.Run(fmt.Sprintf("pairs=%d", n), func(b *testing.B) {
			clients, servers, now := echoPairs(b, n)
			echoes := 0
			for _, c := range clients {
				c.SetHandler(func(protocol.Seq, []byte) { echoes++ })
			}
			msg := make([]byte, 100)
			buf := make([]byte, 0, protocol.MaxDatagramSize)
			in := make([]byte, protocol.RecvBufferSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % n
				if k == 0 {
					now = now.Add(time.Second / 60)
				}
				c, s := clients[k], servers[k]
				if err := c.Send(msg, conn.RetryNone, nil); err != nil {
					b.Fatal(err)
				}
				d := c.Poll(now, buf)
				if err := s.Receive(now, in[:copy(in, d)]); err != nil {
					b.Fatal(err)
				}
				d = s.Poll(now, buf)
				if err := c.Receive(now, in[:copy(in, d)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
			if echoes != b.N {
				b.Fatalf("%d echoes of %d", echoes, b.N)
			}
		})
	}
}

// BenchmarkTick is the server's side of a tick of n echoes, in the order a
// server runs them: every connection receives its client's datagram (the
// echo is queued by the handler), then every connection builds its reply,
// each pass in its own shuffled order. Between two visits of a connection
// the others went by, so above a few thousand connections each visit finds
// the connection's state out of the CPU caches, as a busy server does.
// ns/echo is the server's time alone (the clients' work is left out).
//
// tickReceive and tickPoll are not inlined so that a cache simulator can
// be told to count inside them only (examples/echo/loadtest/cachelines.sh).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{256, 4096} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			clients, servers, now := echoPairs(b, n)
			for _, c := range clients {
				c.SetHandler(func(protocol.Seq, []byte) {})
			}
			rng := rand.New(rand.NewPCG(1, 2))
			recvOrder, pollOrder := rng.Perm(n), rng.Perm(n)
			msg := make([]byte, 64)
			in := make([][]byte, n)
			out := make([][]byte, n)
			for i := range in {
				in[i] = make([]byte, 0, protocol.MaxDatagramSize)
				out[i] = make([]byte, 0, protocol.MaxDatagramSize)
			}
			var server time.Duration
			tick := func() {
				now = now.Add(time.Second / 60)
				for k, c := range clients {
					if err := c.Send(msg, conn.RetryNone, nil); err != nil {
						b.Fatal(err)
					}
					in[k] = c.Poll(now, in[k][:0])
				}
				start := time.Now()
				tickReceive(b, servers, recvOrder, in, now)
				tickPoll(servers, pollOrder, out, now)
				server += time.Since(start)
				for k, c := range clients {
					if err := c.Receive(now, out[k]); err != nil {
						b.Fatal(err)
					}
				}
			}
			runtime.GC()  // no collection left running from the setup's garbage
			for range 3 { // the first ticks grow the queues and the rings
				tick()
			}
			server = 0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				tick()
			}
			b.ReportMetric(float64(server.Nanoseconds())/float64(b.N*n), "ns/echo")
		})
	}
}

// prefetchAhead prefetches the connections after order[i] as a server
// does (server/prefetch.go): step k for the connection PrefetchSteps-k
// visits ahead.
func prefetchAhead(servers []*Conn, order []int, i int, pass Pass) {
	for k := range PrefetchSteps {
		if j := i + PrefetchSteps - k; j < len(order) {
			servers[order[j]].PrefetchStep(k, pass)
		}
	}
}

//go:noinline
func tickReceive(b *testing.B, servers []*Conn, order []int, in [][]byte, now time.Time) {
	for i, k := range order {
		prefetchAhead(servers, order, i, Receiving)
		if err := servers[k].Receive(now, in[k]); err != nil {
			b.Fatal(err)
		}
	}
}

//go:noinline
func tickPoll(servers []*Conn, order []int, out [][]byte, now time.Time) {
	for i, k := range order {
		prefetchAhead(servers, order, i, Polling)
		out[k] = servers[k].Poll(now, out[k][:0])
	}
}
