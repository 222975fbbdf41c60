package arena_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/replicate"
	"github.com/mpgs/mpgameserver/server"
)

// counting is the arena handler that also counts the Hellos it is given.
type counting struct {
	*arena.Handler
	hellos atomic.Int64
}

func (h *counting) HandleMessage(c *server.Peer, seq conn.Seq, msg []byte) {
	if k, _ := wire.KindOf(msg); k == wire.KindHello {
		h.hellos.Add(1)
	}
	h.Handler.HandleMessage(c, seq, msg)
}

// lab is an arena server on an in-memory network, for tests in a synctest
// bubble.
type lab struct {
	t    *testing.T
	h    *counting
	srv  *server.Server
	out  *syncbuf.Buffer
	net  *transport.Network
	root *conn.PrivateKey
}

func newLab(t *testing.T) *lab {
	l := &lab{t: t, out: new(syncbuf.Buffer), net: transport.NewNetwork()}
	l.h = &counting{Handler: arena.NewHandler(l.out, 1)}
	pc, err := l.net.Listen(netip.MustParseAddrPort("127.0.0.1:1474"))
	require.NoError(t, err)
	l.root, err = conn.GenerateKey(nil)
	require.NoError(t, err)
	l.srv, err = server.NewWithConn(server.Config{Handler: l.h, RootKey: l.root, Logger: slog.New(slog.DiscardHandler)}, pc)
	require.NoError(t, err)
	go l.srv.Run()
	t.Cleanup(func() { l.srv.Stop(); <-l.srv.Done() })
	return l
}

func (l *lab) dial(addr string) (transport.Conn, error) {
	return l.net.Dial(netip.MustParseAddrPort(addr))
}

// on runs fn on the server's event goroutine and waits for it.
func (l *lab) on(fn func()) {
	done := make(chan struct{})
	l.srv.Post(func() { fn(); close(done) })
	<-done
}

// sent returns how many messages the server queued for player id so far.
func (l *lab) sent(id uint32) (n uint64) {
	l.on(func() {
		if c := l.srv.Peer(id); c != nil {
			n = c.Stats().Sent
		}
	})
	return n
}

// joinLines returns the JOIN lines printed for name.
func (l *lab) joinLines(name string) int {
	n := 0
	for _, line := range strings.Split(l.out.String(), "\n") {
		if line == "JOIN "+name {
			n++
		}
	}
	return n
}

// peer is a bare arena client: it sends what it is told to and counts
// the Join events it gets for each player, and the snapshots.
type peer struct {
	c        *client.Client
	id       uint32 // from the Welcome
	joins    map[uint32]int
	names    map[uint32]string
	snaps    int
	seq      uint32
	hello    wire.Hello
	helloOut bool
}

func (l *lab) peer(name string, color uint8) *peer {
	p := &peer{
		c:     client.New(client.Config{ServerKey: l.root.Public(), Dial: l.dial}),
		joins: make(map[uint32]int), names: make(map[uint32]string),
		hello: wire.Hello{Name: name, Color: color},
	}
	require.NoError(l.t, p.c.Connect(l.srv.Addr().String(), nil))
	l.t.Cleanup(p.c.ForceDisconnect)
	return p
}

// frame reads what came and, once welcomed, says hello (once) and sends
// an input, as a game client does each frame.
func (p *peer) frame() {
	p.c.Update()
	for _, m := range p.c.Messages() {
		switch k, _ := wire.KindOf(m.Data); k {
		case wire.KindWelcome:
			if w, err := wire.ParseWelcome(m.Data); err == nil {
				p.id = w.ID
			}
		case replicate.DefaultTag:
			p.snaps++
		case wire.KindEvent:
			if e, err := wire.ParseEvent(m.Data); err == nil && e.Kind == wire.EventJoin {
				p.joins[e.ID]++
				p.names[e.ID] = e.Name
			}
		}
	}
	if p.id == 0 || !p.c.Connected() {
		return
	}
	if !p.helloOut {
		p.helloOut = true
		_ = p.c.SendGuaranteed(wire.AppendHello(nil, p.hello), nil)
	}
	p.seq++
	_ = p.c.Send(wire.AppendInput(nil, wire.Input{Seq: p.seq, In: sim.Left | sim.Thrust}), conn.RetryNone, nil)
}

// TestHelloFloodIsNotAmplified: a player that sends 1,024 Hellos a tick
// for a second, beside four others (three bare clients that count what
// they get, and a game client), makes the server announce a few name
// changes at most (HelloBurst and one every HelloRefill), or only its
// first Hello when they are all the same: the other players stay in the
// game, keep getting their snapshots, and the server queues them no more
// than usual; the JOIN line is printed once. Everything runs on the fake
// clock of a synctest bubble.
func TestHelloFloodIsNotAmplified(t *testing.T) {
	const (
		perTick = 1024
		attack  = time.Second
		settle  = time.Second
	)
	for _, tc := range []struct {
		name      string
		hello     func(i int) wire.Hello
		joinsUpTo int // Join events for the attacker each other player gets
	}{
		{"changing", func(i int) wire.Hello {
			return wire.Hello{Name: fmt.Sprintf("mallory%d", i%2), Color: uint8(i % 2)}
		}, 1 + arena.HelloBurst + int(attack/arena.HelloRefill) + 1},
		{"identical", func(int) wire.Hello { return wire.Hello{Name: "mallory0", Color: 0} }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLab(t)
				var others []*peer
				for i := range 3 {
					others = append(others, l.peer(fmt.Sprintf("p%d", i+1), uint8(i)))
				}
				gamer := player.New(player.Options{Name: "p4", Color: 3, Key: l.root.Public(), Dial: l.dial})
				require.NoError(t, gamer.Connect(l.srv.Addr().String()))
				t.Cleanup(gamer.Client().ForceDisconnect)
				mallory := l.peer("mallory0", 0)

				frame := time.NewTicker(time.Second / sim.TickRate)
				defer frame.Stop()
				everyone := func() {
					now := <-frame.C
					for _, o := range others {
						o.frame()
					}
					gamer.Frame(now, sim.Right)
				}
				// Everyone joins (5 s at most).
				for n := 0; strings.Count(l.out.String(), "JOIN ") < 5 || !gamer.InGame(); n++ {
					require.Less(t, n, 5*sim.TickRate, "joining")
					everyone()
					mallory.frame()
				}
				for range sim.TickRate / 2 {
					everyone()
					mallory.frame()
				}
				require.Equal(t, 1, l.joinLines("mallory0"))
				for _, o := range others {
					require.Equal(t, 1, o.joins[mallory.id], "mallory announced")
				}
				sentBefore := make([]uint64, len(others))
				snapsBefore := make([]int, len(others))
				for i, o := range others {
					sentBefore[i], snapsBefore[i] = l.sent(o.id), o.snaps
				}
				hellosBefore := l.h.hellos.Load()

				// The flood, then a second for what it caused to arrive.
				var refused int
				var rows []server.PeerSnapshot // the other players', as published
				var snap server.Snapshot
				version := l.srv.SnapshotVersion()
				for n := 0; n < int((attack+settle)*sim.TickRate/time.Second); n++ {
					if n < int(attack*sim.TickRate/time.Second) {
						for i := range perTick {
							if mallory.c.Send(wire.AppendHello(nil, tc.hello(i)), conn.RetryNone, nil) != nil {
								refused++
							}
						}
					}
					everyone()
					mallory.frame()
					// The server publishes its state once a second: keep
					// the other players' rows.
					if v := l.srv.SnapshotVersion(); v != version {
						version = v
						l.srv.Snapshot(&snap)
						for _, r := range snap.Peers {
							if r.Token == mallory.id {
								continue
							}
							rows = append(rows, r)
						}
					}
				}
				hellos := l.h.hellos.Load() - hellosBefore
				var dropped int
				l.on(func() { dropped = l.h.HellosDropped(mallory.id) })
				t.Logf("%d Hellos sent, %d refused by the client's queue, %d handled by the server, %d dropped over the limit",
					perTick*int(attack*sim.TickRate/time.Second), refused, hellos, dropped)
				require.Greater(t, hellos, int64(perTick*sim.TickRate/2), "the server got a flood")
				assert.True(t, mallory.c.Connected(), "the flood itself is within what a client may send")

				for i, o := range others {
					sent := l.sent(o.id) - sentBefore[i]
					snaps := o.snaps - snapsBefore[i]
					t.Logf("p%d: %d Joins for mallory, %d messages queued for it in %v, %d snapshots", i+1, o.joins[mallory.id], sent, attack+settle, snaps)
					assert.True(t, o.c.Connected(), "p%d connected", i+1)
					assert.GreaterOrEqual(t, o.joins[mallory.id], 1)
					assert.LessOrEqual(t, o.joins[mallory.id], tc.joinsUpTo, "p%d: Joins for mallory", i+1)
					// 30 snapshots a second and the few Joins.
					assert.LessOrEqual(t, sent, uint64(30*int((attack+settle)/time.Second)+10+tc.joinsUpTo), "p%d: messages queued", i+1)
					assert.Greater(t, snaps, 40, "p%d kept getting snapshots", i+1)
					assert.Equal(t, 1, o.joins[o.id], "p%d announced once", i+1)
				}
				require.NotEmpty(t, rows, "the server published its state")
				for _, r := range rows {
					// Held counts the replication's baselines too
					// (Peer.Hold), which the flood does not change.
					t.Logf("token %d: %d packets pending, %d bytes held, %d of them the replication's", r.Token, r.Pending, r.Held, r.World.Memory)
					assert.Less(t, r.Pending, 64, "token %d: packets awaiting an ack", r.Token)
					assert.Less(t, r.Held-r.World.Memory, 32<<10, "token %d: bytes of messages alive", r.Token)
				}
				assert.True(t, gamer.InGame(), "the game client plays on")
				assert.NoError(t, gamer.Err())

				// The attacker's name as everyone has it is its last
				// announced one, and the JOIN line was printed once.
				var final string
				l.on(func() { final = l.h.Name(mallory.id) })
				for i, o := range others {
					assert.Equal(t, final, o.names[mallory.id], "p%d", i+1)
				}
				var shown string
				for _, s := range gamer.View(time.Now()).Ships {
					if s.ID == mallory.id {
						shown = s.Name
					}
				}
				assert.Equal(t, final, shown)
				assert.Equal(t, 1, l.joinLines("mallory0"), "JOIN printed once:\n%s", l.out.String())
				assert.Equal(t, 5, strings.Count(l.out.String(), "JOIN "), "%s", l.out.String())
				if tc.joinsUpTo == 1 {
					assert.Zero(t, dropped, "a Hello that changes nothing is no change to drop")
				} else {
					assert.Positive(t, dropped)
				}
			})
		})
	}
}

// TestHelloAnnouncesChangesOnly: through the server, a Hello that changes
// nothing sends nothing to anyone; changes are announced, HelloBurst at
// once and one every HelloRefill after that, and the ones over the limit
// are dropped and counted. Names are cleaned before they are printed or
// sent, and a name with nothing left is the default one.
func TestHelloAnnouncesChangesOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		obs := l.peer("obs", 1)
		ann := l.peer("\u202eann\u200b  the\u00a0great\u2066", 2)
		frame := time.NewTicker(time.Second / sim.TickRate)
		defer frame.Stop()
		frames := func(n int) {
			for range n {
				<-frame.C
				obs.frame()
				ann.frame()
			}
		}
		for n := 0; strings.Count(l.out.String(), "JOIN ") < 2; n++ {
			require.Less(t, n, 5*sim.TickRate, "joining")
			frames(1)
		}
		frames(sim.TickRate / 2)
		require.Equal(t, 1, l.joinLines("ann_the_great"), "%s", l.out.String())
		require.Equal(t, 1, obs.joins[ann.id])
		require.Equal(t, "ann_the_great", obs.names[ann.id])

		say := func(hs ...wire.Hello) {
			for _, h := range hs {
				require.NoError(t, ann.c.SendGuaranteed(wire.AppendHello(nil, h), nil))
			}
			frames(sim.TickRate / 2) // time to arrive, and to be announced
		}
		dropped := func() (n int) {
			l.on(func() { n = l.h.HellosDropped(ann.id) })
			return n
		}

		// The same again, however written: nothing.
		same := wire.Hello{Name: "ann the great", Color: 2}
		say(same, same, wire.Hello{Name: "ann_the_great", Color: 2}, wire.Hello{Name: "\u200bann the\u3000great ", Color: 2})
		assert.Equal(t, 1, obs.joins[ann.id], "nothing changed: nothing announced")
		assert.Equal(t, 1, ann.joins[ann.id])

		// Enough time for a full bucket, then HelloBurst+3 changes at once.
		frames(int(arena.HelloBurst * arena.HelloRefill * sim.TickRate / time.Second))
		var changes []wire.Hello
		for i := range arena.HelloBurst + 3 {
			changes = append(changes, wire.Hello{Name: fmt.Sprintf("ann%d", i), Color: 2})
		}
		say(changes...)
		assert.Equal(t, 1+arena.HelloBurst, obs.joins[ann.id], "the burst is announced")
		assert.Equal(t, fmt.Sprintf("ann%d", arena.HelloBurst-1), obs.names[ann.id], "the rest dropped")
		assert.Equal(t, 3, dropped())

		// A token later, one change more; a name with nothing left in it
		// is the default name.
		frames(int(arena.HelloRefill * sim.TickRate / time.Second))
		say(wire.Hello{Name: "\u200b\u202e \u3164", Color: 2})
		assert.Equal(t, 2+arena.HelloBurst, obs.joins[ann.id])
		assert.Equal(t, "player2", obs.names[ann.id])
		assert.Equal(t, 3, dropped())

		assert.Equal(t, 1, obs.joins[obs.id], "obs announced once")
		assert.Equal(t, 2, strings.Count(l.out.String(), "JOIN "), "%s", l.out.String())
		assert.Equal(t, 1, l.joinLines("ann_the_great"), "%s", l.out.String())

		// The LEAVE line has the name the player left with.
		ann.c.Disconnect()
		for n := 0; !strings.Contains(l.out.String(), "LEAVE "); n++ {
			require.Less(t, n, 5*sim.TickRate, "leaving")
			frames(1)
		}
		assert.Contains(t, l.out.String(), "\nLEAVE player2 active=1\n")
	})
}
