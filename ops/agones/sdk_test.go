package agones_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/agones"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	cfg, ok := agones.FromEnv(getenv)
	assert.False(t, ok, "not under Agones without the variable")
	sdk, err := agones.New(cfg)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:9358", sdk.BaseURL())

	env[agones.EnvPort] = "59357"
	cfg, ok = agones.FromEnv(getenv)
	require.True(t, ok)
	sdk, err = agones.New(cfg)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:59357", sdk.BaseURL())

	for _, bad := range []string{"nine", "1@elsewhere.example", "9358/x", "0", "70000", "-1", "9358 9"} {
		env[agones.EnvPort] = bad
		cfg, ok = agones.FromEnv(getenv)
		require.True(t, ok)
		_, err = agones.New(cfg)
		assert.ErrorContains(t, err, "is not a port number", "%q fails in New", bad)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []agones.Config{
		{Port: -1},
		{Port: 70000},
		{BaseURL: "ftp://localhost:21"},
		{BaseURL: "localhost:9358"},
		{BaseURL: "http://localhost:0"},
		{CallTimeout: -time.Second},
	} {
		_, err := agones.New(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
	sdk, err := agones.New(agones.Config{Port: 8080})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080", sdk.BaseURL())
	sdk, err = agones.New(agones.Config{BaseURL: "http://127.0.0.1:9/"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9", sdk.BaseURL())
}

// Every call reaches the sidecar as the REST API has it (method, path,
// JSON body), on a real loopback connection; the GameServer is decoded
// from the sidecar's JSON (snake_case keys, int64 values as strings).
func TestCallsOnLoopback(t *testing.T) {
	fake := newFake()
	hs := httptest.NewServer(fake)
	defer hs.Close()
	sdk, err := agones.New(agones.Config{BaseURL: hs.URL})
	require.NoError(t, err)
	ctx := t.Context()

	require.NoError(t, sdk.Ready(ctx))
	require.NoError(t, sdk.Health(ctx))
	require.NoError(t, sdk.SetLabel(ctx, "mode", "ctf"))
	require.NoError(t, sdk.SetAnnotation(ctx, "build", "42"))
	require.NoError(t, sdk.Reserve(ctx, 1500*time.Millisecond))
	require.NoError(t, sdk.Allocate(ctx))
	require.NoError(t, sdk.SetCounter(ctx, "players", 3))
	require.NoError(t, sdk.IncrementCounter(ctx, "players", 2))
	require.NoError(t, sdk.SetCounterCapacity(ctx, "players", 20))
	c, err := sdk.Counter(ctx, "players")
	require.NoError(t, err)
	assert.Equal(t, agones.Counter{Name: "players", Count: 5, Capacity: 20}, c)
	require.NoError(t, sdk.PlayerConnect(ctx, "p1"))

	gs, err := sdk.GameServer(ctx)
	require.NoError(t, err)
	assert.Equal(t, "arena-x7k2p", gs.Name)
	assert.Equal(t, "default", gs.Namespace)
	assert.Equal(t, "6f1c-42", gs.UID)
	assert.Equal(t, "1234", gs.ResourceVersion)
	assert.Equal(t, int64(3), gs.Generation)
	assert.Equal(t, int64(1700000000), gs.Created.Unix())
	assert.True(t, gs.Deleted.IsZero())
	assert.Equal(t, agones.StateAllocated, gs.State)
	assert.Equal(t, "ctf", gs.Labels["agones.dev/sdk-mode"])
	assert.Equal(t, "arena", gs.Labels["agones.dev/fleet"])
	assert.Equal(t, "42", gs.Annotations["agones.dev/sdk-build"])
	assert.Equal(t, "203.0.113.7", gs.Address)
	assert.Equal(t, []agones.Port{{Name: "default", Port: 7654}}, gs.Ports)
	p, ok := gs.PortNamed("default")
	assert.True(t, ok)
	assert.Equal(t, 7654, p.Port)
	assert.Equal(t, agones.Health{Period: 5 * time.Second, FailureThreshold: 3, InitialDelay: 5 * time.Second}, gs.Health)
	require.NotNil(t, gs.Players)
	assert.Equal(t, agones.Players{Count: 1, Capacity: 8, IDs: []string{"p1"}}, *gs.Players)
	assert.Equal(t, agones.Counter{Name: "players", Count: 5, Capacity: 20}, gs.Counters["players"])

	require.NoError(t, sdk.PlayerDisconnect(ctx, "p1"))
	require.NoError(t, sdk.Shutdown(ctx))

	want := []call{
		{"POST", "/ready", `{}`},
		{"POST", "/health", `{}`},
		{"PUT", "/metadata/label", `{"key":"mode","value":"ctf"}`},
		{"PUT", "/metadata/annotation", `{"key":"build","value":"42"}`},
		{"POST", "/reserve", `{"seconds":"2"}`},
		{"POST", "/allocate", `{}`},
		{"PATCH", "/v1beta1/counters/players", `{"count":"3"}`},
		{"PATCH", "/v1beta1/counters/players", `{"countDiff":"2"}`},
		{"PATCH", "/v1beta1/counters/players", `{"capacity":"20"}`},
		{"GET", "/v1beta1/counters/players", ``},
		{"POST", "/alpha/player/connect", `{"playerID":"p1"}`},
		{"GET", "/gameserver", ``},
		{"POST", "/alpha/player/disconnect", `{"playerID":"p1"}`},
		{"POST", "/shutdown", `{}`},
	}
	got := fake.Calls()
	require.Len(t, got, len(want), "%v", got)
	for i, w := range want {
		assert.Equal(t, w.String(), got[i].String(), "call %d", i)
		if w.Body == "" {
			assert.Empty(t, got[i].Body, "call %d", i)
		} else {
			assert.JSONEq(t, w.Body, got[i].Body, "call %d", i)
		}
	}
	assert.Equal(t, "Shutdown", fake.getState())
	assert.Error(t, sdk.Reserve(ctx, -time.Second))
}

// The GameServer decodes from either key style and either integer form;
// unknown fields are ignored; a bad integer is an error.
func TestGameServerDecoding(t *testing.T) {
	camel := `{"objectMeta":{"name":"gs","resourceVersion":"9","generation":4,"creationTimestamp":1700000001,
		"deletionTimestamp":"1700000100","labels":{"map":"desert"},"futureField":{"x":1}},
		"spec":{"health":{"disabled":true,"periodSeconds":"7","failureThreshold":2,"initialDelaySeconds":"1e1"}},
		"status":{"state":"Ready","addresses":[{"type":"InternalIP","address":"10.0.0.9"}],
		"ports":[{"name":"udp","port":"7777"}],"players":{"count":2,"capacity":"4","ids":["a","b"]},
		"counters":{"rooms":{"count":1,"capacity":"3"}},"lists":{"maps":{"capacity":"5","values":["x"]}}}}`
	fake := newFake()
	body := camel
	fake.gameServerHook = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }
	synctest.Test(t, func(t *testing.T) {
		sdk, _ := memSDK(t, fake, nil)
		gs, err := sdk.GameServer(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "gs", gs.Name)
		assert.Equal(t, "9", gs.ResourceVersion)
		assert.Equal(t, int64(4), gs.Generation)
		assert.Equal(t, int64(1700000001), gs.Created.Unix())
		assert.Equal(t, int64(1700000100), gs.Deleted.Unix())
		assert.Equal(t, map[string]string{"map": "desert"}, gs.Labels)
		assert.NotNil(t, gs.Annotations, "maps are never nil")
		assert.Equal(t, agones.Health{Disabled: true, Period: 7 * time.Second, FailureThreshold: 2, InitialDelay: 10 * time.Second}, gs.Health)
		assert.Equal(t, agones.StateReady, gs.State)
		assert.Equal(t, []agones.Address{{Type: "InternalIP", Address: "10.0.0.9"}}, gs.Addresses)
		assert.Equal(t, []agones.Port{{Name: "udp", Port: 7777}}, gs.Ports)
		assert.Equal(t, &agones.Players{Count: 2, Capacity: 4, IDs: []string{"a", "b"}}, gs.Players)
		assert.Equal(t, agones.Counter{Name: "rooms", Count: 1, Capacity: 3}, gs.Counters["rooms"])
		assert.Equal(t, agones.List{Capacity: 5, Values: []string{"x"}}, gs.Lists["maps"])

		body = `{}`
		gs, err = sdk.GameServer(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "", gs.State)
		assert.Nil(t, gs.Players)

		for _, bad := range []string{
			`{"object_meta":{"generation":"x"}}`,
			`{"object_meta":{"generation":1.5}}`,
			`{"status":{"ports":[{"port":"99999999999999999999"}]}}`,
			`not json`,
		} {
			body = bad
			_, err = sdk.GameServer(t.Context())
			assert.Error(t, err, bad)
		}
	})
}

// An answer other than 2xx is a *StatusError naming the call and the
// status, and it is not retried.
func TestNon2xxIsError(t *testing.T) {
	fake := newFake()
	hs := httptest.NewServer(fake)
	defer hs.Close()
	sdk, err := agones.New(agones.Config{BaseURL: hs.URL})
	require.NoError(t, err)

	fake.failNext("POST /ready", http.StatusInternalServerError, 1)
	err = sdk.Ready(t.Context())
	require.Error(t, err)
	var se *agones.StatusError
	require.True(t, errors.As(err, &se), "%T %v", err, err)
	assert.Equal(t, "ready", se.Call)
	assert.Equal(t, "POST", se.Method)
	assert.Equal(t, "/ready", se.Path)
	assert.Equal(t, 500, se.StatusCode)
	assert.Contains(t, se.Body, "injected failure")
	assert.Contains(t, err.Error(), "ready")
	assert.Contains(t, err.Error(), "500")
	assert.Equal(t, 1, fake.count("POST /ready"), "an answer is not retried")

	err = sdk.SetCounter(t.Context(), "nope", 1)
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 404, se.StatusCode)
	assert.Contains(t, err.Error(), "set counter")

	err = sdk.SetCounter(t.Context(), "players", 17) // beyond the capacity
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 400, se.StatusCode)

	_, err = sdk.GameServer(t.Context())
	require.NoError(t, err, "the fake still works")
}

// The sidecar starts after the game server: a call retries until it
// listens, on real loopback TCP.
func TestRetryUntilSidecarListensLoopback(t *testing.T) {
	// A free port, closed again: nothing listens there for now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	logs := &logRecorder{}
	sdk, err := agones.New(agones.Config{BaseURL: "http://" + addr, Logger: logs.logger(), RetryFor: time.Minute})
	require.NoError(t, err)
	result := make(chan error, 1)
	go func() { result <- sdk.Ready(t.Context()) }()

	waitFor(t, "a refused attempt", 30*time.Second, func() bool { return logs.count("unreachable") > 0 })
	select {
	case err := <-result:
		t.Fatalf("Ready returned before the sidecar listened: %v", err)
	default:
	}
	fake := newFake()
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	hs := &httptest.Server{Listener: l, Config: &http.Server{Handler: fake}}
	hs.Start()
	defer hs.Close()

	select {
	case err := <-result:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Ready did not succeed once the sidecar listened")
	}
	assert.Equal(t, []call{{"POST", "/ready", "{}"}}, fake.Calls())
}

// The retries in fake time: bounded by RetryFor, stopped by ctx, and
// successful once the sidecar answers.
func TestRetryInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		sdk, tr := memSDK(t, fake, func(c *agones.Config) { c.RetryFor = 20 * time.Second })
		tr.down.Store(true)

		// Comes up after a few attempts.
		go func() {
			for tr.attempts.Load() < 4 {
				time.Sleep(time.Millisecond)
			}
			tr.down.Store(false)
		}()
		require.NoError(t, sdk.Health(t.Context()))
		assert.Equal(t, 1, fake.count("POST /health"))

		// Never comes up: the call gives up after RetryFor.
		tr.down.Store(true)
		start := tr.attempts.Load()
		err := sdk.Ready(t.Context())
		require.Error(t, err)
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
		assert.Contains(t, err.Error(), "unreachable")
		assert.Greater(t, tr.attempts.Load()-start, int64(3), "it retried")

		// A cancelled context ends the retries.
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for tr.attempts.Load() < start+20 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		err = sdk.Ready(ctx)
		assert.ErrorIs(t, err, context.Canceled)

		// A negative RetryFor makes one attempt.
		one, tr1 := memSDK(t, fake, func(c *agones.Config) { c.RetryFor = -1 })
		tr1.down.Store(true)
		require.Error(t, one.Ready(t.Context()))
		assert.Equal(t, int64(1), tr1.attempts.Load())
	})
}

// A huge answer to a unary call is refused, not read whole.
func TestHugeAnswerIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		var written atomic.Int64
		fake.gameServerHook = func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(`{"status":{"address":"` + strings.Repeat("x", 32<<10))
			for written.Load() < 64<<20 {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}
		sdk, _ := memSDK(t, fake, nil)
		_, err := sdk.GameServer(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "longer than")
		synctest.Wait()
		assert.Less(t, written.Load(), int64(5<<20), "the client hung up after its cap")
	})
}
