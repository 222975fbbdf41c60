// Package hostile is the adversarial test suite: each test runs one of the
// attacks of internal/attack against a real server on the
// loopback, beside well-behaved clients, and checks what those clients
// saw (every message echoed exactly once, still connected, new clients
// still getting in) and what the server held, never how fast anything
// was. The full-rate figures (500 clients, the attacks at their default
// rates) come from examples/echo/loadtest/attack.sh.
package hostile_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/echo/rule"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/server"
)

// patience bounds waits for what must happen; never a timing assertion.
const patience = 20 * time.Second

// game echoes: every message goes back to its sender, guaranteed
// when it starts with 'G'. It counts every numbered message it was handed
// ('G' or the replay attack's 'R' followed by a 4-byte sender-unique
// number), so that a test can tell whether any reached the game twice.
type game struct {
	server.BaseHandler
	mu   sync.Mutex
	seen map[uint32]map[uint32]int // token -> number -> deliveries
	dups int
}

func (e *game) HandleMessage(c *server.Peer, _ conn.Seq, msg []byte) {
	if len(msg) >= 5 && (msg[0] == 'G' || msg[0] == 'R') {
		n := binary.BigEndian.Uint32(msg[1:])
		e.mu.Lock()
		m := e.seen[c.Token()]
		if m == nil {
			m = map[uint32]int{}
			e.seen[c.Token()] = m
		}
		if m[n]++; m[n] > 1 {
			e.dups++
		}
		e.mu.Unlock()
	}
	_ = c.Send(msg, rule.Retry(msg), nil)
}

func (e *game) duplicates() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dups
}

// fixture is a running server and its game.
type fixture struct {
	srv  *server.Server
	game *game
	key  *conn.PublicKey
}

func start(t *testing.T, configure func(*server.Config)) *fixture {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	g := &game{seen: map[uint32]map[uint32]int{}}
	cfg := server.Config{Handler: g, RootKey: root, Logger: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(cfg, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		select {
		case <-srv.Done():
		case <-time.After(patience):
			t.Error("the server did not stop")
		}
	})
	return &fixture{srv: srv, game: g, key: root.Public()}
}

func (f *fixture) snapshot() server.Snapshot {
	var s server.Snapshot
	f.srv.Snapshot(&s)
	return s
}

// waitSnapshot waits for the published snapshot to satisfy cond.
func (f *fixture) waitSnapshot(t *testing.T, what string, cond func(*server.Snapshot) bool) server.Snapshot {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		s := f.snapshot()
		if cond(&s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// player is a well-behaved client sending numbered guaranteed messages at
// 30 a second and counting their echoes.
type player struct {
	c      *client.Client
	next   uint32
	echoes map[uint32]int
	last   time.Time
}

// dial connects n players; it fails the test if any cannot connect.
func (f *fixture) dial(t *testing.T, n int) []*player {
	t.Helper()
	ps := make([]*player, n)
	results := make([]*bool, n)
	for i := range ps {
		// A busy machine may answer a hello late, under a flood of them
		// above all: the handshake may take as long as it takes.
		c := client.New(client.Config{ServerKey: f.key, HandshakeTimeout: patience})
		i := i
		require.NoError(t, c.Connect(f.srv.Addr().String(), func(ok bool) { results[i] = &ok }))
		t.Cleanup(c.ForceDisconnect)
		ps[i] = &player{c: c, echoes: map[uint32]int{}}
	}
	deadline := time.Now().Add(patience)
	for {
		done := 0
		for i, p := range ps {
			p.c.Update()
			if results[i] != nil {
				require.True(t, *results[i], "player %d could not connect: %v", i, p.c.Err())
				done++
			}
		}
		if done == n {
			return ps
		}
		require.True(t, time.Now().Before(deadline), "players still connecting")
		time.Sleep(5 * time.Millisecond)
	}
}

// frame runs one frame of a player: a message every 33 ms while sending,
// and the echoes that arrived.
func (p *player) frame(sending bool) {
	p.c.Update()
	if sending && time.Since(p.last) >= time.Second/30 {
		p.last = time.Now()
		p.next++
		msg := make([]byte, 32)
		msg[0] = 'G'
		binary.BigEndian.PutUint32(msg[1:], p.next)
		_ = p.c.SendGuaranteed(msg, nil)
	}
	for _, m := range p.c.Messages() {
		if len(m.Data) >= 5 && m.Data[0] == 'G' {
			p.echoes[binary.BigEndian.Uint32(m.Data[1:])]++
		}
	}
}

// complete reports whether every message the player sent came back.
func (p *player) complete() bool { return len(p.echoes) == int(p.next) }

// play runs the players while during runs, then until every message came
// back; it checks each came back exactly once and every player stayed
// connected.
func play(t *testing.T, f *fixture, ps []*player, during func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); during(ctx) }()
	attackFor := 1500 * time.Millisecond
	end := time.Now().Add(attackFor)
	for time.Now().Before(end) {
		for _, p := range ps {
			p.frame(true)
		}
		time.Sleep(3 * time.Millisecond)
	}
	cancel()
	<-done
	deadline := time.Now().Add(patience)
	for {
		all := true
		for _, p := range ps {
			p.frame(false)
			all = all && p.complete()
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	sent := 0
	for i, p := range ps {
		require.Equal(t, conn.Connected, p.c.Status(), "player %d: %v", i, p.c.Err())
		require.True(t, p.complete(), "player %d: %d of %d messages came back", i, len(p.echoes), p.next)
		for n, k := range p.echoes {
			require.Equal(t, 1, k, "player %d: message %d came back %d times", i, n, k)
		}
		sent += int(p.next)
	}
	require.Positive(t, sent)
	assert.Zero(t, f.game.duplicates(), "messages the game was handed twice")
}

// attackRates keep the attacks light enough for a shared CI machine
// under the race detector; the point is what they do, not how hard.
var attackRates = map[string]float64{
	"fragments": 200, "empty-flood": 1000, "replay": 100, "big-fragments": 1000,
	"hello-badcrc": 20000, "hello-flood": 20000, "hello-flood-marked": 20000, "junk": 50000, "stats-pack": 60,
	"sessions": 1,
}

// runAttack runs the named attack against f until ctx is done and returns
// its result.
func runAttack(t *testing.T, ctx context.Context, f *fixture, name string) attack.Result {
	cfg := attack.Config{Name: name, Server: f.srv.Addr(), ServerKey: f.key, Rate: attackRates[name], DialTimeout: patience}
	if name == "sessions" {
		// Another host than the players' (127.0.0.1), trying far more
		// sessions than its share; a refused handshake is given up after
		// the attack's own short timeout.
		cfg.Source, cfg.Clients, cfg.DialTimeout = netip.MustParseAddr("127.0.0.2"), 400, 0
	}
	res, err := attack.Run(ctx, cfg)
	require.NoError(t, err, name)
	return res
}

// heap samples the live heap while a test runs and keeps the largest.
type heap struct {
	mu   sync.Mutex
	peak uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heap {
	h := &heap{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			h.mu.Lock()
			h.peak = max(h.peak, ms.HeapAlloc)
			h.mu.Unlock()
			select {
			case <-h.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heap) end() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

func baseHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestAttacks runs every attack of the hostile-input table beside ten
// well-behaved players.
func TestAttacks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*server.Config)
		check     func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result)
	}{
		{name: "fragments", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			// Tiny fragments of messages never completed: refused once 32
			// are partly received, at no cost to anyone else.
			assert.Positive(t, s.BadMessages, "fragments refused")
		}},
		{name: "empty-flood", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Positive(t, s.Stats.Throttled, "the flooding client was held to its share of each tick")
		}},
		{name: "replay", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Zero(t, res.Duplicates, "replayed messages echoed again")
			assert.Positive(t, s.Drops.Duplicate+s.Drops.Stale, "replays refused")
		}},
		{name: "big-fragments", configure: func(c *server.Config) { c.MemoryBudget = 2 << 20 },
			check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
				assert.Positive(t, s.Stats.OverBudget, "attackers over their share were disconnected")
				assert.Positive(t, res.Dropped(), "and they know it")
				assert.LessOrEqual(t, s.MemoryHeld, s.MemoryBudget)
			}},
		{name: "hello-badcrc", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Positive(t, s.Stats.HandshakeInvalid)
		}},
		{name: "hello-flood", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Positive(t, s.Stats.HandshakeRejected+s.Stats.HandshakesEvicted, "the pool filled")
		}},
		{name: "hello-flood-marked", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Positive(t, s.Stats.CookiesSent, "forged addresses got cookies, not handshakes")
		}},
		{name: "junk", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			assert.Positive(t, s.Stats.Junk, "junk dropped before it was copied")
		}},
		{name: "sessions", check: func(t *testing.T, f *fixture, s *server.Snapshot, res attack.Result) {
			// The attackers count themselves in at the server's hello; the
			// server promotes at most its share, and tells the others.
			held := 0
			for _, p := range s.Peers {
				if p.Addr.Addr() == netip.MustParseAddr("127.0.0.2") {
					held++
				}
			}
			assert.LessOrEqual(t, held, server.DefaultMaxSessionsPerHost, "one host, one share")
			assert.Positive(t, held)
			assert.Positive(t, res.Admitted)
			assert.Positive(t, s.Stats.HostLimited, "the host's hellos beyond its share were refused")
			assert.LessOrEqual(t, s.BusiestHost, 2*server.DefaultMaxSessionsPerHost, "sessions and handshakes of the attacking host")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := attack.Lookup(tc.name)
			require.NoError(t, err)
			if info.Flood() && runtime.GOOS != "linux" {
				t.Skip("forged source addresses need Linux")
			}
			f := start(t, tc.configure)
			players := f.dial(t, 10)
			before := baseHeap()
			h := sampleHeap()
			var res attack.Result
			var late []*player
			play(t, f, players, func(ctx context.Context) {
				var wg sync.WaitGroup
				wg.Go(func() { res = runAttack(t, ctx, f, tc.name) })
				// New clients get in while the attack runs.
				time.Sleep(300 * time.Millisecond)
				late = f.dial(t, 5)
				<-ctx.Done()
				wg.Wait()
			})
			peak := h.end()
			for _, p := range late {
				assert.Equal(t, conn.Connected, p.c.Status())
			}
			assert.Positive(t, res.Datagrams, "the attack sent something")
			grown := int64(peak) - int64(before)
			t.Logf("%s: sent %d datagrams; heap grew %.1f MiB at most", tc.name, res.Datagrams, float64(grown)/(1<<20))
			assert.Less(t, grown, int64(96<<20), "the heap stayed bounded")
			s := f.waitSnapshot(t, "the attack's counters", func(s *server.Snapshot) bool { return s.Taken.After(time.Now().Add(-time.Second)) })
			tc.check(t, f, &s, res)
		})
	}
}

// TestReplayAcrossWraps replays datagrams of every age from a client that
// numbered far more than 65,535 messages (143 a packet), so its message
// seqs wrapped: the game is handed each message exactly once. (The client
// keeps to its share of each tick, so that nothing but the replay defence
// refuses its datagrams.)
func TestReplayAcrossWraps(t *testing.T) {
	f := start(t, nil)
	c, err := attack.Dial(context.Background(), f.srv.Addr(), f.key, patience)
	require.NoError(t, err)
	defer c.Close()
	var sent [][]byte
	n := uint32(0)
	const packets = 600 // 85,800 messages: the 16-bit message seq wraps
	rng := rand.New(rand.NewPCG(1, 2))
	replays := 0
	for p := 0; p < packets; p++ {
		msgs := make([]protocol.Message, 0, 143)
		for range 143 {
			n++
			body := make([]byte, 5)
			body[0] = 'R'
			binary.BigEndian.PutUint32(body[1:], n)
			msgs = append(msgs, c.Message(protocol.TypeApp, body))
		}
		d, err := c.Send(msgs)
		require.NoError(t, err)
		sent = append(sent, d)
		_, _ = c.Poll()
		if p%4 == 3 {
			// Replay the latest datagrams and some of any age.
			for k := 0; k < 6; k++ {
				old := sent[len(sent)-1-rng.IntN(min(len(sent), 8))]
				if k%2 == 1 {
					old = sent[rng.IntN(len(sent))]
				}
				require.NoError(t, c.SendRaw(old))
				replays++
			}
		}
		// Pace by the server, not the clock: one new packet a tick, sent
		// once the server's tick after the last one began. A tick's
		// first datagram is always within the client's share (a busy
		// machine may stretch its processing past the share's time and
		// throttle what follows it: some replays, never a new packet).
		sentAt := time.Now()
		for range 2 {
			for wait := time.Now().Add(patience); !f.srv.LastTick().After(sentAt) && time.Now().Before(wait); {
				time.Sleep(200 * time.Microsecond)
			}
			sentAt = f.srv.LastTick()
		}
	}
	s := f.waitSnapshot(t, "every datagram handled", func(s *server.Snapshot) bool {
		return s.Stats.DatagramsIn >= uint64(packets+replays) && s.Taken.After(time.Now().Add(-time.Second))
	})
	t.Logf("%d messages in %d packets, %d replays: %d refused as duplicates, %d as stale, %d throttled",
		n, packets, replays, s.Drops.Duplicate, s.Drops.Stale, s.Stats.Throttled)
	assert.Zero(t, f.game.duplicates(), "messages handed to the game twice")
	// A replay is refused, unless the datagram it copies was throttled:
	// then the copy is its first arrival.
	assert.GreaterOrEqual(t, s.Drops.Duplicate+s.Drops.Stale+s.Stats.Throttled, uint64(replays), "every replay refused")
	assert.Equal(t, conn.Connected, f.srvClientStatus(t))
}

// srvClientStatus returns the status of the server's only client.
func (f *fixture) srvClientStatus(t *testing.T) conn.Status {
	s := f.snapshot()
	require.Len(t, s.Peers, 1)
	return s.Peers[0].Status
}
