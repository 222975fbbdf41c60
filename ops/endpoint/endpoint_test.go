package endpoint_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/ops/endpoint"
	"github.com/mpgs/mpgameserver/server"
)

// serve runs a game server on the loopback and its endpoint of cfg on a
// guarded listener, and returns the endpoint's base URL.
func serve(t *testing.T, cfg endpoint.Config) (string, *server.Server) {
	t.Helper()
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	h, err := endpoint.Handler(srv, cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := endpoint.NewServer(h, endpoint.AdminTimeouts(), nil)
	go hs.Serve(endpoint.Listen(ln, endpoint.Limits{}))
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String(), srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestRoutes: the probes, the metrics (the game's own beside the
// server's), the status page with a line of the caller's, the redacted
// API; profiles only when asked for.
func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	games := prometheus.NewCounter(prometheus.CounterOpts{Name: "mygame_matches_total"})
	reg.MustRegister(games)
	base, srv := serve(t, endpoint.Config{Registry: reg, StatusLines: func(w io.Writer) { io.WriteString(w, "game matches 0\n") }})
	require.Eventually(t, srv.Serving, 10*time.Second, 5*time.Millisecond)

	code, body := get(t, base+"/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "ready: "+srv.Addr().String())
	require.Eventually(t, func() bool { c, _ := get(t, base+"/healthz"); return c == http.StatusOK }, 10*time.Second, 10*time.Millisecond)
	_, body = get(t, base+"/metrics")
	for _, want := range []string{"mpgameserver_connections 0", "mygame_matches_total 0", "go_goroutines", "process_resident_memory_bytes"} {
		assert.Contains(t, body, want)
	}
	_, body = get(t, base+"/")
	for _, want := range []string{"udp " + srv.Addr().String(), "connections 0", "ticks/s", "sessions hosts 0", "browsers setting-up 0", "game matches 0"} {
		assert.Contains(t, body, want)
	}
	assert.True(t, strings.HasSuffix(body, "game matches 0\n"), "the caller's lines come last")
	code, _ = get(t, base+"/nothing-here")
	assert.Equal(t, http.StatusNotFound, code)
	code, body = get(t, base+"/api/v1/snapshot")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"redacted":true`)
	code, _ = get(t, base+"/debug/pprof/")
	assert.Equal(t, http.StatusNotFound, code, "profiles only when asked for")

	base, _ = serve(t, endpoint.Config{Admin: admin.HandlerConfig{Profiles: true}})
	code, _ = get(t, base+"/debug/pprof/")
	assert.Equal(t, http.StatusOK, code)
}

// TestHandlerRefusesAShortToken: a token an attacker could guess is
// refused before anything serves.
func TestHandlerRefusesAShortToken(t *testing.T) {
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	_, err = endpoint.Handler(srv, endpoint.Config{Admin: admin.HandlerConfig{Token: "sesame"}})
	assert.ErrorContains(t, err, "too short")
}

// TestHealthStalls: /healthz fails when no tick began for StalledAfter,
// and before the first tick.
func TestHealthStalls(t *testing.T) {
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	rec := &recorder{header: http.Header{}}
	endpoint.Health(srv).ServeHTTP(rec, &http.Request{})
	assert.Equal(t, http.StatusServiceUnavailable, rec.code)
	assert.Contains(t, rec.body.String(), "no tick yet")
	assert.Equal(t, 2*time.Second, endpoint.StalledAfter(time.Second/60))
	assert.Equal(t, 6*time.Second, endpoint.StalledAfter(100*time.Millisecond))
}

type recorder struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) { r.code = code }
