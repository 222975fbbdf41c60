package agones_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/agones"
)

// watchInto runs WatchGameServer until stop or the end of the test; the
// GameServers arrive on the channel. stop returns WatchGameServer's
// result.
func watchInto(t *testing.T, sdk *agones.SDK) (gss <-chan *agones.GameServer, stop func() error) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan *agones.GameServer, 100)
	res := make(chan error, 1)
	go func() { res <- sdk.WatchGameServer(ctx, func(gs *agones.GameServer) { ch <- gs }) }()
	stop = sync.OnceValue(func() error { cancel(); return <-res })
	t.Cleanup(func() { stop() })
	return ch, stop
}

// next returns the next GameServer whose state is state, skipping others.
func next(t *testing.T, gss <-chan *agones.GameServer, state string) *agones.GameServer {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case gs := <-gss:
			if gs.State == state {
				return gs
			}
		case <-timeout:
			t.Fatalf("no GameServer in state %s", state)
		}
	}
}

// The watch stream on real loopback TCP: the current GameServer first,
// then its changes; ctx ends the watch.
func TestWatchLoopback(t *testing.T) {
	fake := newFake()
	hs := httptest.NewServer(fake)
	defer hs.Close()
	sdk, err := agones.New(agones.Config{BaseURL: hs.URL})
	require.NoError(t, err)

	gss, stop := watchInto(t, sdk)
	assert.Equal(t, "arena", next(t, gss, "Scheduled").Labels["agones.dev/fleet"])
	require.NoError(t, sdk.Ready(t.Context()))
	next(t, gss, agones.StateReady)
	fake.allocate(map[string]string{"map": "desert"})
	gs := next(t, gss, agones.StateAllocated)
	assert.Equal(t, "desert", gs.Labels["map"])
	assert.ErrorIs(t, stop(), context.Canceled, "ctx ends the watch")
}

// A stream that ends, or reports an error, is reconnected.
func TestWatchReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		fake.watchHook = func(w http.ResponseWriter, r *http.Request, n int) bool {
			switch n {
			case 1: // one event, then the end of the stream
				_, _ = w.Write([]byte(`{"result":{"status":{"state":"Scheduled"}}}` + "\n"))
				return true
			case 2: // an error
				_, _ = w.Write([]byte(`{"error":{"grpc_code":14,"http_code":503,"message":"unavailable"}}` + "\n"))
				return true
			case 3: // not found
				http.NotFound(w, r)
				return true
			}
			return false
		}
		logs := &logRecorder{}
		sdk, _ := memSDK(t, fake, func(c *agones.Config) { c.Logger = logs.logger() })
		gss, _ := watchInto(t, sdk)
		next(t, gss, "Scheduled")
		fake.allocate(nil)
		next(t, gss, agones.StateAllocated)
		fake.mu.Lock()
		assert.Equal(t, 4, fake.watches)
		fake.mu.Unlock()
		assert.Equal(t, 1, logs.count("reconnecting"), "three failures within seconds make one log line")
	})
}

// A hostile sidecar: an endless line, then lines that are not events. The
// client reads no more than its cap of a line, skips the junk, and goes
// on watching.
func TestWatchHostile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake()
		var written atomic.Int64
		var hungUp atomic.Bool
		fake.watchHook = func(w http.ResponseWriter, r *http.Request, n int) bool {
			switch n {
			case 1: // a line without end
				chunk := []byte(`{"result":{"status":{"state":"` + strings.Repeat("A", 32<<10))
				for written.Load() < 256<<20 {
					k, err := w.Write(chunk)
					written.Add(int64(k))
					if err != nil {
						hungUp.Store(true)
						return true
					}
				}
				return true
			case 2: // junk around a good event
				for _, l := range []string{
					"garbage", `{"result": 5}`, `{}`, `[1,2]`, `{"result":{"status":{"state":7}}}`, "\x00\xff",
					`{"result":{"status":{"state":"Ready"}}}`,
					strings.Repeat("z", 300<<10), // long but under the cap
				} {
					if _, err := w.Write([]byte(l + "\n")); err != nil {
						return true
					}
				}
				<-r.Context().Done()
				return true
			}
			return false
		}
		logs := &logRecorder{}
		sdk, _ := memSDK(t, fake, func(c *agones.Config) { c.Logger = logs.logger() })
		gss, stop := watchInto(t, sdk)
		next(t, gss, agones.StateReady)
		assert.True(t, hungUp.Load(), "the client hung up on the endless line")
		assert.Less(t, written.Load(), int64(agones.MaxLine+256<<10), "the client read little more than its cap")
		assert.Equal(t, 1, logs.count("skipped a line"), "junk is logged at a limited rate")

		// A second stream (after a reconnection) still works.
		assert.ErrorIs(t, stop(), context.Canceled)
		gss, _ = watchInto(t, sdk)
		fake.allocate(nil)
		next(t, gss, agones.StateAllocated)
	})
}
