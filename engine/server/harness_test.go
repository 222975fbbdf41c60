package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/internal/crypto"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
	"github.com/mpgs/mpgameserver/engine/server"
)

// recorder is an EventHandler that records its events. Tests read it from
// their own goroutine, hence the lock.
type recorder struct {
	mu        sync.Mutex
	events    []string
	msgs      map[uint32][][]byte
	clients   map[uint32]*server.Client
	reasons   map[uint32]error
	onConnect func(c *server.Client)
	onMessage func(c *server.Client, msg []byte)
	onUpdate  func()
	updates   int
}

func newRecorder() *recorder {
	return &recorder{msgs: map[uint32][][]byte{}, clients: map[uint32]*server.Client{}, reasons: map[uint32]error{}}
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) Starting() { r.add("starting") }

func (r *recorder) Connect(c *server.Client) {
	r.mu.Lock()
	r.clients[c.Token()] = c
	r.mu.Unlock()
	r.add(fmt.Sprintf("connect %d", c.Token()))
	if r.onConnect != nil {
		r.onConnect(c)
	}
}

func (r *recorder) Disconnect(c *server.Client) {
	r.mu.Lock()
	r.reasons[c.Token()] = c.Err()
	r.mu.Unlock()
	r.add(fmt.Sprintf("disconnect %d", c.Token()))
}

func (r *recorder) HandleMessage(c *server.Client, _ protocol.Seq, msg []byte) {
	r.mu.Lock()
	r.msgs[c.Token()] = append(r.msgs[c.Token()], append([]byte(nil), msg...))
	r.mu.Unlock()
	if r.onMessage != nil {
		r.onMessage(c, msg)
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

// logBuffer collects log output safely.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is a running server with its handler, key and log.
type fixture struct {
	t    *testing.T
	srv  *server.Server
	ctx  *server.Context
	h    server.EventHandler
	root *crypto.PrivateKey
	log  *logBuffer
}

// setup returns a configured but not yet running server on addr.
func setup(t *testing.T, h server.EventHandler, addr string) *fixture {
	t.Helper()
	root, err := crypto.GenerateKey(nil)
	require.NoError(t, err)
	ctx, err := server.NewContext(h, root)
	require.NoError(t, err)
	f := &fixture{t: t, ctx: ctx, h: h, root: root, log: &logBuffer{}}
	ctx.SetLogger(slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return f
}

// start creates the server on addr and runs it until the test ends.
func (f *fixture) start(addr string) *fixture {
	f.t.Helper()
	srv, err := server.New(f.ctx, addr)
	require.NoError(f.t, err)
	return f.run(srv)
}

func (f *fixture) run(srv *server.Server) *fixture {
	f.srv = srv
	go srv.Run()
	f.t.Cleanup(func() {
		srv.Stop()
		select {
		case <-srv.Done():
		case <-time.After(5 * time.Second):
			f.t.Error("server did not stop")
		}
	})
	return f
}

func startServer(t *testing.T, h server.EventHandler) *fixture {
	return setup(t, h, "").start("127.0.0.1:0")
}

// dial connects a client with the server's key and waits for the result.
func (f *fixture) dial(key *crypto.PublicKey) (*client.Client, bool) {
	f.t.Helper()
	c := client.New(key)
	var result *bool
	require.NoError(f.t, c.Connect(f.srv.Addr().String(), func(ok bool) { result = &ok }))
	f.t.Cleanup(c.ForceDisconnect)
	pump(c, 5*time.Second, func() bool { return result != nil })
	require.NotNil(f.t, result, "no connect callback")
	return c, *result
}

// connect dials and waits until the server raised Connect too: the client
// counts itself connected at the SERVER_HELLO, the server one round trip
// later at the CHALLENGE_RESP.
func (f *fixture) connect() *client.Client {
	f.t.Helper()
	c, ok := f.dial(f.root.Public())
	require.True(f.t, ok, "connect failed: %v", c.Err())
	if r, isRecorder := f.h.(*recorder); isRecorder {
		want := fmt.Sprintf("connect %d", c.Token())
		pump(c, 3*time.Second, func() bool { return r.has(want) })
		require.True(f.t, r.has(want), "the server never raised Connect")
	}
	return c
}

// pump calls Update every few milliseconds, like a game's frames, until
// done or the timeout; it reports whether done.
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

// collect pumps c and gathers the messages it receives until n arrived.
func collect(c *client.Client, n int, timeout time.Duration) [][]byte {
	var got [][]byte
	pump(c, timeout, func() bool {
		for _, m := range c.GetMessages() {
			got = append(got, m.Data)
		}
		return len(got) >= n
	})
	return got
}

// waitFor polls cond (a check on the recorder or server) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawSocket is a plain UDP socket to talk to the server without a Conn.
func rawSocket(t *testing.T, srv *server.Server) *net.UDPConn {
	t.Helper()
	s, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr()))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
