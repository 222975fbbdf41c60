package server_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// Most tests run the server and its clients on an in-memory network
// inside a testing/synctest bubble: time is fake, a test of many seconds
// of server life takes milliseconds, and nothing depends on the machine's
// speed. A few (socket_test.go) use real sockets on the loopback.

// recorder is an EventHandler that records its events. Tests read it from
// their own goroutine, hence the lock.
type recorder struct {
	mu        sync.Mutex
	events    []string
	msgs      map[uint32][][]byte
	peers     map[uint32]*server.Peer
	reasons   map[uint32]error
	onConnect func(p *server.Peer)
	onMessage func(p *server.Peer, msg []byte)
	onUpdate  func()
	updates   int
}

func newRecorder() *recorder {
	return &recorder{msgs: map[uint32][][]byte{}, peers: map[uint32]*server.Peer{}, reasons: map[uint32]error{}}
}

// echoing makes a recorder echo every message back, guaranteed when it
// starts with 'G'.
func echoing(r *recorder) *recorder {
	r.onMessage = func(p *server.Peer, msg []byte) {
		retry := conn.RetryNone
		if len(msg) > 0 && msg[0] == 'G' {
			retry = conn.RetryOnTimeout
		}
		if err := p.Send(msg, retry, nil); err != nil {
			panic(err)
		}
	}
	return r
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) Starting() { r.add("starting") }

func (r *recorder) Connect(p *server.Peer) {
	r.mu.Lock()
	r.peers[p.Token()] = p
	r.mu.Unlock()
	r.add(fmt.Sprintf("connect %d", p.Token()))
	if r.onConnect != nil {
		r.onConnect(p)
	}
}

func (r *recorder) Disconnect(p *server.Peer) {
	r.mu.Lock()
	r.reasons[p.Token()] = p.Err()
	r.mu.Unlock()
	r.add(fmt.Sprintf("disconnect %d", p.Token()))
}

func (r *recorder) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	r.mu.Lock()
	r.msgs[p.Token()] = append(r.msgs[p.Token()], append([]byte(nil), msg...))
	r.mu.Unlock()
	if r.onMessage != nil {
		r.onMessage(p, msg)
	}
}

func (r *recorder) Update(time.Duration) {
	r.mu.Lock()
	r.updates++
	r.mu.Unlock()
	if r.onUpdate != nil {
		r.onUpdate()
	}
}

func (r *recorder) Shutdown() { r.add("shutdown") }

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *recorder) reason(tok uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reasons[tok]
}

func (r *recorder) messages(tok uint32) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs[tok]...)
}

func (r *recorder) has(e string) bool {
	for _, x := range r.snapshot() {
		if x == e {
			return true
		}
	}
	return false
}

// world is a running server and the network its clients join.
type world struct {
	t   *testing.T
	net *transport.Network
	srv *server.Server
	h   server.EventHandler
	key *conn.PrivateKey
	log *syncbuf.Buffer
}

// vectorsKey is a fixed root key (the protocol vectors'), so that tests
// spend no time making keys.
func vectorsKey(t testing.TB) *conn.PrivateKey {
	k, err := conn.LoadPrivateKey("../internal/vectors/testdata/server_root.key.pem")
	require.NoError(t, err)
	return k
}

// start runs a server of h on an in-memory network, configured by mod,
// until the test ends. Call it inside a synctest bubble.
func start(t *testing.T, h server.EventHandler, mod func(*server.Config)) *world {
	t.Helper()
	w := &world{t: t, net: transport.NewNetwork(), h: h, key: vectorsKey(t), log: &syncbuf.Buffer{}}
	cfg := server.Config{Handler: h, RootKey: w.key,
		Logger: slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(&cfg)
	}
	c, err := w.net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
	require.NoError(t, err)
	w.srv, err = server.NewWithConn(cfg, c)
	require.NoError(t, err)
	go w.srv.Run()
	t.Cleanup(func() {
		w.srv.Stop()
		<-w.srv.Done()
	})
	return w
}

// startBehind runs a server of h, as start does, behind a simulated link
// of profile each way, and returns the link too.
func startBehind(t *testing.T, h server.EventHandler, profile netsim.Profile, seed uint64) (*world, *netsim.Conn) {
	t.Helper()
	net := transport.NewNetwork()
	sock, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
	require.NoError(t, err)
	link := netsim.Wrap(sock, profile, profile, seed)
	key := vectorsKey(t)
	srv, err := server.NewWithConn(server.Config{Handler: h, RootKey: key, Logger: slog.New(slog.DiscardHandler)}, link)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		<-srv.Done()
	})
	return &world{t: t, net: net, srv: srv, h: h, key: key}, link
}

// connectThrough connects a client through a lossy link, trying again
// when a lost handshake fails an attempt.
func (w *world) connectThrough(attempts int) *client.Client {
	w.t.Helper()
	for range attempts {
		if c := w.newClient(nil); w.tryConnect(c) {
			return c
		}
	}
	w.t.Fatalf("could not connect over the lossy link in %d attempts", attempts)
	return nil
}

// newClient returns a client of the world's network, pinning its key.
func (w *world) newClient(mod func(*client.Config)) *client.Client {
	cfg := client.Config{ServerKey: w.key.Public(), Dial: w.dial}
	if mod != nil {
		mod(&cfg)
	}
	c := client.New(cfg)
	w.t.Cleanup(c.ForceDisconnect)
	return c
}

func (w *world) dial(addr string) (transport.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	return w.net.Dial(ap)
}

// dial connects a client and reports how the attempt ended.
func (w *world) tryConnect(c *client.Client) bool {
	w.t.Helper()
	var result *bool
	require.NoError(w.t, c.Connect(w.srv.Addr().String(), func(ok bool) { result = &ok }))
	pump(c, 5*time.Second, func() bool { return result != nil })
	require.NotNil(w.t, result, "no connect callback")
	return *result
}

// connect connects a client and waits until the server raised Connect
// too: the client counts itself connected at the SERVER_HELLO, the server
// one round trip later at the CHALLENGE_RESP.
func (w *world) connect() *client.Client {
	w.t.Helper()
	c := w.newClient(nil)
	require.True(w.t, w.tryConnect(c), "connect failed: %v", c.Err())
	if r, ok := w.h.(*recorder); ok {
		want := fmt.Sprintf("connect %d", c.Token())
		pump(c, 3*time.Second, func() bool { return r.has(want) })
		require.True(w.t, r.has(want), "the server never raised Connect")
	}
	return c
}

// snapshot returns the server's latest snapshot.
func (w *world) snapshot() server.Snapshot {
	var s server.Snapshot
	w.srv.Snapshot(&s)
	return s
}

// raw returns a socket on the world's network that speaks to the server
// without a connection.
func (w *world) raw() transport.Conn {
	c, err := w.net.Dial(w.srv.Addr())
	require.NoError(w.t, err)
	w.t.Cleanup(func() { c.Close() })
	return c
}

// pump calls Update every 5 ms, like a game's frames, until done or the
// (fake) time limit; it reports whether done.
func pump(c *client.Client, limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c.Update()
		if done() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done()
}

// collect pumps c and gathers the messages it receives until n arrived.
func collect(c *client.Client, n int, limit time.Duration) [][]byte {
	var got [][]byte
	pump(c, limit, func() bool {
		for _, m := range c.Messages() {
			got = append(got, m.Data)
		}
		return len(got) >= n
	})
	return got
}

// waitFor sleeps (fake time) until cond holds, for at most limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
