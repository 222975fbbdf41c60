package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// get makes a request to url with the bearer token tok ("": none) and
// Host host ("": the URL's), and returns the status and body.
func get(t *testing.T, method, url, tok, host string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

// serve answers a request from remote with token tok ("": none) on h,
// without a network: for addresses a test cannot connect from.
func serve(h http.Handler, method, url, remote, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, url, nil)
	r.RemoteAddr = remote
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// clientShown connects a client to w, gives it conditions of its own
// and a warning naming it, and waits until a snapshot shows it. It
// returns the client's address and token as they would appear in JSON.
func clientShown(t *testing.T, w *world) (addr, token string) {
	c := w.connect()
	t.Cleanup(c.ForceDisconnect)
	ctx := context.Background()
	require.NoError(t, w.local.SetConditions(ctx, c.Token(), admin.Conditions{Latency: 5 * time.Millisecond}))
	w.pump(c, func() bool {
		var s server.Snapshot
		w.local.Snapshot(&s)
		return len(s.Peers) == 1
	})
	var s server.Snapshot
	w.local.Snapshot(&s)
	require.Len(t, s.Peers, 1)
	addr, token = s.Peers[0].Addr.String(), strconv.FormatUint(uint64(c.Token()), 10)
	require.NotEqual(t, w.srv.Addr().String(), addr)
	// A warning that names the client, as the server's do.
	slog.New(w.tail).Warn("client misbehaved", "client", addr, "token", token)
	return addr, token
}

func TestRedactedDocumentNamesNoClient(t *testing.T) {
	w := newWorld(t, adminToken, true)
	addr, token := clientShown(t, w)

	full := w.local.Document(true)
	b, err := json.Marshal(full)
	require.NoError(t, err)
	require.Contains(t, string(b), addr, "the full document names the client")
	require.Contains(t, string(b), token)

	d := w.local.Document(true)
	d.Redact()
	b, err = json.Marshal(d)
	require.NoError(t, err)
	assert.NotContains(t, string(b), addr)
	assert.NotContains(t, string(b), token)
	assert.True(t, d.Redacted)
	assert.Equal(t, 1, d.Snapshot.Connections, "the counters stay")
	assert.Equal(t, full.Snapshot.Stats.Connects, d.Snapshot.Stats.Connects)
	assert.Equal(t, full.Snapshot.LastSecond, d.Snapshot.LastSecond)
	assert.True(t, d.Network.Available, "the network stays")
	assert.Equal(t, full.Network.All, d.Network.All)
	assert.Empty(t, d.Logs)
	assert.Equal(t, admin.Version, d.Version)

	// A game's map places its players: points go, the world's size stays.
	d = w.local.Document(true)
	d.Snapshot.World = server.WorldMap{MaxX: 6400, MaxY: 4000, Kinds: []string{"ship"}, Points: []server.WorldPoint{{X: 1234.5, Y: 678.25}}}
	d.Redact()
	assert.Empty(t, d.Snapshot.World.Points)
	assert.Equal(t, 6400.0, d.Snapshot.World.MaxX)
}

func TestSnapshotFullOnlyWithAToken(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken, ReadToken: readToken}, true)
	addr, token := clientShown(t, w)
	url := w.web.URL + "/api/v1/snapshot"

	code, body, _ := get(t, http.MethodGet, url, "", "")
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, addr, "no client's address without a token")
	assert.NotContains(t, body, token, "no client's token without a token")
	assert.NotContains(t, body, "misbehaved", "no log lines without a token")
	var d admin.Document
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	assert.True(t, d.Redacted)
	assert.Equal(t, 1, d.Snapshot.Connections)
	assert.True(t, d.Actions, "the server takes actions, with its token")

	for _, tok := range []string{adminToken, readToken} {
		code, body, _ := get(t, http.MethodGet, url, tok, "")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, addr)
		assert.Contains(t, body, token)
		assert.Contains(t, body, "misbehaved")
		var d admin.Document
		require.NoError(t, json.Unmarshal([]byte(body), &d))
		assert.False(t, d.Redacted)
		assert.Equal(t, tok == adminToken, d.Actions, "the read token takes no actions")
	}

	// A wrong token is refused, not served the redacted document.
	code, _, hdr := get(t, http.MethodGet, url, "wrong-0123456789abcdef", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.NotEmpty(t, hdr.Get("WWW-Authenticate"))
	r := admin.Attach(w.web.URL, "wrong-0123456789abcdef", nil)
	assert.ErrorIs(t, r.Poll(context.Background()), admin.ErrDenied)
}

func TestReadTokenReadsButCannotAct(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken, ReadToken: readToken}, true)
	c := w.connect()
	defer c.ForceDisconnect()
	ctx := context.Background()
	r := admin.Attach(w.web.URL, readToken, nil)
	require.NoError(t, r.Poll(ctx))
	assert.False(t, r.Redacted())
	assert.False(t, r.Actions(), "the read token takes no actions")

	assert.ErrorIs(t, r.Disconnect(ctx, c.Token()), admin.ErrReadOnly)
	assert.ErrorIs(t, r.Block(ctx, netip.MustParseAddr("10.1.2.3")), admin.ErrReadOnly)
	assert.ErrorIs(t, r.SetConditions(ctx, 0, admin.Conditions{Loss: 0.5}), admin.ErrReadOnly)
	code, _, _ := get(t, http.MethodPost, w.web.URL+"/api/v1/clients/"+strconv.FormatUint(uint64(c.Token()), 10)+"/disconnect", readToken, "")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Empty(t, w.srv.BlockList())
	assert.True(t, w.local.Network().All.Off())
	assert.True(t, c.Connected())
	assert.False(t, w.g.left(c.Token()))
}

func TestHostCheck(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken, Hosts: []string{"Admin.Example.com"}, Profiles: true}, false)
	url := w.web.URL + "/api/v1/snapshot"
	for _, host := range []string{"localhost:8080", "localhost", "127.0.0.1:1", "[::1]:2", "[::1]", "10.0.0.7",
		"admin.example.com", "ADMIN.example.COM:443", "admin.example.com.", "game.localhost:80"} {
		code, _, _ := get(t, http.MethodGet, url, "", host)
		assert.Equal(t, http.StatusOK, code, "Host: %s", host)
	}
	for _, host := range []string{"evil.example", "evil.example:8080", "localhost.evil.example", "admin.example.com.evil.example",
		"127.0.0.1.nip.io", "[evil.example]:80", "localhost:http"} {
		code, body, _ := get(t, http.MethodGet, url, adminToken, host)
		assert.Equal(t, http.StatusMisdirectedRequest, code, "Host: %s", host)
		assert.Contains(t, body, "allowed hosts", "Host: %s", host)
	}
	// Every route, with the token or not.
	code, _, _ := get(t, http.MethodPost, w.web.URL+"/api/v1/block", adminToken, "evil.example")
	assert.Equal(t, http.StatusMisdirectedRequest, code)
	code, _, _ = get(t, http.MethodGet, w.web.URL+"/debug/pprof/", "", "evil.example")
	assert.Equal(t, http.StatusMisdirectedRequest, code)
	// Hosts a client cannot send.
	for _, host := range []string{"", "::1", "[::1", "[::1]x", "[127.0.0.1]"} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/api/v1/snapshot", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusMisdirectedRequest, rec.Code, "Host: %q", host)
	}

	// A Remote hears why.
	rebound := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.Host = "rebound.example"
		return http.DefaultTransport.RoundTrip(req)
	})}
	err := admin.Attach(w.web.URL, adminToken, rebound).Poll(context.Background())
	assert.ErrorContains(t, err, "421")
	assert.ErrorContains(t, err, "allowed hosts")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeClock is a clock a test moves.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time                { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration)           { c.ns.Add(int64(d)) }
func (c *fakeClock) set(h http.Handler) *fakeClock { admin.SetClock(h, c.now); return c }

// syncBuffer is a buffer a logger on the server's goroutines writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWrongTokensBackOff(t *testing.T) {
	var log syncBuffer
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken, ReadToken: readToken,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}, false)
	clock := newFakeClock().set(w.handler)
	url := w.web.URL + "/api/v1/snapshot"
	ctx := context.Background()

	for i := range 5 {
		code, _, _ := get(t, http.MethodGet, url, fmt.Sprintf("guess-%d-0123456789abcdef", i), "")
		require.Equal(t, http.StatusUnauthorized, code, "guess %d", i)
		clock.add(time.Second)
	}
	// Backed off: even the right tokens are refused, for what is left of
	// the minute since the first guess.
	for _, tok := range []string{adminToken, readToken, "guess-0123456789abcdef"} {
		code, body, hdr := get(t, http.MethodGet, url, tok, "")
		assert.Equal(t, http.StatusTooManyRequests, code)
		assert.Equal(t, "55", hdr.Get("Retry-After"))
		assert.Contains(t, body, "too many wrong tokens")
	}
	err := w.remote.Poll(ctx)
	assert.ErrorContains(t, err, "429")
	assert.ErrorContains(t, err, "too many wrong tokens")
	err = w.remote.Block(ctx, netip.MustParseAddr("10.1.2.3"))
	assert.ErrorContains(t, err, "too many wrong tokens")
	assert.Empty(t, w.srv.BlockList())
	assert.Equal(t, 1, strings.Count(log.String(), "wrong tokens"), "one warning: %s", log.String())
	assert.Contains(t, log.String(), "127.0.0.1")
	// Requests without a token are served as ever.
	code, body, _ := get(t, http.MethodGet, url, "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"redacted":true`)

	clock.add(54 * time.Second)
	code, _, hdr := get(t, http.MethodGet, url, adminToken, "")
	assert.Equal(t, http.StatusTooManyRequests, code)
	assert.Equal(t, "1", hdr.Get("Retry-After"))

	// The minute is over.
	clock.add(time.Second)
	require.NoError(t, w.remote.Poll(ctx))
	assert.False(t, w.remote.Redacted())
	require.NoError(t, w.remote.Block(ctx, netip.MustParseAddr("10.1.2.3")))
	assert.Equal(t, 0, admin.Tracked(w.handler), "expired entries are dropped")

	// Failures more than a minute apart do not add up.
	for range 4 {
		code, _, _ := get(t, http.MethodGet, url, "guess-0123456789abcdef", "")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	clock.add(time.Minute)
	code, _, _ = get(t, http.MethodGet, url, "guess-0123456789abcdef", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = get(t, http.MethodGet, url, adminToken, "")
	assert.Equal(t, http.StatusOK, code)
}

func TestBackOffByAddress(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken}, false)
	newFakeClock().set(w.handler)
	const url = "http://127.0.0.1/api/v1/snapshot"
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, serve(w.handler, http.MethodGet, url, "[2001:db8:1:2::1]:1000", "wrong").Code)
		require.Equal(t, http.StatusUnauthorized, serve(w.handler, http.MethodGet, url, "192.0.2.1:1000", "wrong").Code)
	}
	for remote, code := range map[string]int{
		"[2001:db8:1:2::1]:1000":         http.StatusTooManyRequests,
		"[2001:db8:1:2:ffff::9]:2000":    http.StatusTooManyRequests, // the same /64
		"[2001:db8:1:3::1]:1000":         http.StatusOK,              // another
		"192.0.2.1:2000":                 http.StatusTooManyRequests,
		"[::ffff:192.0.2.1]:2000":        http.StatusTooManyRequests, // the same IPv4 address
		"192.0.2.2:1000":                 http.StatusOK,
		"[2001:db8:1:2::1%eth0]:1000":    http.StatusTooManyRequests,
		"not an address, not a server's": http.StatusOK,
	} {
		assert.Equal(t, code, serve(w.handler, http.MethodGet, url, remote, adminToken).Code, "from %s", remote)
	}
	// Without a token, nothing is refused, nothing counted.
	assert.Equal(t, http.StatusOK, serve(w.handler, http.MethodGet, url, "192.0.2.1:2000", "").Code)
	assert.Equal(t, 2, admin.Tracked(w.handler))
}

func TestBackOffIsBounded(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken}, false)
	clock := newFakeClock().set(w.handler)
	const url = "http://127.0.0.1/api/v1/snapshot"
	for i := range 10000 {
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1234).String()
		require.Equal(t, http.StatusUnauthorized, serve(w.handler, http.MethodGet, url, remote, "wrong").Code)
		if i%1000 == 0 {
			clock.add(time.Millisecond)
		}
	}
	assert.LessOrEqual(t, admin.Tracked(w.handler), 4096)
	assert.Positive(t, admin.Tracked(w.handler))
	// The oldest went first: the last address is still counted.
	last := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 39, 15}), 1).String() // 9999
	for range 4 {
		serve(w.handler, http.MethodGet, url, last, "wrong")
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(w.handler, http.MethodGet, url, last, adminToken).Code)

	clock.add(time.Minute)
	assert.Equal(t, http.StatusOK, serve(w.handler, http.MethodGet, url, last, adminToken).Code)
	assert.Zero(t, admin.Tracked(w.handler), "expired entries are dropped")
}

func TestTokensTooShortAreRefused(t *testing.T) {
	w := newWorld(t, "", false)
	for _, cfg := range []admin.HandlerConfig{
		{Token: "s3cret"},
		{Token: adminToken, ReadToken: "peek"},
		{ReadToken: strings.Repeat("x", admin.MinTokenLen-1)},
	} {
		_, err := admin.NewHandler(w.local, cfg)
		require.Error(t, err, "%+v", cfg)
		assert.ErrorContains(t, err, "at least 16")
		assert.ErrorContains(t, err, "openssl rand -hex 16")
	}
	_, err := admin.NewHandler(w.local, admin.HandlerConfig{Token: adminToken, ReadToken: adminToken})
	assert.ErrorContains(t, err, "read token is the admin token")
	_, err = admin.NewHandler(w.local, admin.HandlerConfig{Token: adminToken + "\n"})
	assert.ErrorContains(t, err, "newline")
	_, err = admin.NewHandler(w.local, admin.HandlerConfig{Hosts: []string{"admin.example.com:8080"}})
	assert.ErrorContains(t, err, "without scheme or port")
	_, err = admin.NewHandler(nil, admin.HandlerConfig{})
	assert.Error(t, err)
	h, err := admin.NewHandler(w.local, admin.HandlerConfig{Token: strings.Repeat("x", admin.MinTokenLen)})
	assert.NoError(t, err)
	assert.NotNil(t, h)

	// The deprecated Handler takes it, and refuses what needs it.
	web := httptest.NewServer(admin.Handler(w.local, "s3cret")) //nolint:staticcheck // its behaviour is tested
	defer web.Close()
	code, body, _ := get(t, http.MethodPost, web.URL+"/api/v1/block", "s3cret", "")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, "at least 16")
	code, body, _ = get(t, http.MethodPost, web.URL+"/api/v1/block", "", "")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, "at least 16")
	code, body, _ = get(t, http.MethodGet, web.URL+"/api/v1/snapshot", "s3cret", "")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, "openssl rand")
	code, body, _ = get(t, http.MethodGet, web.URL+"/api/v1/snapshot", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"redacted":true`)

	// And with a good token, or none, it works as NewHandler.
	good := httptest.NewServer(admin.Handler(w.local, adminToken)) //nolint:staticcheck // its behaviour is tested
	defer good.Close()
	code, body, _ = get(t, http.MethodGet, good.URL+"/api/v1/snapshot", adminToken, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"redacted":false`)
	none := httptest.NewServer(admin.Handler(nil, adminToken)) //nolint:staticcheck // its behaviour is tested
	defer none.Close()
	code, _, _ = get(t, http.MethodGet, none.URL+"/api/v1/snapshot", "", "")
	assert.Equal(t, http.StatusInternalServerError, code, "no Local: no panic")
}

func TestProfiles(t *testing.T) {
	w := newWorldConfig(t, admin.HandlerConfig{Token: adminToken, ReadToken: readToken, Profiles: true}, false)
	mux := http.NewServeMux()
	mux.Handle("/api/", w.handler)
	mux.Handle("/debug/pprof/", w.handler)
	web := httptest.NewServer(mux)
	defer web.Close()

	// From loopback, without a token.
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline",
		"/debug/pprof/symbol", "/debug/pprof/allocs?debug=1", "/debug/pprof/threadcreate?debug=1", "/debug/pprof/trace?seconds=0.05"} {
		code, _, _ := get(t, http.MethodGet, web.URL+path, "", "")
		assert.Equal(t, http.StatusOK, code, path)
	}
	code, _, _ := get(t, http.MethodGet, web.URL+"/api/v1/snapshot", "", "")
	assert.Equal(t, http.StatusOK, code, "the API, mounted on the same mux")

	// Not for a day, nor a second more than allowed.
	for _, path := range []string{"/debug/pprof/profile?seconds=86400", "/debug/pprof/trace?seconds=86400", "/debug/pprof/trace?seconds=30.5",
		"/debug/pprof/profile?seconds=31", "/debug/pprof/heap?seconds=3600", "/debug/pprof/profile?seconds=NaN"} {
		code, body, _ := get(t, http.MethodGet, web.URL+path, adminToken, "")
		assert.Equal(t, http.StatusBadRequest, code, path)
		assert.Contains(t, body, "at most 30 seconds", path)
	}

	// A wrong token is wrong, even from loopback.
	code, _, _ = get(t, http.MethodGet, web.URL+"/debug/pprof/", "wrong-0123456789abcdef", "")
	assert.Equal(t, http.StatusUnauthorized, code)

	// From elsewhere, only with the admin token.
	const remote = "192.0.2.1:1234"
	rec := serve(mux, http.MethodGet, "http://127.0.0.1/debug/pprof/", remote, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
	rec = serve(mux, http.MethodGet, "http://127.0.0.1/debug/pprof/profile?seconds=86400", remote, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, http.StatusForbidden, serve(mux, http.MethodGet, "http://127.0.0.1/debug/pprof/", remote, readToken).Code)
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "http://127.0.0.1/debug/pprof/", remote, adminToken).Code)
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "http://127.0.0.1/debug/pprof/heap?debug=1", "[::1]:80", "").Code)

	// Without Profiles, none.
	plain, err := admin.NewHandler(w.local, admin.HandlerConfig{Token: adminToken})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, serve(plain, http.MethodGet, "http://127.0.0.1/debug/pprof/", "127.0.0.1:1", adminToken).Code)
}

// recorder is a transport that records the requests it is asked to make
// and makes none.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return nil, errors.New("recorder: no network")
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func TestNoTokenOverPlainHTTP(t *testing.T) {
	ctx := context.Background()
	for _, base := range []string{"http://192.0.2.1:8080", "192.0.2.1:8080", "http://admin.example.com", "http://[2001:db8::1]:8080",
		"http://localhost.example.com", "http://127.0.0.1.nip.io", "HTTP://0.0.0.0:80/", "http://10.0.0.1"} {
		assert.ErrorIs(t, admin.CheckAttach(base, adminToken), admin.ErrPlainToken, base)
		assert.NoError(t, admin.CheckAttach(base, ""), "%s without a token", base)
		rt := &recorder{}
		r := admin.Attach(base, adminToken, &http.Client{Transport: rt})
		assert.ErrorIs(t, r.Poll(ctx), admin.ErrPlainToken, base)
		assert.ErrorIs(t, r.Disconnect(ctx, 7), admin.ErrPlainToken, base)
		assert.ErrorIs(t, r.Block(ctx, netip.MustParseAddr("10.1.2.3")), admin.ErrPlainToken, base)
		assert.ErrorIs(t, r.SetConditions(ctx, 0, admin.Conditions{}), admin.ErrPlainToken, base)
		assert.ErrorIs(t, r.Contact().Err, admin.ErrPlainToken)
		assert.Zero(t, rt.count(), "%s: no request made", base)

		// Without a token, it reads the redacted document.
		rt = &recorder{}
		require.Error(t, admin.Attach(base, "", &http.Client{Transport: rt}).Poll(ctx))
		require.Equal(t, 1, rt.count())
		assert.Empty(t, rt.reqs[0].Header.Get("Authorization"))
	}
	assert.ErrorContains(t, admin.ErrPlainToken, "https://")

	for _, base := range []string{"https://192.0.2.1:8080", "https://admin.example.com", "http://localhost:8080", "http://LOCALHOST.:1",
		"http://game.localhost", "http://127.0.0.1:8080", "127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:8080", "http://[::ffff:127.0.0.1]:1"} {
		assert.NoError(t, admin.CheckAttach(base, adminToken), base)
		rt := &recorder{}
		err := admin.Attach(base, adminToken, &http.Client{Transport: rt}).Poll(ctx)
		assert.ErrorContains(t, err, "no network", base)
		require.Equal(t, 1, rt.count(), base)
		assert.Equal(t, "Bearer "+adminToken, rt.reqs[0].Header.Get("Authorization"), base)
	}

	// And over loopback, for real.
	w := newWorld(t, adminToken, false)
	require.NoError(t, admin.CheckAttach(w.web.URL, adminToken))
	require.NoError(t, w.remote.Poll(ctx))
	assert.False(t, w.remote.Redacted())
}

// TestRemoteFollowsNoRedirect: a redirect could send the token elsewhere.
func TestRemoteFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer elsewhere.Close()
	web := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/api/v1/snapshot", http.StatusFound))
	defer web.Close()
	err := admin.Attach(web.URL, adminToken, nil).Poll(context.Background())
	assert.ErrorContains(t, err, "302")
	assert.Zero(t, reached.Load())
}
