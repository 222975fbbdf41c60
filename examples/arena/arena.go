// Package arena is a small real-time multiplayer game on mpgameserver:
// top-down ships that rotate, thrust and fire in a walled arena, with
// respawns and a score board.
//
// The server is authoritative: Handler runs the simulation (package sim)
// at the server's tick rate, takes one input per player per tick from a
// short queue, and sends every player a snapshot 30 times a second as a
// plain (unreliable) message; joins, leaves and kills go as guaranteed
// events. Clients (package player) send their buttons every frame, predict
// their own ship and reconcile it with each snapshot, and interpolate the
// other ships 100 ms in the past, so the game feels immediate at 100 ms of
// latency. A client first asks which game the server hosts
// (wire.Identify); Handler answers with wire.Identity, so that a client
// sent to a server of another game says so instead of waiting forever.
// Package game is the Ebitengine window; RunBots adds computer players.
package arena

import (
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/examples/arena/sim"
	"github.com/mpgs/mpgameserver/examples/arena/wire"
)

// Tuning of the server side.
const (
	// SnapshotEvery sends a snapshot every this many simulation ticks
	// (30 a second).
	SnapshotEvery = 2
	// MaxQueuedInputs bounds a player's input queue; older inputs are
	// dropped so a burst after a stall does not turn into lag.
	MaxQueuedInputs = 4
	// maxStepsPerUpdate bounds the catch-up after a slow tick.
	maxStepsPerUpdate = 4
)

// seat is the server's state of one connected player.
type seat struct {
	c       *server.Peer
	name    string
	color   uint8
	named   bool
	inputs  []wire.Input // received, not yet applied, oldest first
	lastSeq uint32       // newest input seq received
	ack     uint32       // last input applied
	bad     int          // malformed messages
}

// Handler is the arena's server.EventHandler. Its state belongs to the
// server's event goroutine.
type Handler struct {
	server.BaseHandler
	out     io.Writer
	world   *sim.World
	players map[uint32]*seat
	order   []uint32 // join order, for default names and colors
	acc     time.Duration
	snap    wire.Snapshot
	buf     []byte
	ins     []wire.Input
	joined  int
}

// NewHandler returns an arena whose spawn points follow seed. It prints
// JOIN, LEAVE and KILL lines to out (nil discards them); a LEAVE line ends
// with active=N, the players still connected.
func NewHandler(out io.Writer, seed uint64) *Handler {
	if out == nil {
		out = io.Discard
	}
	return &Handler{out: out, world: sim.NewWorld(seed), players: make(map[uint32]*seat)}
}

// World returns the authoritative simulation. Read it on the event
// goroutine only (in a handler method or a function given to
// server.Server.Post).
func (h *Handler) World() *sim.World { return h.world }

// Name returns the name of player id.
func (h *Handler) Name(id uint32) string {
	if p := h.players[id]; p != nil {
		return p.name
	}
	return ""
}

// Connect adds the player's ship and tells the player who it is and who
// is already there.
func (h *Handler) Connect(c *server.Peer) {
	id := c.Token()
	h.joined++
	p := &seat{c: c, name: fmt.Sprintf("player%d", h.joined), color: uint8(h.joined-1) % wire.Colors}
	h.players[id] = p
	h.order = append(h.order, id)
	h.world.AddShip(id)
	h.send(p, wire.AppendWelcome(nil, wire.Welcome{ID: id, Tick: h.world.Tick}), true)
	for _, oid := range h.order {
		if o := h.players[oid]; o != nil && o != p && o.named {
			h.send(p, wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: oid, Name: o.name, Color: o.color}), true)
		}
	}
}

// Disconnect removes the player's ship and tells everyone.
func (h *Handler) Disconnect(c *server.Peer) {
	id := c.Token()
	p := h.players[id]
	if p == nil {
		return
	}
	delete(h.players, id)
	for i, oid := range h.order {
		if oid == id {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
	h.world.RemoveShip(id)
	if p.named {
		// active counts the players still connected, this one gone: a
		// stopping server disconnects everyone in turn, and its LEAVE
		// lines count down to 0.
		fmt.Fprintf(h.out, "LEAVE %s active=%d\n", p.name, len(h.players))
		h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventLeave, ID: id}), true)
	}
}

// HandleMessage takes a player's Identify, Hello and inputs.
func (h *Handler) HandleMessage(c *server.Peer, _ conn.Seq, msg []byte) {
	p := h.players[c.Token()]
	if p == nil {
		return
	}
	k, _ := wire.KindOf(msg)
	switch k {
	case wire.KindIdentify:
		id, err := wire.ParseIdentify(msg)
		if err != nil {
			h.malformed(p, err)
			return
		}
		if id.Game != wire.GameID || id.Version != wire.Version {
			// The client decides what to do; it is told who we are.
			c.Log().Debug("arena: client of another game or version", "game", id.Game, "version", id.Version)
		}
		h.send(p, wire.AppendIdentity(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), true)
	case wire.KindInput:
		ins, err := wire.ParseInputs(h.ins, msg)
		h.ins = ins
		if err != nil {
			h.malformed(p, err)
			return
		}
		// Each message repeats the last few inputs: queue the new ones.
		for _, in := range ins {
			if in.Seq > p.lastSeq {
				p.lastSeq = in.Seq
				p.inputs = append(p.inputs, in)
			}
		}
		if n := len(p.inputs) - MaxQueuedInputs; n > 0 {
			p.inputs = append(p.inputs[:0], p.inputs[n:]...)
		}
	case wire.KindHello:
		hello, err := wire.ParseHello(msg)
		if err != nil {
			h.malformed(p, err)
			return
		}
		// Names end up in logs and on other players' screens: printable
		// runes only.
		if name := wire.CleanName(hello.Name); name != "" {
			p.name = name
		}
		p.color = hello.Color
		if !p.named {
			fmt.Fprintf(h.out, "JOIN %s\n", p.name)
		}
		p.named = true
		h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: c.Token(), Name: p.name, Color: p.color}), true)
	default:
		h.malformed(p, fmt.Errorf("%w: kind %d", wire.ErrMalformed, k))
	}
}

func (h *Handler) malformed(p *seat, err error) {
	p.bad++
	p.c.Log().Debug("arena: malformed message", "err", err, "count", p.bad)
}

// Update runs the simulation in fixed ticks and sends the snapshots.
func (h *Handler) Update(delta time.Duration) {
	h.acc += delta
	steps := 0
	for h.acc >= tickDuration && steps < maxStepsPerUpdate {
		h.acc -= tickDuration
		steps++
		h.step()
	}
	if steps == maxStepsPerUpdate {
		h.acc = 0 // far behind: skip rather than spiral
	}
}

const tickDuration = time.Second / sim.TickRate

// step applies one input per player, advances the world, announces kills
// and sends snapshots every SnapshotEvery ticks.
func (h *Handler) step() {
	for id, p := range h.players {
		if len(p.inputs) > 0 {
			in := p.inputs[0]
			p.inputs = p.inputs[1:]
			p.ack = in.Seq
			h.world.SetInput(id, in.Buttons)
		}
		// No new input: the buttons held last tick stay held.
	}
	for _, e := range h.world.Step() {
		if e.Kind != sim.Kill {
			continue
		}
		fmt.Fprintf(h.out, "KILL %s %s\n", h.Name(e.Killer), h.Name(e.Victim))
		h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: e.Victim, Other: e.Killer, X: e.X, Y: e.Y}), true)
	}
	if h.world.Tick%SnapshotEvery == 0 {
		h.sendSnapshots()
	}
}

// sendSnapshots encodes the world once and sends it to every player with
// that player's input ack patched in.
func (h *Handler) sendSnapshots() {
	s := &h.snap
	s.Tick, s.Ack = h.world.Tick, 0
	s.Ships, s.Bullets = s.Ships[:0], s.Bullets[:0]
	for i := range h.world.Ships {
		s.Ships = append(s.Ships, wire.ShipStateOf(&h.world.Ships[i]))
	}
	for i := range h.world.Bullets {
		b := &h.world.Bullets[i]
		s.Bullets = append(s.Bullets, wire.BulletState{ID: uint16(b.ID), Owner: b.Owner, X: b.X, Y: b.Y, VX: b.VX, VY: b.VY})
	}
	h.buf = wire.AppendSnapshot(h.buf[:0], s)
	for _, p := range h.players {
		wire.SetSnapshotAck(h.buf, p.ack)
		h.send(p, h.buf, false)
	}
}

func (h *Handler) send(p *seat, msg []byte, guaranteed bool) {
	retry := conn.RetryNone
	if guaranteed {
		retry = conn.RetryOnTimeout
	}
	if err := p.c.Send(msg, retry, nil); err != nil {
		p.c.Log().Debug("arena: send", "err", err)
	}
}

func (h *Handler) broadcast(msg []byte, guaranteed bool) {
	for _, p := range h.players {
		h.send(p, msg, guaranteed)
	}
}
