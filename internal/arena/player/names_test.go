package player_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/replicate"
	"github.com/mpgs/mpgameserver/server"
)

// dirtyServer is an arena server of another build that announces players
// by names no arena server of ours would send: with bidi overrides,
// zero-width characters, spaces, or nothing visible at all.
type dirtyServer struct {
	server.BaseHandler
	acked int // Join events acknowledged
	rep   *replicate.Replicator
	now   time.Time
}

func (d *dirtyServer) Connect(p *server.Peer) {
	_ = p.SendGuaranteed(wire.AppendWelcome(nil, wire.Welcome{ID: p.Token(), Scene: "classic"}), nil)
	// Three ships, the player's own in the snapshots' data.
	d.rep = replicate.New(wire.Schema(sim.Classic()), replicate.Config{Workers: 1})
	v := d.rep.Add(p)
	v.SetView(800, 500, 800, 500)
	v.SetData(wire.AppendOwn(nil, wire.Own{X: 100, Y: 100, Alive: true}))
	for i, id := range []uint32{7, 8} {
		e, _ := d.rep.Spawn(wire.KindShip)
		d.rep.SetInt(e, wire.ShipPlayer, int64(id))
		d.rep.Set(e, wire.FX, float64(200+100*i))
		d.rep.Set(e, wire.FY, 100)
		d.rep.SetBool(e, wire.ShipAlive, true)
	}
}

func (d *dirtyServer) Update(delta time.Duration) {
	if d.rep != nil {
		d.now = d.now.Add(delta)
		d.rep.Update(d.now)
	}
}

func (d *dirtyServer) Shutdown() {
	if d.rep != nil {
		d.rep.Close()
	}
}

func (d *dirtyServer) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	switch k, _ := wire.KindOf(msg); k {
	case wire.KindIdentify:
		_ = p.SendGuaranteed(wire.AppendIdentity(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), nil)
		for _, e := range []wire.Event{
			{Kind: wire.EventJoin, ID: p.Token(), Name: "me", Color: 1},
			{Kind: wire.EventJoin, ID: 7, Color: 2},
			{Kind: wire.EventJoin, ID: 8, Color: 3},
		} {
			m := wire.AppendEvent(nil, e)
			switch e.ID {
			case 7: // AppendEvent would clean the name: write it raw
				m = appendRawName(m, "\u202eevil\u200b one")
			case 8:
				m = appendRawName(m, "\u2066\u200b \u3000")
			}
			_ = p.SendGuaranteed(m, func(ok bool) {
				if d.acked++; ok && d.acked == 3 {
					// Every name is known: 7 kills 8.
					_ = p.SendGuaranteed(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: 8, Other: 7}), nil)
				}
			})
		}
	}
}

// appendRawName replaces the (empty) name of an encoded event with name.
func appendRawName(m []byte, name string) []byte {
	m[len(m)-1] = byte(len(name))
	return append(m, name...)
}

// TestPlayerCleansNames: the names a player shows (over the ships, on the
// score board, in the kill feed) are cleaned as the server cleans them,
// whatever the server sent; a name with nothing left is shown as the
// player's number.
func TestPlayerCleansNames(t *testing.T) {
	addr, root := host(t, &dirtyServer{})
	p := player.New(player.Options{Name: "me", Key: root.Public()})
	require.NoError(t, p.Connect(addr))
	defer p.Client().ForceDisconnect()
	now := time.Now()
	names := map[uint32]string{}
	var kills []player.Kill
	for deadline := time.Now().Add(10 * time.Second); len(names) < 3 || len(kills) == 0; time.Sleep(2 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "waited 10 s: %v %v", names, kills)
		now = now.Add(time.Second / 60)
		p.Frame(now, 0)
		v := p.View(now)
		for _, s := range v.Ships {
			if s.Name != "" && s.Name[0] != '#' || s.ID == 8 {
				names[s.ID] = s.Name
			}
		}
		kills = v.Kills
	}
	assert.Equal(t, map[uint32]string{p.ID(): "me", 7: "evil_one", 8: "#8"}, names)
	assert.Equal(t, "evil_one", kills[0].Killer)
	assert.Equal(t, "#8", kills[0].Victim)
}
