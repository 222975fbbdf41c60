package replicate_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/replicate"
	"github.com/mpgs/mpgameserver/server"
)

// field is a rock's world: rocks on a grid, a few drifting, replicated
// by a handler to every client that connects, each client looking at
// its own corner.
type field struct {
	server.BaseHandler
	rep     *replicate.Replicator
	now     time.Time
	rocks   []replicate.ID
	views   int
	viewers map[*server.Peer]*replicate.Viewer
}

func newField(t *testing.T, s *replicate.Schema) *field {
	f := &field{rep: replicate.New(s, replicate.Config{}), viewers: map[*server.Peer]*replicate.Viewer{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	t.Cleanup(f.rep.Close)
	for i := range 400 {
		id, err := f.rep.Spawn(0)
		require.NoError(t, err)
		f.rep.Set(id, rockX, float64(i%20)*300+50)
		f.rep.Set(id, rockY, float64(i/20)*190+50)
		if i%10 == 0 {
			f.rep.Set(id, rockVX, 20)
		}
		f.rocks = append(f.rocks, id)
	}
	return f
}

func (f *field) Disconnect(p *server.Peer) { f.rep.Remove(f.viewers[p]) }

func (f *field) Connect(p *server.Peer) {
	v := f.rep.Add(p)
	f.viewers[p] = v
	// The first client looks at the top left, the second at the bottom
	// right.
	if f.views%2 == 0 {
		v.SetView(800, 500, 800, 500)
	} else {
		v.SetView(5200, 3200, 800, 500)
	}
	f.views++
}

func (f *field) Update(delta time.Duration) {
	f.now = f.now.Add(delta) // the server's clock, not the wall's
	for i, id := range f.rocks {
		if i%10 == 0 {
			x := f.rep.Value(id, rockX) + 20*delta.Seconds()
			if x > 6000 {
				x = 50
			}
			f.rep.Set(id, rockX, x)
		}
	}
	f.rep.Update(f.now)
}

// Two clients on the loopback, over real sockets and real crypto, each
// shown its own part of the world, the drifting rocks moving.
func TestReplicateOverRealSockets(t *testing.T) {
	s := rocks()
	f := newField(t, s)
	srv, err := server.New(server.Config{Handler: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		<-srv.Done()
	})
	type player struct {
		c  *client.Client
		rx *replicate.Receiver
	}
	var players []player
	for range 2 {
		c := client.New(client.Config{ServerKey: srv.RootKey().Public()})
		t.Cleanup(c.ForceDisconnect)
		require.NoError(t, c.Connect(srv.Addr().String(), nil))
		players = append(players, player{c, replicate.NewReceiver(s, replicate.ReceiverConfig{})})
		// Connect one at a time, so that the first gets the first view.
		for deadline := time.Now().Add(10 * time.Second); !c.Connected() && time.Now().Before(deadline); {
			c.Update()
			time.Sleep(5 * time.Millisecond)
		}
		require.True(t, c.Connected(), "connect: %v", c.Err())
	}
	// In the first client's view: columns 0-5 (x 50..1550), rows 0-5
	// (y 50..1000); in the second's: x 4400..6000, y 2700..3700.
	inView := func(p int, x, y float64) bool {
		if p == 0 {
			return x <= 1600 && y <= 1000
		}
		return x >= 4400 && y >= 2700
	}
	want := [2]int{}
	for i := range 400 {
		x, y := float64(i%20)*300+50, float64(i/20)*190+50
		for p := range 2 {
			if i%10 != 0 && inView(p, x, y) {
				want[p]++
			}
		}
	}
	done := func() bool {
		for p, pl := range players {
			n := 0
			for e := range pl.rx.Entities() {
				if e.Float(rockVX) == 0 && inView(p, e.Float(rockX), e.Float(rockY)) {
					n++
				}
			}
			if n != want[p] {
				return false
			}
		}
		return true
	}
	moved := false
	var firstX float64
	var mover replicate.ID = 0 // rock 0 drifts at 20 units a second from x=50
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		now := time.Now()
		for _, pl := range players {
			pl.c.Update()
			for _, m := range pl.c.Messages() {
				ok, err := pl.rx.Handle(now, m.Data)
				require.True(t, ok, "every message is a snapshot")
				require.NoError(t, err)
			}
			pl.rx.Advance(now)
		}
		if e, ok := players[0].rx.Entity(mover); ok {
			if firstX == 0 {
				firstX = e.Float(rockX)
			} else if e.Float(rockX) > firstX+5 {
				moved = true
			}
		}
		if done() && moved {
			break
		}
	}
	assert.True(t, done(), "each client shows exactly the still rocks in its view")
	assert.True(t, moved, "a drifting rock moves on the client")
	for p, pl := range players {
		for e := range pl.rx.Entities() {
			x, y := e.Float(rockX), e.Float(rockY)
			if e.Float(rockVX) == 0 {
				assert.True(t, inView(p, x, y) || nearView(p, x, y), "client %d shows a rock at (%.0f, %.0f), out of its view", p, x, y)
			}
		}
		st := pl.rx.Stats()
		assert.Zero(t, st.Errors)
		t.Logf("client %d: %d entities, %d snapshots, %d bytes, delay %v", p, st.Entities, st.Snapshots, st.Bytes, st.Delay)
	}
}

// nearView allows the view's margin (an eighth of its size).
func nearView(p int, x, y float64) bool {
	if p == 0 {
		return x <= 1600+200 && y <= 1000+125
	}
	return x >= 4400-200 && y >= 2700-125
}

// What a viewer holds for its client is charged to the client's
// connection (Peer.Hold), and given back when it leaves.
func TestReplicateChargesTheConnection(t *testing.T) {
	s := rocks()
	f := newField(t, s)
	srv, err := server.New(server.Config{Handler: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		<-srv.Done()
	})
	c := client.New(client.Config{ServerKey: srv.RootKey().Public()})
	require.NoError(t, c.Connect(srv.Addr().String(), nil))
	var sn server.Snapshot
	held := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && held < 16<<10; time.Sleep(10 * time.Millisecond) {
		c.Update()
		c.Messages()
		if srv.Snapshot(&sn); len(sn.Peers) == 1 {
			held = sn.Peers[0].Held
		}
	}
	assert.GreaterOrEqual(t, held, 16<<10, "the viewer's baselines and records are charged to the client")
	assert.GreaterOrEqual(t, sn.MemoryHeld, held)
	c.ForceDisconnect()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if srv.Snapshot(&sn); len(sn.Peers) == 0 && sn.MemoryHeld == 0 {
			break
		}
	}
	assert.Empty(t, sn.Peers)
	assert.Zero(t, sn.MemoryHeld, "given back when the client left")
}
