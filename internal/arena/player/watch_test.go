package player_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// watchLink is a perfect link from a handler to a watching player: what
// the handler sends arrives at the next frame and is acknowledged then;
// what the player sends is counted.
type watchLink struct {
	inbox, out []client.Message
	acks       []func(bool)
	sends      int
}

func (k *watchLink) Token() uint32 { return 77 }
func (k *watchLink) Send(b []byte, _ conn.RetryMode, ack func(bool)) error {
	k.inbox = append(k.inbox, client.Message{Data: append([]byte(nil), b...)})
	if ack != nil {
		k.acks = append(k.acks, ack)
	}
	return nil
}
func (k *watchLink) Log() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (k *watchLink) SetLabel(string)   {}

func (k *watchLink) Update() {}
func (k *watchLink) Messages() []client.Message {
	k.out, k.inbox = k.inbox, k.out[:0]
	return k.out
}
func (k *watchLink) Connected() bool     { return true }
func (k *watchLink) Status() conn.Status { return conn.Connected }
func (k *watchLink) Err() error          { return nil }
func (k *watchLink) SendGuaranteed(b []byte, ack func(bool)) error {
	k.sends++
	return nil
}
func (k *watchLink) Disconnect() {}

// playerLink is the player's side of a watchLink: its sends counted.
type playerLink struct{ *watchLink }

func (k playerLink) Send([]byte, conn.RetryMode, func(bool)) error { k.sends++; return nil }

// TestWatchShowsTheServersShip: a player in Watch mode, fed what an arena
// handler sends its seat while the seat's inputs come from elsewhere (a
// recording's), sends nothing, whatever buttons its frames are given; its
// ship is the server's at each snapshot, thrusting when the server's ship
// thrusts and not otherwise; and its laser shots are drawn as the
// server judged them.
func TestWatchShowsTheServersShip(t *testing.T) {
	h := arena.New(nil, arena.Options{Seed: 4})
	defer h.Shutdown()
	k := &watchLink{}
	h.Join(k)
	h.Receive(k, wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}))
	h.Receive(k, wire.AppendHello(nil, wire.Hello{Name: "ann", Color: 2}))
	p := player.NewOn(playerLink{k}, player.Options{Name: "ann", Watch: true})

	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const tick = time.Second / sim.TickRate
	seq := uint32(0)
	var thrusting, coasting, beams, compared int
	snaps, last := uint64(0), -1 // snapshots seen, and at which frame the last came
	for i := range 240 {
		var in sim.Input
		switch {
		case i >= 30 && i < 90:
			in = sim.Thrust
		case i == 150:
			in = sim.Laser
		}
		seq++
		h.Receive(k, wire.AppendInputs(nil, []wire.Input{{Seq: seq, In: in}}))
		h.Update(tick)
		now := t0.Add(time.Duration(i+1) * tick)
		acks := k.acks
		k.acks = nil
		// The buttons given to a watching player count for nothing.
		p.Frame(now, sim.Thrust|sim.Fire|sim.Laser)
		for _, a := range acks {
			a(true)
		}
		v := p.View(now)
		for _, b := range v.Beams {
			if b.Local {
				beams++
			}
		}
		if v.Replication.Snapshots == snaps {
			continue // no snapshot this frame (the world's tick is odd, or nothing changed in view)
		}
		snaps = v.Replication.Snapshots
		prev := last
		last = i
		require.NotEmpty(t, v.Ships, "tick %d", i)
		me := v.Ships[0]
		require.True(t, me.Local)
		ship := h.World().Ship(77)
		assert.InDelta(t, ship.X, me.X, 0.01)
		assert.InDelta(t, ship.Y, me.Y, 0.01)
		assert.Equal(t, ship.Alive, me.Alive)
		assert.Equal(t, "ann", me.Name)
		assert.Equal(t, uint8(2), me.Color)
		compared++
		switch {
		case prev >= 31 && i < 90:
			assert.True(t, me.Thrust, "tick %d: thrusting since %d", i, prev)
			thrusting++
		case prev >= 91 && i < 150:
			assert.False(t, me.Thrust, "tick %d: coasting since %d", i, prev)
			coasting++
		}
		// Until the next snapshot the ship moves on along its velocity.
		then := p.View(now.Add(tick / 2))
		assert.InDelta(t, me.X+me.VX*(tick/2).Seconds(), then.Ships[0].X, 0.01)
		assert.InDelta(t, me.Y+me.VY*(tick/2).Seconds(), then.Ships[0].Y, 0.01)
	}
	t.Logf("%d snapshots compared", compared)
	assert.Positive(t, thrusting)
	assert.Positive(t, coasting)
	assert.Positive(t, beams, "the ship's laser beam, as the server judged it")
	assert.Zero(t, p.Lasers().Fired, "nothing predicted")
	assert.Zero(t, k.sends, "a spectator sends nothing")
	assert.True(t, p.InGame())
	assert.NoError(t, p.Err())
}
