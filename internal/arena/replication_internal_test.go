package arena

import (
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/server"
)

// battleRun is a battle on an in-memory network, on the fake clock of a
// synctest bubble: what it measures is the code's, not the machine's.
type battleRun struct {
	bots       int
	full       bool
	scene      sim.Scene
	still      bool // the bots do not move or fire
	profile    netsim.Profile
	warm, span time.Duration
	quality    bool // compare what the bots show with the server's world
}

// truth keeps the server's world of the last two seconds by tick: ships
// by player id, asteroids by entity id.
type truth struct {
	*Handler
	mu    sync.Mutex // the server's goroutine writes, the test reads
	ticks map[uint32]map[uint64][2]float64
}

func shipKey(id uint32) uint64     { return 1<<40 | uint64(id) }
func asteroidKey(id uint32) uint64 { return 2<<40 | uint64(id) }

func (tr *truth) Update(delta time.Duration) {
	tr.Handler.Update(delta)
	w := tr.world
	tr.mu.Lock()
	_, ok := tr.ticks[w.Tick]
	tr.mu.Unlock()
	if ok {
		return
	}
	m := make(map[uint64][2]float64, len(w.Asteroids)+len(w.Ships))
	for i := range w.Ships {
		if s := &w.Ships[i]; s.Alive {
			m[shipKey(s.ID)] = [2]float64{s.X, s.Y}
		}
	}
	for i := range w.Asteroids {
		a := &w.Asteroids[i]
		if id, ok := tr.asteroids[a.ID]; ok {
			m[asteroidKey(uint32(id))] = [2]float64{a.X, a.Y}
		}
	}
	tr.mu.Lock()
	tr.ticks[w.Tick] = m
	delete(tr.ticks, w.Tick-120)
	tr.mu.Unlock()
}

// at returns where the server had key at fractional tick rt.
func (tr *truth) at(key uint64, rt float64) ([2]float64, bool) {
	t0 := uint32(rt)
	a, ok := tr.ticks[t0][key]
	b, ok2 := tr.ticks[t0+1][key]
	if !ok || !ok2 {
		return [2]float64{}, false
	}
	f := rt - float64(t0)
	return [2]float64{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f}, true
}

// battleFigures are a run's results.
type battleFigures struct {
	errs       []float64 // distances between shown and true positions
	ghosts     int       // entities shown that the server had not had for a while
	kbps       float64   // mean downstream per bot over the span, datagrams as sent
	entities   float64   // mean entities a bot knows
	snapshots  uint64
	serverKbps float64
	// deltaBits and fullBits are the mean bits of an entity sent against
	// a baseline and whole, over every player.
	deltaBits, fullBits float64
}

func (b battleRun) run(t *testing.T) battleFigures {
	var f battleFigures
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		raw, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		var pc transport.Conn = raw
		if b.profile != (netsim.Profile{}) {
			pc = netsim.Wrap(raw, b.profile, b.profile, 7)
		}
		root, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		if b.scene.Width == 0 {
			b.scene = sim.Battle()
		}
		h := New(nil, Options{Seed: 3, Scene: b.scene, Full: b.full})
		tr := &truth{Handler: h, ticks: map[uint32]map[uint64][2]float64{}}
		var handler server.EventHandler = h
		if b.quality {
			handler = tr
		}
		srv, err := server.NewWithConn(server.Config{Handler: handler, RootKey: root, Logger: slog.New(slog.DiscardHandler),
			MaxSessionsPerHost: -1, KeepAliveInterval: KeepAlive}, pc)
		require.NoError(t, err)
		go srv.Run()
		defer func() { srv.Stop(); <-srv.Done() }()
		bots := make([]*Bot, b.bots)
		for i := range bots {
			bots[i] = NewBot(fmt.Sprintf("bot%d", i+1), uint8(i%12), root.Public(), uint64(i+1))
			bots[i].P = player.New(player.Options{Name: fmt.Sprintf("bot%d", i+1), Key: root.Public(),
				Dial: func(addr string) (transport.Conn, error) { return net.Dial(netip.MustParseAddrPort(addr)) }})
			require.NoError(t, bots[i].P.Connect("127.0.0.1:1474"))
			defer bots[i].P.Client().ForceDisconnect()
		}
		frame := time.NewTicker(time.Second / sim.TickRate)
		defer frame.Stop()
		start := time.Now()
		var before []conn.Stats
		var sent0 uint64
		samples, known := 0, 0
		for {
			now := <-frame.C
			el := now.Sub(start)
			if el > b.warm+b.span {
				break
			}
			for _, bot := range bots {
				in := bot.Input(now)
				if b.still {
					in = 0
				}
				bot.P.Frame(now, in)
			}
			if before == nil && el >= b.warm {
				for _, bot := range bots {
					require.True(t, bot.P.InGame(), "every bot in the game: %v", bot.P.Err())
					before = append(before, bot.P.Client().Stats())
				}
				onServer(srv, func() { sent0 = h.Replicator().Stats().Bytes })
			}
			if b.quality && before != nil && el%(100*time.Millisecond) < time.Second/sim.TickRate {
				for _, bot := range bots {
					f.measure(bot.P, tr, now)
				}
			}
			if before != nil && el%time.Second < time.Second/sim.TickRate {
				for _, bot := range bots {
					samples++
					known += bot.P.View(now).Replication.Entities
				}
			}
		}
		var got uint64
		for i, bot := range bots {
			st := bot.P.Client().Stats()
			got += st.BytesRecv - before[i].BytesRecv
			f.snapshots += bot.P.View(time.Now()).Replication.Snapshots
		}
		var deltas, fulls, dbits, fbits, sent1 uint64
		onServer(srv, func() {
			for _, p := range h.players {
				st := p.view.Stats()
				deltas, fulls, dbits, fbits = deltas+st.Deltas, fulls+st.Full, dbits+st.DeltaBits, fbits+st.FullBits
			}
			sent1 = h.Replicator().Stats().Bytes
		})
		f.deltaBits = float64(dbits) / float64(max(1, deltas))
		f.fullBits = float64(fbits) / float64(max(1, fulls))
		secs := b.span.Seconds()
		f.kbps = float64(got) * 8 / 1000 / secs / float64(len(bots))
		f.serverKbps = float64(sent1-sent0) * 8 / 1000 / secs / float64(len(bots))
		f.entities = float64(known) / float64(max(1, samples))
	})
	return f
}

// measure compares what p shows with where the server had it at p's
// render time.
func (f *battleFigures) measure(p *player.Player, tr *truth, now time.Time) {
	rt := p.RenderTick(now)
	v := p.View(now)
	for _, s := range v.Ships {
		if s.Local || !s.Alive {
			continue
		}
		f.compare(tr, shipKey(s.ID), rt, s.X, s.Y)
	}
	for _, a := range v.Asteroids {
		f.compare(tr, asteroidKey(a.ID), rt, a.X, a.Y)
	}
}

// onServer runs fn on the server's event goroutine, where the handler's
// state lives, and waits for it.
func onServer(srv *server.Server, fn func()) {
	done := make(chan struct{})
	srv.Post(func() { fn(); close(done) })
	<-done
}

// stuckTicks is how long after it went an entity still shown is stuck.
const stuckTicks = sim.TickRate / 4

func (f *battleFigures) compare(tr *truth, key uint64, rt, x, y float64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	want, ok := tr.at(key, rt)
	if !ok {
		// Not in the server's world at the render time: a ghost, stuck
		// on the screen, unless the render time is out of the record or
		// it went in the last quarter second (a removal or a death
		// shows from the time of the snapshot that told it, and a lost
		// snapshot or two delay it).
		if _, have := tr.ticks[uint32(rt)+1]; have {
			_, alive := tr.ticks[uint32(rt)][key]
			_, before := tr.ticks[uint32(rt)-stuckTicks][key]
			if !alive && !before {
				f.ghosts++
			}
		}
		return
	}
	f.errs = append(f.errs, math.Hypot(x-want[0], y-want[1]))
}

// TestBattleBandwidth: 64 bots in the battle scene, 30 snapshots a second
// within the budget, against the whole world sent in every snapshot; and
// with nothing moving but the asteroids.
func TestBattleBandwidth(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("a 64-player battle for 12 s of game time, three times: a measurement (the quality test runs under the race detector)")
	}
	delta := battleRun{bots: 64, warm: 4 * time.Second, span: 8 * time.Second}.run(t)
	full := battleRun{bots: 64, full: true, warm: 4 * time.Second, span: 4 * time.Second}.run(t)
	still := battleRun{bots: 64, still: true, scene: sim.Calm(), warm: 4 * time.Second, span: 8 * time.Second}.run(t)
	t.Logf("delta: %.1f kbps a player (replicator %.1f), %.0f entities known; an entity takes %.1f bits as a delta, %.1f whole",
		delta.kbps, delta.serverKbps, delta.entities, delta.deltaBits, delta.fullBits)
	t.Logf("full:  %.1f kbps a player (replicator %.1f), %.0f entities known; delta is %.1f%% of it", full.kbps, full.serverKbps, full.entities, 100*delta.kbps/full.kbps)
	t.Logf("still: %.1f kbps a player (replicator %.1f), %.0f entities known", still.kbps, still.serverKbps, still.entities)
	assert.Less(t, delta.kbps, 48.0, "mean downstream a player")
	assert.Less(t, delta.kbps*4, full.kbps, "a fraction of the whole world's")
	// With nothing moving, the replication costs its heartbeats, 4 a
	// second, which also carry the acks of the players' lazy inputs.
	assert.Less(t, still.kbps, 3.0, "downstream a player with nothing moving")
	assert.Greater(t, full.entities, 1000.0, "full replication sends the whole world")
}

// TestBattleQualityThroughLoss: 32 bots in the battle through 5% loss
// and 50 ± 10 ms each way. What each shows at its render time (ships and
// asteroids, entering and leaving its view as it flies) is where the
// server had it then, and nothing is shown that the server did not have.
func TestBattleQualityThroughLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("a 32-player battle for 14 s of game time")
	}
	bad := netsim.Profile{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond}
	f := battleRun{bots: 32, profile: bad, quality: true, warm: 4 * time.Second, span: 10 * time.Second}.run(t)
	require.Greater(t, len(f.errs), 10000)
	slices.Sort(f.errs)
	p := func(q float64) float64 { return f.errs[int(q*float64(len(f.errs)-1))] }
	t.Logf("%d positions compared: p50 %.3f, p99 %.3f, p99.9 %.3f, max %.2f units; %d ghosts; %.1f kbps a player",
		len(f.errs), p(0.5), p(0.99), p(0.999), f.errs[len(f.errs)-1], f.ghosts, f.kbps)
	assert.Less(t, p(0.99), 1.0, "99th percentile of the distance between shown and true positions")
	assert.Zero(t, f.ghosts, "entities shown a quarter second after the server removed them")
}

// A player whose receiver lacks a baseline asks for a Resync: the server
// sends its world whole again, at most once a second, whatever the
// player sends.
func TestResyncIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		pc, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		root, err := conn.GenerateKey(nil)
		require.NoError(t, err)
		h := New(nil, Options{Seed: 1, Scene: sim.Battle()})
		srv, err := server.NewWithConn(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, pc)
		require.NoError(t, err)
		go srv.Run()
		defer func() { srv.Stop(); <-srv.Done() }()
		p := player.New(player.Options{Key: root.Public(),
			Dial: func(addr string) (transport.Conn, error) { return net.Dial(netip.MustParseAddrPort(addr)) }})
		require.NoError(t, p.Connect("127.0.0.1:1474"))
		defer p.Client().ForceDisconnect()
		frames := func(d time.Duration, each func()) {
			for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second / sim.TickRate) {
				p.Frame(time.Now(), 0)
				if each != nil {
					each()
				}
			}
		}
		frames(2*time.Second, nil)
		require.True(t, p.InGame())
		resyncs := func() (n uint64) {
			onServer(srv, func() {
				for _, s := range h.players {
					n = s.view.Stats().Resyncs
				}
			})
			return n
		}
		// A flood of Resyncs for 2.5 s: three honoured.
		frames(2500*time.Millisecond, func() { _ = p.Client().Send(wire.AppendResync(nil), conn.RetryNone, nil) })
		frames(time.Second, nil)
		assert.EqualValues(t, 3, resyncs())
		assert.Greater(t, p.View(time.Now()).Replication.Entities, 50, "the world came back whole")
	})
}
