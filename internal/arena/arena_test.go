package arena_test

import (
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// recorder is the arena handler that also records where every ship was
// after each tick, for comparing clients' views with the truth.
type recorder struct {
	*arena.Handler
	mu    sync.Mutex
	ticks []uint32
	pos   []map[uint32][2]float64
}

func (r *recorder) Update(d time.Duration) {
	r.Handler.Update(d)
	w := r.World()
	m := make(map[uint32][2]float64, len(w.Ships))
	for _, s := range w.Ships {
		if s.Alive {
			m[s.ID] = [2]float64{s.X, s.Y}
		}
	}
	r.mu.Lock()
	if n := len(r.ticks); n == 0 || r.ticks[n-1] != w.Tick {
		r.ticks = append(r.ticks, w.Tick)
		r.pos = append(r.pos, m)
	}
	r.mu.Unlock()
}

// at returns ship id's position at (fractional) server tick t, linearly
// between the recorded ticks around it.
func (r *recorder) at(id uint32, t float64) ([2]float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, _ := slices.BinarySearch(r.ticks, uint32(math.Ceil(t)))
	if i == 0 || i >= len(r.ticks) {
		return [2]float64{}, false
	}
	a, b := r.pos[i-1][id], r.pos[i][id]
	_, okA := r.pos[i-1][id]
	_, okB := r.pos[i][id]
	if !okA || !okB {
		return [2]float64{}, false
	}
	f := (t - float64(r.ticks[i-1])) / float64(r.ticks[i]-r.ticks[i-1])
	return [2]float64{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f}, true
}

// script is a player's scripted buttons: frame -> input.
type script func(frame int) sim.Input

var scripts = []script{
	func(f int) sim.Input { // wide circles
		if f%90 < 50 {
			return sim.Thrust | sim.Left
		}
		return sim.Thrust
	},
	func(f int) sim.Input { // zigzag
		if (f/40)%2 == 0 {
			return sim.Thrust | sim.Right
		}
		return sim.Thrust | sim.Left
	},
	func(f int) sim.Input { // pulses
		if f%60 < 25 {
			return sim.Thrust
		}
		return sim.Left
	},
}

// errStats collects distances.
type errStats struct{ v []float64 }

func (e *errStats) add(d float64) { e.v = append(e.v, d) }

// latest returns the newest tick the server recorded.
func (r *recorder) latest() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ticks) == 0 {
		return 0
	}
	return r.ticks[len(r.ticks)-1]
}
func (e *errStats) mean() float64 {
	s := 0.0
	for _, x := range e.v {
		s += x
	}
	return s / float64(max(1, len(e.v)))
}
func (e *errStats) pct(p float64) float64 {
	if len(e.v) == 0 {
		return 0
	}
	s := slices.Clone(e.v)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// play runs a server (on pc) with three scripted players for moving, then
// lets them coast for rest, and returns the players and the errors of
// their views against the server's record.
func play(t *testing.T, net *transport.Network, pc transport.Conn, moving, rest time.Duration) (players []*player.Player, rec *recorder, remote, final, lag errStats) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	rec = &recorder{Handler: arena.NewHandler(nil, 1)}
	srv, err := server.NewWithConn(server.Config{Handler: rec, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, pc)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })

	for i := range scripts {
		p := player.New(player.Options{Name: fmt.Sprintf("p%d", i+1), Color: uint8(i), Key: root.Public(), Dial: func(addr string) (transport.Conn, error) {
			return net.Dial(netip.MustParseAddrPort(addr))
		}})
		require.NoError(t, p.Connect(srv.Addr().String()))
		t.Cleanup(p.Client().ForceDisconnect)
		players = append(players, p)
	}
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	start := time.Now()
	for n := 0; ; n++ {
		now := <-frame.C
		elapsed := now.Sub(start)
		if elapsed > moving+rest {
			break
		}
		for i, p := range players {
			var in sim.Input
			if elapsed < moving {
				in = scripts[i](n)
			}
			p.Frame(now, in)
		}
		// Compare what each player shows with where the server had the
		// ships at the moment the player shows.
		if elapsed < time.Second {
			continue // still joining
		}
		for _, p := range players {
			v := p.View(now)
			rt := p.RenderTick(now)
			lag.add(float64(rec.latest()) - rt)
			for _, s := range v.Ships {
				if s.Local || !s.Alive {
					continue
				}
				want, ok := rec.at(s.ID, rt)
				if !ok {
					continue
				}
				d := math.Hypot(s.X-want[0], s.Y-want[1])
				remote.add(d)
				if elapsed > moving+rest-300*time.Millisecond {
					final.add(d)
				}
			}
		}
	}
	return players, rec, remote, final, lag
}

// TestPlayersSeeEachOtherAndConverge runs a server and three headless
// game clients on an in-memory network, on the fake clock of a synctest
// bubble (so that what it measures does not depend on how busy the
// machine is): every client sees every player by name, the
// predicted local ship matches the server's (the position predicted after
// an input vs the server's after applying it), other ships are shown
// where the server had them InterpDelay ago, and once everyone coasts the
// views settle on the server's state.
func TestPlayersSeeEachOtherAndConverge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		pc, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		players, _, remote, final, lag := play(t, net, pc, 3*time.Second, 1500*time.Millisecond)
		check(t, players, remote, final, lag, tolerance{mispredMean: 0.1, mispredP99: 0.25, mispredMax: 20, remoteMean: 1, remoteP95: 5, final: 1, lagMin: 3, lagMax: 11})
	})
}

// TestConvergenceOverLossyLink does the same over a link with 10% loss
// and 50 ms delay each way (100 ms round trip).
func TestConvergenceOverLossyLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork()
		raw, err := net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
		require.NoError(t, err)
		bad := netsim.Profile{Loss: 0.10, Delay: 50 * time.Millisecond, Jitter: 5 * time.Millisecond}
		pc := netsim.Wrap(raw, bad, bad, 3)
		players, _, remote, final, lag := play(t, net, pc, 3*time.Second, 1500*time.Millisecond)
		out, in := pc.LinkStats()
		t.Logf("link: out %+v in %+v", out, in)
		assert.Greater(t, out.Dropped+in.Dropped, uint64(20))
		// The view lags the server by the interpolation delay (6 ticks)
		// plus the 50 ms (3 ticks) the snapshots travel.
		check(t, players, remote, final, lag, tolerance{mispredMean: 0.1, mispredP99: 0.25, mispredMax: 30, remoteMean: 2, remoteP95: 10, final: 1, lagMin: 7, lagMax: 14})
	})
}

// tolerance bounds the errors, in world units (a ship is 32 across), and
// the lag of the shown world behind the server, in ticks.
type tolerance struct {
	mispredMean, mispredMax      float64
	mispredP99                   float64
	remoteMean, remoteP95, final float64
	lagMin, lagMax               float64
}

func check(t *testing.T, players []*player.Player, remote, final, lag errStats, tol tolerance) {
	t.Helper()
	now := time.Now()
	for i, p := range players {
		v := p.View(now)
		require.True(t, p.Welcomed(), "player %d not in the game", i+1)
		var names []string
		for _, s := range v.Ships {
			names = append(names, s.Name)
		}
		assert.ElementsMatch(t, []string{"p1", "p2", "p3"}, names, "player %d sees every player by name", i+1)
		m := p.Mispredictions()
		p99 := (&errStats{m.Samples}).pct(0.99)
		t.Logf("p%d: %d reconciliations, misprediction mean %.3f p99 %.3f max %.2f units, correction mean %.3f; latency %v",
			i+1, m.Count, m.Mean(), p99, m.Max, m.MeanCorrection(), p.Client().Latency())
		assert.Greater(t, m.Count, 20)
		assert.Less(t, m.Mean(), tol.mispredMean, "p%d mean misprediction", i+1)
		assert.Less(t, p99, tol.mispredP99, "p%d misprediction, 99th percentile", i+1)
		assert.Less(t, m.Max, tol.mispredMax, "p%d worst misprediction", i+1)
	}
	t.Logf("remote ships vs the server at the render tick: %d samples, mean %.2f, p95 %.2f, p99 %.2f, max %.2f units; coasting at the end: mean %.2f max %.2f",
		len(remote.v), remote.mean(), remote.pct(0.95), remote.pct(0.99), remote.pct(1), final.mean(), final.pct(1))
	require.Greater(t, len(remote.v), 100)
	assert.Less(t, remote.mean(), tol.remoteMean)
	assert.Less(t, remote.pct(0.95), tol.remoteP95)
	require.NotEmpty(t, final.v)
	assert.Less(t, final.pct(1), tol.final, "views converge once the ships coast")
	t.Logf("the shown world lags the server by %.1f ticks on average (p5 %.1f, p95 %.1f)", lag.mean(), lag.pct(0.05), lag.pct(0.95))
	assert.Greater(t, lag.mean(), tol.lagMin, "other ships are shown in the past, by the interpolation delay")
	assert.Less(t, lag.mean(), tol.lagMax, "but not much further in the past")
}

// TestNamesAreCleanedBeforeLogging: a name with a newline and a terminal
// escape cannot forge log lines (on real UDP sockets).
func TestNamesAreCleanedBeforeLogging(t *testing.T) {
	var out syncbuf.Buffer
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	h := arena.NewHandler(&out, 1)
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	p := player.New(player.Options{Name: "evil\nKILL admin\x1b[2J", Key: root.Public()})
	require.NoError(t, p.Connect(srv.Addr().String()))
	defer p.Client().ForceDisconnect()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(out.String(), "JOIN") {
		p.Frame(time.Now(), 0)
		time.Sleep(10 * time.Millisecond)
	}
	require.Contains(t, out.String(), "JOIN ")
	assert.Equal(t, "JOIN evil_KILL_admin[\n", out.String(), "control characters gone, spaces made '_', 16 bytes at most")
	// The monitor's table shows the same name (Peer.SetLabel), with the
	// next snapshot.
	var sn server.Snapshot
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		p.Frame(time.Now(), 0)
		if srv.Snapshot(&sn); len(sn.Peers) == 1 && sn.Peers[0].Label != "" {
			break
		}
	}
	require.Len(t, sn.Peers, 1)
	assert.Equal(t, "evil_KILL_admin[", sn.Peers[0].Label)
}
