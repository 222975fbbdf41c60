package arena_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/predict"
)

// TestInputFloodBesidePlayers: a client that floods the server with input
// batches (hundreds a frame, numbered far ahead, repeated, out of order)
// on a real socket, beside three players. Its jitter buffer never holds
// more than its depth, and the players keep playing: their inputs are
// applied in order and their predictions stay right.
func TestInputFloodBesidePlayers(t *testing.T) {
	h := arena.New(nil, arena.Options{Seed: 9})
	srv, root, players := onSockets(t, h, 3)
	flood := client.New(client.Config{ServerKey: root.Public()})
	require.NoError(t, flood.Connect(srv.Addr().String(), nil))
	defer flood.ForceDisconnect()

	// inputs reads the flooder's buffer on the event goroutine.
	inputs := func() (n int, st predict.BufferStats, ok bool) {
		done := make(chan struct{})
		srv.Post(func() { n, st, ok = h.Inputs(flood.Token()); close(done) })
		<-done
		return
	}
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	var (
		seq     uint32
		most    int
		batches int
		ins     = make([]wire.Input, wire.MaxInputs)
	)
	for n := 0; n < 6*sim.TickRate; n++ {
		now := <-frame.C
		for i, p := range players {
			p.Frame(now, scripts[i](n))
		}
		flood.Update()
		flood.Messages()
		if !flood.Connected() {
			continue
		}
		// 200 batches a frame: new inputs far ahead, the same again, and
		// old ones, each of MaxInputs.
		for k := range 200 {
			switch k % 3 {
			case 0:
				seq += 1000
			case 2:
				seq -= 500
			}
			for j := range ins {
				ins[j] = wire.Input{Seq: seq + uint32(j), In: sim.Thrust | sim.Laser, View: time.Duration(seq) * time.Millisecond}
			}
			if flood.Send(wire.AppendInputs(nil, ins), conn.RetryNone, nil) == nil {
				batches++
			}
		}
		if n%10 == 0 {
			if w, _, ok := inputs(); ok {
				most = max(most, w)
			}
		}
	}
	w, st, ok := inputs()
	require.True(t, ok, "the flooder is still a player")
	most = max(most, w)
	t.Logf("flooder: %d batches sent; buffer at most %d waiting; %+v", batches, most, st)
	assert.LessOrEqual(t, most, arena.MaxQueuedInputs, "the buffer never grows past its depth")
	assert.Positive(t, st.Dropped+st.Jumps, "the flood reached the buffer")
	for i, p := range players {
		require.True(t, p.InGame(), "player %d: %v", i+1, p.Err())
		m := p.Mispredictions()
		t.Logf("p%d: %d reconciles, misprediction mean %.3f max %.3f", i+1, m.Reconciles, m.Mean(), m.Max)
		assert.Greater(t, m.Reconciles, 30, "player %d's inputs keep being applied", i+1)
		assert.Less(t, m.Mean(), 1.0, "player %d's prediction stays right", i+1)
		var pw int
		var pst predict.BufferStats
		done := make(chan struct{})
		srv.Post(func() { pw, pst, _ = h.Inputs(p.ID()); close(done) })
		<-done
		assert.LessOrEqual(t, pw, arena.MaxQueuedInputs)
		// A busy machine that stalls a server tick drops a player's input
		// or two (more came than the buffer holds); the flood, were it
		// charged to the players, would drop them by the hundred.
		assert.LessOrEqual(t, pst.Dropped+pst.Jumps, pst.Applied/20, "player %d's inputs are not dropped for the flood: %+v", i+1, pst)
	}
}
