// Package lab runs an arena server's game (arena.Handler) and players
// (player.Player) over simulated links (carrier/netsim), each player's
// connection a pair of real protocol state machines (internal/pair:
// handshake, encryption, acks, retransmission) on one fake clock. A run is
// deterministic for a seed and does not depend on the machine's speed:
// `mpgameserver simulate --game arena` and the arena's tests use it to
// measure what players see through a link.
package lab

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/pair"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Step is the lab's clock resolution: links deliver and connections poll
// every millisecond.
const Step = time.Millisecond

// Tick is the server's tick and the players' frame time.
const Tick = time.Second / sim.TickRate

// Bot chooses a player's buttons for a frame, from what the player shows
// at now.
type Bot func(p *player.Player, now time.Time) sim.Input

// Lab is a simulated arena: one server game, players on links of their
// own. It is not safe for concurrent use.
type Lab struct {
	// Now is the fake clock.
	Now time.Time
	// Game is the server's game.
	Game *arena.Handler

	seed    uint64
	members []*member
	tickAt  time.Time // the server's next tick
	frameAt time.Time // the players' next frame
}

// member is a player and its connection.
type member struct {
	pair *pair.Pair
	peer *peer
	link *link
	p    *player.Player
	bot  Bot
	in   [][]byte // messages the server connection received, for the game
	on   bool     // the game has the player (Join)
	gone bool     // the game let it go (Leave)
}

// New returns a lab around a game made with opts.
func New(opts arena.Options, seed uint64) *Lab {
	now := pair.Start
	return &Lab{Now: now, Game: arena.New(nil, opts), seed: seed, tickAt: now.Add(Tick), frameAt: now.Add(Tick / 2)}
}

// Add connects a player named name over a link whose each direction
// follows prof, played by bot; the handshake runs with Run.
func (l *Lab) Add(name string, prof netsim.Profile, bot Bot) (*player.Player, error) {
	seed := l.seed*1000 + uint64(len(l.members))*10
	pr, err := pair.NewPair(prof, prof, seed)
	if err != nil {
		return nil, err
	}
	pr.Now, pr.Loop = l.Now, true
	m := &member{pair: pr, bot: bot}
	pr.OnServer = func(c *session.Conn) {
		m.peer = &peer{c: c}
		c.SetHandler(func(_ protocol.Seq, msg []byte) { m.in = append(m.in, append([]byte(nil), msg...)) })
	}
	if err := pr.Dial(); err != nil {
		return nil, err
	}
	m.link = &link{c: pr.Client, lab: l}
	pr.Client.SetHandler(func(seq protocol.Seq, msg []byte) {
		if m.link.watch != nil {
			m.link.watch(msg)
		}
		m.link.inbox = append(m.link.inbox, client.Message{Seq: seq, Data: append([]byte(nil), msg...)})
	})
	m.p = player.NewOn(m.link, player.Options{Name: name, Color: uint8(len(l.members))})
	l.members = append(l.members, m)
	return m.p, nil
}

// Run advances the lab by d: the links and connections every Step, the
// server's game and the players' frames every Tick (half a tick apart).
func (l *Lab) Run(d time.Duration) {
	end := l.Now.Add(d)
	for l.Now.Before(end) {
		l.Now = l.Now.Add(Step)
		for _, m := range l.members {
			m.pair.Step(Step)
			l.serve(m)
		}
		if !l.Now.Before(l.tickAt) {
			l.tickAt = l.tickAt.Add(Tick)
			l.Game.Update(Tick)
		}
		if !l.Now.Before(l.frameAt) {
			l.frameAt = l.frameAt.Add(Tick)
			for _, m := range l.members {
				var in sim.Input
				if m.bot != nil && m.p.InGame() {
					in = m.bot(m.p, l.Now)
				}
				m.p.Frame(l.Now, in)
			}
		}
	}
}

// serve hands the game what m's server connection did: its arrival, its
// messages, its end.
func (l *Lab) serve(m *member) {
	if m.peer == nil || m.gone {
		return
	}
	st := m.peer.c.Status()
	if !m.on && st == conn.Connected {
		m.on = true
		l.Game.Join(m.peer)
	}
	if m.on {
		for _, msg := range m.in {
			l.Game.Receive(m.peer, msg)
		}
	}
	m.in = m.in[:0]
	if m.on && st.Closed() {
		m.gone = true
		l.Game.Leave(m.peer)
	}
}

// Tamper makes player i's messages to the server go through f first: a
// client that lies.
func (l *Lab) Tamper(i int, f func(msg []byte) []byte) { l.members[i].link.tamper = f }

// Observe shows f every message player i receives (valid during the
// call only).
func (l *Lab) Observe(i int, f func(msg []byte)) { l.members[i].link.watch = f }

// Links returns the two links of each player: to the server and back.
func (l *Lab) Links(i int) (up, down netsim.LinkStats) {
	m := l.members[i]
	return m.pair.C2S.Stats(), m.pair.S2C.Stats()
}

// Close stops the game's replication workers.
func (l *Lab) Close() { l.Game.Shutdown() }

// String describes the lab's players.
func (l *Lab) String() string {
	return fmt.Sprintf("lab: %d players at %v", len(l.members), l.Now.Sub(pair.Start))
}

// peer is the server's side of a player's connection, as the game uses
// it.
type peer struct{ c *session.Conn }

func (p *peer) Token() uint32 { return p.c.Token() }
func (p *peer) Send(b []byte, retry conn.RetryMode, cb func(bool)) error {
	return p.c.Send(b, retry, cb)
}
func (p *peer) Log() *slog.Logger      { return slog.New(slog.DiscardHandler) }
func (p *peer) SetLabel(string)        {}
func (p *peer) Hold(n int) error       { return p.c.Hold(n) }
func (p *peer) Release(n int)          { p.c.Release(n) }
func (p *peer) Latency() time.Duration { return p.c.Latency() }

// link is the player's side of its connection.
type link struct {
	c      *session.Conn
	lab    *Lab
	inbox  []client.Message
	out    []client.Message
	tamper func([]byte) []byte
	watch  func([]byte)
}

func (k *link) Update() {}
func (k *link) Messages() []client.Message {
	k.out, k.inbox = k.inbox, k.out[:0]
	return k.out
}
func (k *link) Connected() bool     { return k.c.Status() == conn.Connected }
func (k *link) Status() conn.Status { return k.c.Status() }
func (k *link) Err() error          { return k.c.Err() }
func (k *link) Send(b []byte, retry conn.RetryMode, cb func(bool)) error {
	if k.tamper != nil {
		b = k.tamper(b)
	}
	return k.c.Send(b, retry, cb)
}
func (k *link) SendGuaranteed(b []byte, cb func(bool)) error {
	return k.c.Send(b, conn.RetryOnTimeout, cb)
}
func (k *link) Disconnect() { k.c.Disconnect(k.lab.Now) }
