package arena_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/server"
)

// Three clients that lie with their acks, on real sockets, beside 64
// players in the battle: one never acknowledges a packet, one holds its
// acks back and then acknowledges everything at once, one acknowledges
// packets the server never sent. The players keep playing (every snapshot
// decodes, nobody is dropped), and what the liars make the server hold
// stays within one client's bounds. (How well players see the world
// through loss is measured on a fake clock: replication_internal_test.go.)
func TestLyingAcksBesidePlayers(t *testing.T) {
	if testing.Short() {
		t.Skip("64 players for 12 s")
	}
	h := arena.New(nil, arena.Options{Seed: 5, Scene: sim.Battle()})
	srv, root, players := onSockets(t, h, 64)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var liars []*attack.Client
	for range 3 {
		c, err := attack.Dial(ctx, srv.Addr(), root.Public(), 10*time.Second)
		require.NoError(t, err)
		defer c.Close()
		liars = append(liars, c)
	}
	silent, hoarder, forger := liars[0], liars[1], liars[2]
	silent.WithholdAcks(true)
	hoarder.WithholdAcks(true)
	forger.ForgeAcks(func(ack protocol.Seq, _ uint32) (protocol.Seq, uint32) { return ack + 20000, ^uint32(0) })

	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	start := time.Now()
	got := make([]int, len(liars))
	for n := 0; ; n++ {
		now := <-frame.C
		el := now.Sub(start)
		if el > 12*time.Second {
			break
		}
		for _, p := range players {
			p.Frame(now, 0)
		}
		if el > 8*time.Second {
			hoarder.WithholdAcks(false) // everything at once
		}
		if n%3 == 0 {
			for i, c := range liars {
				msgs, err := c.Poll()
				require.NoError(t, err)
				got[i] += len(msgs)
				_, err = c.Send([]protocol.Message{c.Message(protocol.TypeKeepAlive, nil)})
				require.NoError(t, err)
			}
		}
	}
	var sn server.Snapshot
	srv.Snapshot(&sn)
	for i, p := range players {
		require.True(t, p.InGame(), "player %d: %v", i+1, p.Err())
		v := p.View(time.Now())
		assert.Greater(t, v.Replication.Entities, 30, "player %d sees its part of the world", i+1)
		assert.Greater(t, v.Replication.Snapshots, uint64(30), "player %d keeps getting snapshots (heartbeats alone are 4 a second)", i+1)
	}
	require.Len(t, sn.Peers, 67, "every player and every liar still connected")
	var liarHeld, most int
	for _, r := range sn.Peers {
		most = max(most, r.World.Memory)
		if r.Label == "" { // the liars never said hello
			liarHeld += r.Held
			t.Logf("liar: %d in view, %d waiting, %d bytes held, %d of it the replicator's", r.World.InView, r.World.Waiting, r.Held, r.World.Memory)
		}
	}
	t.Logf("liars got %v messages; they hold %d bytes; the most any client's viewer holds: %d bytes; the server holds %d of %d",
		got, liarHeld, most, sn.MemoryHeld, sn.MemoryBudget)
	assert.Less(t, most, 1<<20, "one client's viewer stays within its bounds")
	assert.Less(t, liarHeld, 3*(4<<20), "the liars hold what three clients may")
	assert.Positive(t, got[0]+got[1]+got[2])
}
