package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// game records disconnects and echoes every message.
type game struct {
	server.BaseHandler
	mu   sync.Mutex
	gone []uint32
}

func (g *game) Disconnect(p *server.Peer) {
	g.mu.Lock()
	g.gone = append(g.gone, p.Token())
	g.mu.Unlock()
}

func (g *game) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	_ = p.Send(msg, conn.RetryOnTimeout, nil)
}

func (g *game) left(tok uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.gone {
		if t == tok {
			return true
		}
	}
	return false
}

// Tokens of the tests: long enough for NewHandler.
const (
	adminToken = "admin-0123456789abcdef"
	readToken  = "read-0123456789abcdef"
)

// world is a real server on loopback UDP, behind a simulated network,
// with its admin API on a real HTTP server.
type world struct {
	t       *testing.T
	g       *game
	srv     *server.Server
	tail    *admin.LogTail
	local   *admin.Local
	handler http.Handler
	web     *httptest.Server
	remote  *admin.Remote
	log     *bytes.Buffer
}

// newWorld starts a world whose admin token is token ("": none); its
// remote has the token.
func newWorld(t *testing.T, token string, sim bool) *world {
	return newWorldConfig(t, admin.HandlerConfig{Token: token}, sim)
}

// newWorldConfig starts a world whose admin API is configured by cfg;
// its remote has the admin token.
func newWorldConfig(t *testing.T, cfg admin.HandlerConfig, sim bool) *world {
	w := &world{t: t, g: &game{}, log: &bytes.Buffer{}}
	tail := admin.NewLogTail(nil, 10, slog.LevelWarn)
	w.tail = tail
	scfg := server.Config{Handler: w.g, Logger: slog.New(tail)}
	sock, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	var wrapped *netsim.Conn
	var tc transport.Conn = sock
	if sim {
		wrapped = netsim.Wrap(sock, netsim.Profile{}, netsim.Profile{}, 7)
		tc = wrapped
	}
	w.srv, err = server.NewWithConn(scfg, tc)
	require.NoError(t, err)
	go w.srv.Run()
	t.Cleanup(func() { w.srv.Stop(); <-w.srv.Done() })
	w.local = admin.NewLocal(w.srv, tail, wrapped)
	w.handler, err = admin.NewHandler(w.local, cfg)
	require.NoError(t, err)
	w.web = httptest.NewServer(w.handler)
	t.Cleanup(w.web.Close)
	w.remote = admin.Attach(w.web.URL, cfg.Token, nil)
	return w
}

// connect connects a client and keeps it updated until the test ends.
func (w *world) connect() *client.Client {
	c := client.New(client.Config{})
	require.NoError(w.t, c.Connect(w.srv.Addr().String(), nil))
	// The client counts itself connected at the server's answer, the
	// server one round trip later.
	known := func() bool {
		if !c.Connected() {
			return false
		}
		tok := c.Token() // the client is the test goroutine's
		found := make(chan bool, 1)
		w.srv.Post(func() { found <- w.srv.Peer(tok) != nil })
		return <-found
	}
	w.pump(c, known)
	require.True(w.t, known(), "connect: %v", c.Err())
	return c
}

// pump updates the clients until cond holds (or 20 s pass).
func (w *world) pump(c *client.Client, cond func() bool) {
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && !cond(); {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRemoteSeesTheServer(t *testing.T) {
	w := newWorld(t, adminToken, false)
	c := w.connect()
	defer c.ForceDisconnect()
	ctx := context.Background()
	w.pump(c, func() bool {
		require.NoError(t, w.remote.Poll(ctx))
		var s server.Snapshot
		w.remote.Snapshot(&s)
		return len(s.Peers) == 1
	})
	var s server.Snapshot
	w.remote.Snapshot(&s)
	require.Len(t, s.Peers, 1)
	assert.Equal(t, c.Token(), s.Peers[0].Token)
	assert.Equal(t, w.srv.Addr(), s.Addr)
	assert.False(t, w.remote.Redacted())
	assert.Positive(t, w.remote.SnapshotVersion())
	assert.False(t, w.remote.Contact().Last.IsZero())
	assert.NoError(t, w.remote.Contact().Err)
	assert.True(t, w.remote.Actions())
	assert.False(t, w.remote.Network().Available)

	// Without a token: the counters, but no client.
	anon := admin.Attach(w.web.URL, "", nil)
	require.NoError(t, anon.Poll(ctx))
	anon.Snapshot(&s)
	assert.True(t, anon.Redacted())
	assert.Equal(t, 1, s.Connections)
	assert.Empty(t, s.Peers)
	assert.Equal(t, w.srv.Addr(), s.Addr)
	assert.False(t, anon.Actions(), "no token: no actions")
}

func TestServerWithoutToken(t *testing.T) {
	w := newWorld(t, "", false)
	c := w.connect()
	defer c.ForceDisconnect()
	ctx := context.Background()
	w.pump(c, func() bool {
		require.NoError(t, w.remote.Poll(ctx))
		var s server.Snapshot
		w.remote.Snapshot(&s)
		return s.Connections == 1
	})
	var s server.Snapshot
	w.remote.Snapshot(&s)
	assert.Empty(t, s.Peers, "redacted: no token reads the clients")
	assert.True(t, w.remote.Redacted())
	assert.False(t, w.remote.Actions(), "no token: no actions")

	// Without a token the server takes no action, and nothing changes;
	// a token given to it is not counted as wrong.
	assert.ErrorIs(t, w.remote.Disconnect(ctx, c.Token()), admin.ErrNoActions)
	guess := admin.Attach(w.web.URL, adminToken, nil)
	for range 10 {
		assert.ErrorIs(t, guess.Block(ctx, netip.MustParseAddr("10.1.2.3")), admin.ErrNoActions)
	}
	require.NoError(t, guess.Poll(ctx))
	assert.True(t, guess.Redacted())
	assert.True(t, c.Connected())
}

func TestActionsNeedTheToken(t *testing.T) {
	w := newWorld(t, adminToken, false)
	c := w.connect()
	defer c.ForceDisconnect()
	ctx := context.Background()
	for _, tok := range []string{"", "wrong"} {
		r := admin.Attach(w.web.URL, tok, nil)
		assert.ErrorIs(t, r.Disconnect(ctx, c.Token()), admin.ErrDenied, "token %q", tok)
		assert.ErrorIs(t, r.Block(ctx, netip.MustParseAddr("10.1.2.3")), admin.ErrDenied)
		assert.ErrorIs(t, r.SetConditions(ctx, 0, admin.Conditions{Loss: 0.5}), admin.ErrDenied)
	}
	req, err := http.NewRequest(http.MethodPost, w.web.URL+fmt.Sprintf("/api/v1/clients/%d/disconnect", c.Token()), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Empty(t, w.srv.BlockList(), "nothing changed")
	for range 20 {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	assert.True(t, c.Connected(), "nothing changed")

	// With it: a client that is not there, then one that is.
	assert.ErrorIs(t, w.remote.Disconnect(ctx, c.Token()+1), admin.ErrNoClient)
	require.NoError(t, w.remote.Disconnect(ctx, c.Token()))
	w.pump(c, func() bool { return w.g.left(c.Token()) })
	assert.True(t, w.g.left(c.Token()), "the game's Disconnect event ran")
	assert.ErrorIs(t, w.remote.SetConditions(ctx, 0, admin.Conditions{Loss: 0.5}), admin.ErrNoNetwork)
	assert.Error(t, w.remote.SetConditions(ctx, 0, admin.Conditions{Loss: 2}))
}

func TestBlockedAddressCannotConnect(t *testing.T) {
	w := newWorld(t, adminToken, false)
	c := w.connect()
	ctx := context.Background()
	require.NoError(t, w.remote.Block(ctx, c.LocalAddr().Addr()))
	w.pump(c, func() bool { return w.g.left(c.Token()) })
	assert.True(t, w.g.left(c.Token()))
	again := client.New(client.Config{HandshakeTimeout: 500 * time.Millisecond})
	var result *bool
	require.NoError(t, again.Connect(w.srv.Addr().String(), func(ok bool) { result = &ok }))
	w.pump(again, func() bool { return result != nil })
	require.NotNil(t, result)
	assert.False(t, *result, "a blocked address cannot connect")
	assert.ErrorIs(t, again.Err(), conn.ErrHandshakeTimeout)
}

// TestConditionsOnOneClient: 30% loss on one client's link makes its
// messages resent while the other's are not.
func TestConditionsOnOneClient(t *testing.T) {
	w := newWorld(t, adminToken, true)
	bad, good := w.connect(), w.connect()
	ctx := context.Background()
	require.NoError(t, w.remote.SetConditions(ctx, bad.Token(), admin.Conditions{Loss: 0.3}))
	require.NoError(t, w.remote.Poll(ctx))
	n := w.remote.Network()
	assert.True(t, n.Available)
	assert.Equal(t, admin.Conditions{Loss: 0.3}, n.Clients[bad.Token()])
	assert.True(t, n.All.Off())

	resent := func(tok uint32) uint64 {
		var s server.Snapshot
		w.srv.Snapshot(&s)
		for _, p := range s.Peers {
			if p.Token == tok {
				return p.Stats.Resent
			}
		}
		return 0
	}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && resent(bad.Token()) == 0; {
		for _, c := range []*client.Client{bad, good} {
			_ = c.Send([]byte("ping"), conn.RetryOnTimeout, nil)
			c.Update()
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Positive(t, resent(bad.Token()), "the lossy client's messages are resent")
	assert.Zero(t, resent(good.Token()), "the other's link is perfect")

	require.NoError(t, w.remote.SetConditions(ctx, bad.Token(), admin.Conditions{}))
	assert.Empty(t, w.local.Network().Clients, "cleared")
	bad.ForceDisconnect()
	good.ForceDisconnect()
}

func TestRemoteLosesAndRegainsContact(t *testing.T) {
	w := newWorld(t, "", false)
	ctx := context.Background()
	require.NoError(t, w.remote.Poll(ctx))
	w.web.Close()
	assert.Error(t, w.remote.Poll(ctx))
	ct := w.remote.Contact()
	assert.Error(t, ct.Err)
	assert.Equal(t, 1, ct.Failures)
	assert.False(t, ct.Last.IsZero(), "the last document stays")

	h, err := admin.NewHandler(w.local, admin.HandlerConfig{})
	require.NoError(t, err)
	other := httptest.NewServer(h)
	defer other.Close()
	r := admin.Attach(strings.TrimPrefix(other.URL, "http://"), "", nil)
	require.NoError(t, r.Poll(ctx))
	assert.NoError(t, r.Contact().Err)
}

func TestDocumentVersion(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"version":99}`)
	}))
	defer web.Close()
	err := admin.Attach(web.URL, "", nil).Poll(context.Background())
	assert.ErrorContains(t, err, "version 99")
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>a status page</html>")
	}))
	defer junk.Close()
	assert.ErrorContains(t, admin.Attach(junk.URL, "", nil).Poll(context.Background()), "sent no document")

	// A redacted document, and one of a server before redaction, are
	// both version 1.
	for body, redacted := range map[string]bool{`{"version":1,"redacted":true,"logs":[]}`: true, `{"version":1,"logs":null}`: false} {
		web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
		r := admin.Attach(web.URL, "", nil)
		require.NoError(t, r.Poll(context.Background()), body)
		assert.Equal(t, redacted, r.Redacted(), body)
		web.Close()
	}
}

func TestLogTail(t *testing.T) {
	var out bytes.Buffer
	tail := admin.NewLogTail(slog.NewTextHandler(&out, nil), 3, slog.LevelWarn)
	log := slog.New(tail).With("server", "eu-1")
	log.Info("passed on, not kept")
	for i := range 5 {
		log.Warn("kept", "n", i)
	}
	log.WithGroup("g").Error("grouped", "long", strings.Repeat("x", 5000))
	lines := tail.Lines()
	require.Len(t, lines, 3, "the last three")
	assert.Equal(t, "kept", lines[0].Msg)
	assert.Equal(t, "server=eu-1 n=4", lines[1].Attrs)
	assert.Equal(t, "ERROR", lines[2].Level)
	assert.Less(t, len(lines[2].Attrs), 600, "bounded")
	assert.Contains(t, lines[2].Attrs, "g.long=xxx")
	assert.Contains(t, out.String(), "passed on, not kept")
	assert.Equal(t, 7, strings.Count(out.String(), "\n"), "every record reached the next handler")
}
