package arena

import (
	"fmt"
	"log/slog"
	"net/netip"
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
}

// battleFigures are a run's results.
type battleFigures struct {
	kbps       float64 // mean downstream per bot over the span, datagrams as sent
	entities   float64 // mean entities a bot knows
	snapshots  uint64
	serverKbps float64
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
		srv, err := server.NewWithConn(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler),
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
				sent0 = h.Replicator().Stats().Bytes
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
		if len(bots) > 0 {
			st, b0 := bots[0].P.Client().Stats(), before[0]
			t.Logf("bot1 got %d datagrams, %d bytes in %v", st.Received-b0.Received, st.BytesRecv-b0.BytesRecv, b.span)
		}
		for _, p := range h.players {
			st := p.view.Stats()
			t.Logf("viewer: inview %d snaps %d deltas %d full %d sent %d acked %d waiting %d", st.InView, st.Snapshots, st.Deltas, st.Full, st.SentBytes, st.Acked, st.Waiting)
			break
		}
		secs := b.span.Seconds()
		f.kbps = float64(got) * 8 / 1000 / secs / float64(len(bots))
		f.serverKbps = float64(h.Replicator().Stats().Bytes-sent0) * 8 / 1000 / secs / float64(len(bots))
		f.entities = float64(known) / float64(max(1, samples))
	})
	return f
}

// TestBattleBandwidth: 64 bots in the battle scene, 30 snapshots a second
// within the budget, against the whole world sent in every snapshot; and
// with nothing moving but the asteroids.
func TestBattleBandwidth(t *testing.T) {
	if testing.Short() {
		t.Skip("a 64-player battle for 12 s of game time")
	}
	delta := battleRun{bots: 64, warm: 4 * time.Second, span: 8 * time.Second}.run(t)
	full := battleRun{bots: 64, full: true, warm: 4 * time.Second, span: 4 * time.Second}.run(t)
	still := battleRun{bots: 64, still: true, scene: sim.Calm(), warm: 4 * time.Second, span: 8 * time.Second}.run(t)
	t.Logf("delta: %.1f kbps a player (replicator %.1f), %.0f entities known", delta.kbps, delta.serverKbps, delta.entities)
	t.Logf("full:  %.1f kbps a player (replicator %.1f), %.0f entities known; delta is %.1f%% of it", full.kbps, full.serverKbps, full.entities, 100*delta.kbps/full.kbps)
	t.Logf("still: %.1f kbps a player (replicator %.1f), %.0f entities known", still.kbps, still.serverKbps, still.entities)
	assert.Less(t, delta.kbps, 48.0, "mean downstream a player")
	assert.Less(t, delta.kbps*4, full.kbps, "a fraction of the whole world's")
	// With nothing moving, the replication costs its heartbeats: 4 a
	// second. The rest of that downstream is the protocol acknowledging
	// each player's 60 inputs a second within its 25 ms ack delay.
	assert.Less(t, still.serverKbps, 3.0, "the world's stream with nothing moving")
	assert.Greater(t, full.entities, 1000.0, "full replication sends the whole world")
}
