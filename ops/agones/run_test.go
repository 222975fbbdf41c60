package agones_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/ops/agones"
	"github.com/mpgs/mpgameserver/server"
)

// Most tests of Run run inside a testing/synctest bubble: the server on
// an in-memory network, the sidecar in memory (memTransport), time fake.
// Nothing depends on the machine's speed: the tests wait for what must
// happen, and compare orders, never durations.

// game is the server's handler: its Update blocks while the test holds
// it, as a game whose tick loop is stuck.
type game struct {
	server.BaseHandler
	hold chan chan struct{}
}

func (g *game) Update(time.Duration) {
	select {
	case release := <-g.hold:
		<-release
	default:
	}
}

// world is a server, a fake sidecar and the SDK that reaches it.
type world struct {
	t      *testing.T
	net    *transport.Network
	key    *conn.PrivateKey
	game   *game
	srv    *server.Server
	fake   *fakeSidecar
	sdk    *agones.SDK
	tr     *memTransport
	logs   *logRecorder
	runErr chan error
}

// newWorld makes a world inside a bubble and serves the server until the
// test ends.
func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, net: transport.NewNetwork(), game: &game{hold: make(chan chan struct{})}, fake: newFake(), logs: &logRecorder{}}
	var err error
	w.key, err = conn.GenerateKey(nil)
	require.NoError(t, err)
	sock, err := w.net.Listen(netip.MustParseAddrPort("10.9.9.9:7654"))
	require.NoError(t, err)
	w.srv, err = server.NewWithConn(server.Config{Handler: w.game, RootKey: w.key, Logger: slog.New(slog.DiscardHandler)}, sock)
	require.NoError(t, err)
	w.sdk, w.tr = memSDK(t, w.fake, func(c *agones.Config) { c.Logger = w.logs.logger() })
	go w.srv.Run()
	t.Cleanup(func() {
		w.srv.Stop()
		<-w.srv.Done()
	})
	return w
}

// run starts Run; its result arrives on w.runErr. The test's end stops
// the server, which ends Run.
func (w *world) run(ctx context.Context, opts agones.Options) {
	w.runErr = make(chan error, 1)
	go func() { w.runErr <- agones.Run(ctx, w.srv, w.sdk, opts) }()
	w.t.Cleanup(func() {
		w.srv.Stop()
		<-w.runErr
	})
}

// client returns a connected client of the world's server.
func (w *world) client() *client.Client {
	w.t.Helper()
	c := client.New(client.Config{ServerKey: w.key.Public(), Dial: func(addr string) (transport.Conn, error) {
		return w.net.Dial(netip.MustParseAddrPort(addr))
	}})
	w.t.Cleanup(c.ForceDisconnect)
	var ok *bool
	require.NoError(w.t, c.Connect(w.srv.Addr().String(), func(b bool) { ok = &b }))
	pump(w.t, "connect", []*client.Client{c}, func() bool { return ok != nil })
	require.True(w.t, *ok, "connect failed: %v", c.Err())
	return c
}

// pump runs the clients' frames until cond holds (for at most a fake
// minute).
func pump(t *testing.T, what string, cs []*client.Client, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		for _, c := range cs {
			c.Update()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// keys returns the calls as "METHOD /path", leaving out the watch
// stream's, which runs beside the rest.
func keys(calls []call) []string {
	var ks []string
	for _, c := range calls {
		if k := c.String(); k != "GET /watch/gameserver" {
			ks = append(ks, k)
		}
	}
	return ks
}

// Ready comes first, once, then Health, again and again while the
// server ticks.
func TestRunReadyThenHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.run(t.Context(), agones.Options{NoCounter: true})
		waitFor(t, "five health pings", time.Minute, func() bool { return w.fake.count("POST /health") >= 5 })
		ks := keys(w.fake.Calls())
		assert.Equal(t, "POST /ready", ks[0], "%v", ks)
		assert.Equal(t, 1, w.fake.count("POST /ready"))
		assert.Equal(t, "Ready", w.fake.getState())
	})
}

// A stuck event goroutine stops the heartbeat (so that Agones marks the
// GameServer Unhealthy); it resumes when the goroutine runs again.
func TestRunHealthStopsWhileEventLoopBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.run(t.Context(), agones.Options{HealthPeriod: time.Second, NoCounter: true})
		waitFor(t, "health pings", time.Minute, func() bool { return w.fake.count("POST /health") >= 3 })

		release := make(chan struct{})
		w.game.hold <- release // the event goroutine now blocks in Update
		before := w.fake.count("POST /health")
		time.Sleep(10 * time.Second) // ten health periods (fake time)
		stalled := w.fake.count("POST /health")
		assert.LessOrEqual(t, stalled, before+1, "at most the probe that ran before the block")
		time.Sleep(30 * time.Second)
		assert.Equal(t, stalled, w.fake.count("POST /health"), "no health while the event goroutine is blocked")
		lines := w.logs.count("withholding health")
		assert.GreaterOrEqual(t, lines, 1, "the stall is logged")
		assert.LessOrEqual(t, lines, 5, "at a limited rate (40 periods)")

		close(release)
		waitFor(t, "health after the release", time.Minute, func() bool { return w.fake.count("POST /health") > stalled+1 })
		assert.Equal(t, 1, w.logs.count("health resumes"))
	})
}

// The counter follows the connected clients, set only when it changed.
func TestRunCounterFollowsClients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.run(t.Context(), agones.Options{HealthPeriod: 500 * time.Millisecond})
		counter := func() int64 { return w.fake.counter("players") }
		waitFor(t, "the counter set", time.Minute, func() bool { return w.fake.count("PATCH /v1beta1/counters/players") > 0 })

		a, b := w.client(), w.client()
		both := []*client.Client{a, b}
		pump(t, "the counter at 2", both, func() bool { return counter() == 2 })
		a.WaitForDisconnect()
		pump(t, "the counter at 1", []*client.Client{b}, func() bool { return counter() == 1 })
		b.WaitForDisconnect()
		waitFor(t, "the counter at 0", time.Minute, func() bool { return counter() == 0 })
		time.Sleep(5 * time.Second) // more checks, no change

		var counts []int64
		for _, c := range w.fake.Calls() {
			if c.String() != "PATCH /v1beta1/counters/players" {
				continue
			}
			var body struct{ Count string }
			require.NoError(t, json.Unmarshal([]byte(c.Body), &body))
			n, err := strconv.ParseInt(body.Count, 10, 64)
			require.NoError(t, err, c.Body)
			counts = append(counts, n)
		}
		assert.Equal(t, int64(0), counts[0], "set at the start: %v", counts)
		for i := 1; i < len(counts); i++ {
			assert.NotEqual(t, counts[i-1], counts[i], "set only when it changed: %v", counts)
		}
		i2 := slices.Index(counts, 2)
		require.GreaterOrEqual(t, i2, 0, "%v", counts)
		assert.Contains(t, counts[i2:], int64(1), "%v", counts)
		assert.Equal(t, int64(0), counts[len(counts)-1], "%v", counts)
	})
}

// OnAllocated gets the allocation's GameServer, labels included, once;
// OnChange gets every change.
func TestRunOnAllocated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var mu sync.Mutex
		var allocated []*agones.GameServer
		var changes []*agones.GameServer
		w.run(t.Context(), agones.Options{
			OnAllocated: func(gs *agones.GameServer) { mu.Lock(); allocated = append(allocated, gs); mu.Unlock() },
			OnChange:    func(gs *agones.GameServer) { mu.Lock(); changes = append(changes, gs); mu.Unlock() },
		})
		last := func() *agones.GameServer {
			mu.Lock()
			defer mu.Unlock()
			if len(changes) == 0 {
				return nil
			}
			return changes[len(changes)-1]
		}
		waitFor(t, "Ready seen", time.Minute, func() bool { gs := last(); return gs != nil && gs.State == agones.StateReady })
		mu.Lock()
		assert.Empty(t, allocated)
		mu.Unlock()

		w.fake.allocate(map[string]string{"map": "desert", "mode": "ctf"})
		waitFor(t, "OnAllocated", time.Minute, func() bool { mu.Lock(); defer mu.Unlock(); return len(allocated) > 0 })
		w.fake.setLabel("round", "2")
		waitFor(t, "the label change", time.Minute, func() bool { gs := last(); return gs != nil && gs.Labels["round"] == "2" })

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, allocated, 1, "once while it stays Allocated")
		assert.Equal(t, agones.StateAllocated, allocated[0].State)
		assert.Equal(t, "desert", allocated[0].Labels["map"])
		assert.Equal(t, "ctf", allocated[0].Labels["mode"])
		assert.Equal(t, agones.StateAllocated, changes[len(changes)-1].State)
	})
}

// When the game stops the server, Run sends Shutdown, once, last, and
// returns.
func TestRunShutdownOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.run(t.Context(), agones.Options{OnChange: func(*agones.GameServer) {}})
		waitFor(t, "health", time.Minute, func() bool { return w.fake.count("POST /health") > 0 })
		w.srv.Stop()
		require.NoError(t, <-w.runErr)
		w.runErr <- nil // for the cleanup
		time.Sleep(10 * time.Second)
		ks := keys(w.fake.Calls())
		assert.Equal(t, 1, w.fake.count("POST /shutdown"), "%v", ks)
		assert.Equal(t, "POST /shutdown", ks[len(ks)-1], "%v", ks)
		assert.Equal(t, "Shutdown", w.fake.getState())
	})
}

// A context done first ends Run without Shutdown.
func TestRunContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		ctx, cancel := context.WithCancel(t.Context())
		w.run(ctx, agones.Options{OnChange: func(*agones.GameServer) {}})
		waitFor(t, "health", time.Minute, func() bool { return w.fake.count("POST /health") > 0 })
		cancel()
		assert.ErrorIs(t, <-w.runErr, context.Canceled)
		w.runErr <- nil
		assert.Zero(t, w.fake.count("POST /shutdown"))
	})
}

// The sidecar is not there when the server starts, then fails Ready: Run
// retries until Ready is taken, and sends no Health before it.
func TestRunReadyRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.tr.down.Store(true)
		w.fake.failNext("POST /ready", http.StatusServiceUnavailable, 2)
		w.run(t.Context(), agones.Options{})
		waitFor(t, "refused attempts", time.Minute, func() bool { return w.tr.attempts.Load() >= 5 })
		assert.Empty(t, w.fake.Calls(), "nothing reached the sidecar")
		w.tr.down.Store(false)

		waitFor(t, "health", time.Minute, func() bool { return w.fake.count("POST /health") > 0 })
		ks := keys(w.fake.Calls())
		assert.Equal(t, []string{"POST /ready", "POST /ready", "POST /ready"}, ks[:3], "%v", ks)
		assert.Equal(t, 3, w.fake.count("POST /ready"), "%v", ks)
		assert.Equal(t, "Ready", w.fake.getState())
	})
}

// A GameServer without the counter: Run says so once and stops setting
// it.
func TestRunCounterMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.fake.removeCounter("players")
		w.run(t.Context(), agones.Options{HealthPeriod: time.Second})
		c := w.client()
		waitFor(t, "health pings", time.Minute, func() bool {
			c.Update()
			return w.fake.count("POST /health") >= 10
		})
		assert.Equal(t, 1, w.fake.count("PATCH /v1beta1/counters/players"))
		assert.Equal(t, 1, w.logs.count("no such counter"))
	})
}

// A failing sidecar makes a few log lines, not one per call.
func TestRunLogsAreRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.fake.failNext("POST /health", http.StatusInternalServerError, 1000)
		w.run(t.Context(), agones.Options{HealthPeriod: 100 * time.Millisecond, NoCounter: true})
		waitFor(t, "many failed health pings", 10*time.Minute, func() bool { return w.fake.count("POST /health") >= 200 })
		lines := w.logs.count("health failed")
		assert.GreaterOrEqual(t, lines, 1)
		assert.LessOrEqual(t, lines, w.fake.count("POST /health")/10, "rate-limited")
	})
}

// Run on a real UDP socket and a sidecar on loopback TCP, with real
// clients: Ready, Health, the counter, a self-allocation, Shutdown.
func TestRunLoopback(t *testing.T) {
	key, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, RootKey: key, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	fake := newFake()
	hs := httptest.NewServer(fake)
	defer hs.Close()
	sdk, err := agones.New(agones.Config{BaseURL: hs.URL})
	require.NoError(t, err)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(context.Background()) }()
	allocated := make(chan *agones.GameServer, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- agones.Run(context.Background(), srv, sdk, agones.Options{
			HealthPeriod: 50 * time.Millisecond,
			OnAllocated:  func(gs *agones.GameServer) { allocated <- gs },
		})
	}()
	defer func() {
		srv.Stop()
		<-srv.Done()
	}()

	const limit = 30 * time.Second
	waitFor(t, "health", limit, func() bool { return fake.count("POST /health") >= 2 })
	assert.Equal(t, "POST /ready", keys(fake.Calls())[0])

	c := client.New(client.Config{ServerKey: key.Public()})
	var ok *bool
	require.NoError(t, c.Connect(srv.Addr().String(), func(b bool) { ok = &b }))
	waitFor(t, "the client connected", limit, func() bool { c.Update(); return ok != nil })
	require.True(t, *ok)
	waitFor(t, "the counter at 1", limit, func() bool { c.Update(); return fake.counter("players") == 1 })

	require.NoError(t, sdk.SetLabel(t.Context(), "match", "m-17"))
	require.NoError(t, sdk.Allocate(t.Context()))
	select {
	case gs := <-allocated:
		assert.Equal(t, agones.StateAllocated, gs.State)
		assert.Equal(t, "m-17", gs.Labels["agones.dev/sdk-match"])
	case <-time.After(limit):
		t.Fatal("OnAllocated was not called")
	}

	c.WaitForDisconnect()
	waitFor(t, "the counter at 0", limit, func() bool { return fake.counter("players") == 0 })

	srv.Stop()
	select {
	case err := <-runErr:
		require.NoError(t, err)
	case <-time.After(limit):
		t.Fatal("Run did not return after the server stopped")
	}
	require.NoError(t, <-serveErr)
	ks := keys(fake.Calls())
	assert.Equal(t, 1, fake.count("POST /shutdown"), "%v", ks)
	assert.Equal(t, "POST /shutdown", ks[len(ks)-1])
}
