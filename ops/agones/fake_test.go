package agones_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/agones"
)

// The fake sidecar: an http.Handler speaking the Agones SDK's REST API
// as the real sidecar does (snake_case keys, int64 values as strings),
// recording every call in order and keeping a GameServer and its
// counters. Tests call it over loopback TCP (httptest) or in memory
// (memTransport, inside testing/synctest bubbles).

// call is one request the fake received.
type call struct {
	Method, Path, Body string
}

func (c call) String() string { return c.Method + " " + c.Path }

type fakeCounter struct{ count, capacity int64 }

type fakeSidecar struct {
	mu          sync.Mutex
	calls       []call
	state       string
	labels      map[string]string
	annotations map[string]string
	counters    map[string]*fakeCounter
	players     []string
	changed     chan struct{} // closed and replaced at each change
	failures    map[string][]int
	watches     int

	// onCall, when set, sees each call as it arrives.
	onCall func(call)
	// watchHook, when set, may serve the n-th watch request (from 1)
	// itself; it reports whether it did.
	watchHook func(w http.ResponseWriter, r *http.Request, n int) bool
	// gameServerHook, when set, serves GET /gameserver.
	gameServerHook func(w http.ResponseWriter, r *http.Request)
}

// newFake returns a fake sidecar of a GameServer in state Scheduled with
// a "players" counter of capacity 16.
func newFake() *fakeSidecar {
	return &fakeSidecar{
		state:       "Scheduled",
		labels:      map[string]string{"agones.dev/fleet": "arena"},
		annotations: map[string]string{},
		counters:    map[string]*fakeCounter{"players": {capacity: 16}},
		changed:     make(chan struct{}),
		failures:    map[string][]int{},
	}
}

// bump publishes a change to the watch streams; f.mu is held.
func (f *fakeSidecar) bump() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// failNext makes the next n calls of "METHOD /path" answer status.
func (f *fakeSidecar) failNext(key string, status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures[key] = append(f.failures[key], status)
	}
}

// allocate is what a GameServerAllocation does: it sets labels and moves
// the GameServer to Allocated.
func (f *fakeSidecar) allocate(labels map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range labels {
		f.labels[k] = v
	}
	f.state = "Allocated"
	f.bump()
}

// setLabel changes a label without changing the state.
func (f *fakeSidecar) setLabel(k, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.labels[k] = v
	f.bump()
}

func (f *fakeSidecar) removeCounter(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.counters, name)
}

func (f *fakeSidecar) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// count counts the calls of "METHOD /path".
func (f *fakeSidecar) count(key string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.String() == key {
			n++
		}
	}
	return n
}

func (f *fakeSidecar) counter(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.counters[name]; c != nil {
		return c.count
	}
	return -1
}

func (f *fakeSidecar) getState() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// gameServerJSON renders the GameServer as the sidecar does; f.mu is
// held.
func (f *fakeSidecar) gameServerJSON() map[string]any {
	counters := map[string]any{}
	for name, c := range f.counters {
		counters[name] = map[string]any{"count": strconv.FormatInt(c.count, 10), "capacity": strconv.FormatInt(c.capacity, 10)}
	}
	return map[string]any{
		"object_meta": map[string]any{
			"name": "arena-x7k2p", "namespace": "default", "uid": "6f1c-42", "resource_version": "1234",
			"generation": "3", "creation_timestamp": "1700000000",
			"labels": clone(f.labels), "annotations": clone(f.annotations),
		},
		"spec": map[string]any{"health": map[string]any{"period_seconds": 5, "failure_threshold": 3, "initial_delay_seconds": 5}},
		"status": map[string]any{
			"state": f.state, "address": "203.0.113.7",
			"ports":    []any{map[string]any{"name": "default", "port": 7654}},
			"players":  map[string]any{"count": strconv.Itoa(len(f.players)), "capacity": "8", "ids": append([]string{}, f.players...)},
			"counters": counters,
		},
	}
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as grpc-gateway does.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": 2, "message": msg})
}

func (f *fakeSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	c := call{Method: r.Method, Path: r.URL.Path, Body: string(body)}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	hook := f.onCall
	status := 0
	if q := f.failures[c.String()]; len(q) > 0 {
		status, f.failures[c.String()] = q[0], q[1:]
	}
	f.mu.Unlock()
	if hook != nil {
		hook(c)
	}
	if status != 0 {
		writeError(w, status, "injected failure")
		return
	}
	// Bodies of POST, PUT and PATCH are JSON objects ("{}" when empty).
	var obj map[string]any
	if r.Method != http.MethodGet {
		if err := json.Unmarshal(body, &obj); err != nil {
			writeError(w, http.StatusBadRequest, "body is not a JSON object")
			return
		}
	}
	str := func(k string) string { s, _ := obj[k].(string); return s }

	f.mu.Lock()
	defer f.mu.Unlock()
	switch key := c.String(); {
	case key == "POST /ready":
		f.state = "Ready"
		f.bump()
	case key == "POST /health":
	case key == "POST /shutdown":
		f.state = "Shutdown"
		f.bump()
	case key == "POST /allocate":
		f.state = "Allocated"
		f.bump()
	case key == "POST /reserve":
		if _, err := strconv.ParseInt(str("seconds"), 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "seconds must be an int64 string")
			return
		}
		f.state = "Reserved"
		f.bump()
	case key == "PUT /metadata/label", key == "PUT /metadata/annotation":
		if str("key") == "" {
			writeError(w, http.StatusBadRequest, "key is required")
			return
		}
		m := f.labels
		if strings.HasSuffix(key, "annotation") {
			m = f.annotations
		}
		m["agones.dev/sdk-"+str("key")] = str("value")
		f.bump()
	case key == "GET /gameserver":
		if f.gameServerHook != nil {
			f.mu.Unlock()
			f.gameServerHook(w, r)
			f.mu.Lock()
			return
		}
		writeJSON(w, f.gameServerJSON())
		return
	case key == "GET /watch/gameserver":
		f.watches++
		n := f.watches
		f.mu.Unlock()
		f.watch(w, r, n)
		f.mu.Lock()
		return
	case strings.HasPrefix(r.URL.Path, "/v1beta1/counters/"):
		name := strings.TrimPrefix(r.URL.Path, "/v1beta1/counters/")
		ctr := f.counters[name]
		if ctr == nil {
			writeError(w, http.StatusNotFound, "counter not found: "+name)
			return
		}
		switch r.Method {
		case http.MethodGet:
		case http.MethodPatch:
			next := *ctr
			for field, p := range map[string]*int64{"count": &next.count, "capacity": &next.capacity} {
				if _, ok := obj[field]; ok {
					v, err := strconv.ParseInt(str(field), 10, 64)
					if err != nil {
						writeError(w, http.StatusBadRequest, field+" must be an int64 string")
						return
					}
					*p = v
				}
			}
			if _, ok := obj["countDiff"]; ok {
				d, err := strconv.ParseInt(str("countDiff"), 10, 64)
				if err != nil {
					writeError(w, http.StatusBadRequest, "countDiff must be an int64 string")
					return
				}
				next.count += d
			}
			if next.count < 0 || next.count > next.capacity {
				writeError(w, http.StatusBadRequest, "count out of range")
				return
			}
			*ctr = next
			f.bump()
		default:
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		writeJSON(w, map[string]any{"name": name, "count": strconv.FormatInt(ctr.count, 10), "capacity": strconv.FormatInt(ctr.capacity, 10)})
		return
	case key == "POST /alpha/player/connect":
		f.players = append(f.players, str("playerID"))
		f.bump()
		writeJSON(w, map[string]any{"bool": true})
		return
	case key == "POST /alpha/player/disconnect":
		for i, p := range f.players {
			if p == str("playerID") {
				f.players = append(f.players[:i], f.players[i+1:]...)
				break
			}
		}
		f.bump()
		writeJSON(w, map[string]any{"bool": true})
		return
	default:
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, map[string]any{})
}

// watch streams the GameServer: the current one, then each change, until
// the client goes.
func (f *fakeSidecar) watch(w http.ResponseWriter, r *http.Request, n int) {
	if h := f.watchHook; h != nil && h(w, r, n) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	for {
		f.mu.Lock()
		gs, changed := f.gameServerJSON(), f.changed
		f.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"result": gs})
		if _, err := w.Write(append(b, '\n')); err != nil {
			return
		}
		flush(w)
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

func flush(w http.ResponseWriter) {
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
}

// memTransport is an http.RoundTripper that serves requests with a
// handler in memory, streaming answers through a pipe: what a
// testing/synctest bubble needs (real sockets never let its fake time
// advance). While down is set, it refuses connections as a sidecar not
// listening yet does.
type memTransport struct {
	h        http.Handler
	down     atomic.Bool
	attempts atomic.Int64
}

func (t *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.attempts.Add(1)
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	if t.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	sreq.Body = io.NopCloser(bytes.NewReader(body))
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:50000"
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			if err := ctx.Err(); err != nil {
				pw.CloseWithError(err)
			} else {
				pw.Close()
			}
		}()
		t.h.ServeHTTP(w, sreq)
		w.WriteHeader(http.StatusOK)
	}()
	select {
	case <-w.ready:
	case <-ctx.Done():
		cancel()
		pr.Close()
		return nil, ctx.Err()
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: &memBody{pr, cancel}, ContentLength: -1, Request: req,
	}, nil
}

// pipeWriter is the handler's ResponseWriter: the body goes through the
// pipe as it is written (a Flush is a no-op).
type pipeWriter struct {
	header http.Header
	sent   http.Header
	status int
	wrote  bool
	pw     *io.PipeWriter
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote, w.status, w.sent = true, code, w.header.Clone()
	close(w.ready)
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

func (w *pipeWriter) Flush() {}

// memBody is the client's end: closing it hangs up on the handler.
type memBody struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
}

func (b *memBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *memBody) Close() error {
	b.pr.Close()
	b.cancel()
	return nil
}

// memSDK returns an SDK that calls h in memory, and its transport.
func memSDK(t *testing.T, h http.Handler, mod func(*agones.Config)) (*agones.SDK, *memTransport) {
	t.Helper()
	tr := &memTransport{h: h}
	cfg := agones.Config{HTTPClient: &http.Client{Transport: tr}, BaseURL: "http://sidecar:9358"}
	if mod != nil {
		mod(&cfg)
	}
	sdk, err := agones.New(cfg)
	require.NoError(t, err)
	return sdk, tr
}

// logRecorder is a slog.Handler that keeps the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) logger() *slog.Logger { return slog.New(l) }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count counts the messages containing s.
func (l *logRecorder) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// waitFor sleeps until cond holds, for at most limit (fake time inside
// a bubble, generous real time outside).
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
