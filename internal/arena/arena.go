// Package arena is a small real-time multiplayer game on mpgameserver:
// top-down ships that rotate, thrust and fire in a walled arena, with
// respawns and a score board.
//
// The server is authoritative: Handler runs the simulation (package sim)
// at the server's tick rate, takes one input per player per tick from a
// short queue, and replicates the world to every player 30 times a second
// with package replicate: each player is sent what is in its window's
// view (ships, bullets, asteroids) and every player's standing, as deltas
// against what it acknowledged, within a byte budget, with its own ship
// and input ack at full precision in each snapshot's data; joins, leaves
// and kills go as guaranteed events. Options choose the scene (classic:
// one screen; battle: 16 screens and 1,200 asteroids) and, to compare
// with, full replication (the whole world in every snapshot). A player introduces itself with a Hello (its name and color):
// the server cleans the name (wire.CleanName; the default name player1,
// player2... when nothing is left), prints a JOIN line the first time and
// broadcasts a Join event only when the name or color changes, so that a
// repeated Hello costs the other players nothing. Changes are limited to
// HelloBurst at once and one every HelloRefill after that, on the game's
// clock; the Hellos over the limit are dropped (see HellosDropped).
// Clients (package player) send their buttons every frame, predict
// their own ship and reconcile it with each snapshot, and interpolate the
// other ships in the past (replicate.Receiver's delay), so the game feels
// immediate at 100 ms of latency. A client first asks which game the server hosts
// (wire.Identify); Handler answers with wire.Identity, so that a client
// sent to a server of another game says so instead of waiting forever.
// Package game is the Ebitengine window; RunBots adds computer players.
package arena

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/lagcomp"
	"github.com/mpgs/mpgameserver/predict"
	"github.com/mpgs/mpgameserver/replicate"
	"github.com/mpgs/mpgameserver/server"
)

// Tuning of the server side.
const (
	// SnapshotEvery sends a snapshot every this many simulation ticks
	// (30 a second).
	SnapshotEvery = 2
	// KeepAlive is the keep-alive interval an arena server wants
	// (server.Config.KeepAliveInterval): the replicator sends at least
	// every replicate.DefaultHeartbeat, so a player hears from the server
	// that often anyway, and a quiet world costs a datagram less in two.
	KeepAlive = replicate.DefaultHeartbeat
	// ViewHalfWidth and ViewHalfHeight are a player's view area around its
	// ship: the play window's (1280×800 pixels at 0.8 a unit).
	ViewHalfWidth, ViewHalfHeight = 800, 500
	// MaxQueuedInputs bounds a player's input queue (its
	// predict.Buffer's Depth); older inputs are dropped so a burst after
	// a stall does not turn into lag.
	MaxQueuedInputs = 4
	// LaserView is how far from a laser's origin (either way) players are
	// shown its beam: a view's half width and a half more.
	LaserView = ViewHalfWidth * 3 / 2
	// maxStepsPerUpdate bounds the catch-up after a slow tick.
	maxStepsPerUpdate = 4
)

// The limit on a player's Hellos that change its name or color, each of
// which the server broadcasts to every player as a guaranteed Join event:
// a token bucket of HelloBurst tokens, refilled one every HelloRefill of
// game time (the sum of the handler's Update deltas). A client sends one
// Hello per connection, and a person renames at most a few times in a
// row, but a client that floods Hellos makes the server announce at most
// HelloBurst changes at once and 2 a second after that: a few small
// messages to each player beside the 30 snapshots a second they get, where
// 1,024 announced Hellos a tick would fill every other player's send
// queue (16,384 messages) in 16 ticks. A Hello that changes nothing sends
// nothing and takes no token; one over the limit is dropped.
const (
	HelloBurst  = 4
	HelloRefill = 500 * time.Millisecond
)

// Peer is a player's connection as Handler uses it: a *server.Peer, or
// in a simulation (package lab), a connection state machine of its own.
// If it also has Hold(n int) error and Release(n int), the replication's
// memory is charged to it (replicate.Replicator.Add).
type Peer interface {
	Token() uint32
	Send(payload []byte, retry conn.RetryMode, callback func(ok bool)) error
	Log() *slog.Logger
	SetLabel(label string)
}

// seat is the server's state of one connected player.
type seat struct {
	c        Peer
	name     string
	color    uint8
	named    bool   // its first Hello came: JOIN printed, Join broadcast
	defName  string // the name when its Hello has none
	hellos   helloLimit
	dropped  int // Hellos over the limit
	inputs   *predict.Buffer[sim.Input]
	ack      uint32     // last input applied
	applied  wire.Input // the input applied this tick
	bad      int        // malformed messages
	view     *replicate.Viewer
	resyncAt time.Duration // game time of the last Resync honoured
	ship     replicate.ID  // its ship's entity
	stand    replicate.ID  // its standing's entity
	data     []byte
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
	now     time.Duration // game time: the sum of Update's deltas
	ins     []wire.Input
	next    []wire.Input
	joined  int

	opts      Options
	rep       *replicate.Replicator
	own       map[*replicate.Viewer]replicate.ID // each player's own ship, which its data carries
	bullets   map[uint32]replicate.ID
	asteroids map[uint32]replicate.ID
	seen      map[uint32]bool

	hist   *lagcomp.History // the ships' hit circles, each tick
	shapes []lagcomp.Shape
	lasers LaserStats
}

// LaserStats are the laser shots a Handler judged.
type LaserStats struct {
	// Fired counts the shots, Hits those that killed a ship.
	Fired, Hits int
	// Compensated counts the shots judged in the past (lag compensation),
	// Capped those whose shooter's view was older than Options.MaxRewind;
	// RewindSum is the sum of their rewinds, RewindMax the largest.
	Compensated, Capped  int
	RewindSum, RewindMax time.Duration
}

// Options configure an arena server.
type Options struct {
	// Seed makes the spawn points and the asteroids.
	Seed uint64
	// Scene is the world (sim.Classic by default).
	Scene sim.Scene
	// Full replicates the whole world to every player in every snapshot,
	// to compare with: no interest, no deltas, no budget.
	Full bool
	// Budget is each player's downstream budget in bits a second
	// (replicate.DefaultBudget).
	Budget int
	// MaxRewind caps how far back a laser shot is judged: at the time
	// its shooter's screen showed (lag compensation), but no further
	// back than this (DefaultMaxRewind).
	MaxRewind time.Duration
	// NoLagComp judges laser shots against the world as it is when the
	// shot reaches the server, to compare with: a shooter must lead its
	// target by its round trip and interpolation delay.
	NoLagComp bool
}

// DefaultMaxRewind is Options.MaxRewind's default. A shot is judged
// back by the shooter's round trip, its interpolation delay (two
// snapshot intervals, 67 ms), the frame a snapshot waits before the
// client reads it and a tick or two of input buffering: about 290 ms
// for a player 75 ms away. So the arena rewinds further than lagcomp's
// 200 ms default: as far as a round trip of about 200 ms needs.
const DefaultMaxRewind = 350 * time.Millisecond

// NewHandler returns a classic arena whose spawn points follow seed. It
// prints JOIN, LEAVE and KILL lines to out (nil discards them); a LEAVE
// line ends with active=N, the players still connected.
func NewHandler(out io.Writer, seed uint64) *Handler {
	return New(out, Options{Seed: seed})
}

// New returns an arena of the given options; see NewHandler.
func New(out io.Writer, opts Options) *Handler {
	if out == nil {
		out = io.Discard
	}
	if opts.Scene.Width == 0 {
		opts.Scene = sim.Classic()
	}
	if opts.MaxRewind <= 0 {
		opts.MaxRewind = DefaultMaxRewind
	}
	h := &Handler{out: out, world: sim.NewSceneWorld(opts.Seed, opts.Scene), players: make(map[uint32]*seat), opts: opts,
		own: map[*replicate.Viewer]replicate.ID{}, bullets: map[uint32]replicate.ID{}, asteroids: map[uint32]replicate.ID{},
		seen: map[uint32]bool{},
		// A second of the ships' places, a record a tick.
		hist: lagcomp.New(lagcomp.Config{Window: time.Second, Frames: sim.TickRate + 4, MaxRewind: opts.MaxRewind})}
	h.rep = replicate.New(wire.Schema(opts.Scene), replicate.Config{
		Interval: SnapshotEvery * tickDuration,
		Budget:   opts.Budget,
		Full:     opts.Full,
		// A player's own ship goes in its snapshots' data, at full
		// precision: its entity would only repeat it.
		Filter: func(v *replicate.Viewer, id replicate.ID) bool { return h.own[v] != id },
	})
	h.rep.Update(clock0()) // its clock starts at tick 0
	return h
}

// Scene returns the arena's scene.
func (h *Handler) Scene() sim.Scene { return h.opts.Scene }

// Replicator returns the world's replicator, for its figures. Read it on
// the event goroutine only, as World.
func (h *Handler) Replicator() *replicate.Replicator { return h.rep }

// ReportPeer tells monitors what the replication sends player c
// (server.WorldReporter).
func (h *Handler) ReportPeer(c *server.Peer, w *server.PeerWorld) bool {
	p := h.players[c.Token()]
	if p == nil || p.view == nil {
		return false
	}
	st := p.view.Stats()
	*w = server.PeerWorld{
		InView: st.InView, Waiting: st.Waiting, OldestWait: st.OldestWait, Bytes: st.Bytes, Budget: st.Budget,
		Memory: st.Memory, X: st.X, Y: st.Y, HalfW: st.HalfW, HalfH: st.HalfH,
	}
	return true
}

// ReportWorld draws the world for monitors: every ship, bullet and
// asteroid (server.WorldReporter).
func (h *Handler) ReportWorld(m *server.WorldMap) {
	m.MinX, m.MinY, m.MaxX, m.MaxY = 0, 0, h.opts.Scene.Width, h.opts.Scene.Height
	m.Kinds = append(m.Kinds[:0], "ship", "bullet", "asteroid")
	w := h.world
	add := func(x, y float64, k uint8) {
		if len(m.Points) < server.MaxWorldPoints {
			m.Points = append(m.Points, server.WorldPoint{X: float32(x), Y: float32(y), Kind: k})
		}
	}
	for i := range w.Ships {
		if s := &w.Ships[i]; s.Alive {
			add(s.X, s.Y, 0)
		}
	}
	for i := range w.Asteroids {
		add(w.Asteroids[i].X, w.Asteroids[i].Y, 2)
	}
	for i := range w.Bullets {
		add(w.Bullets[i].X, w.Bullets[i].Y, 1)
	}
}

// Checksum digests the world (sim.World.Checksum): a recording of the
// server (serve --record) carries it for every tick (server.Checksummer).
func (h *Handler) Checksum() uint64 { return h.world.Checksum() }

// Shutdown stops the replicator's workers.
func (h *Handler) Shutdown() { h.rep.Close() }

// World returns the authoritative simulation. Read it on the event
// goroutine only (in a handler method or a function given to
// server.Server.Post).
func (h *Handler) World() *sim.World { return h.world }

// AppendState appends the world's state to b: whole (sim.World.AppendState),
// or without its asteroids (AppendPartial). A recording keeps one a
// second, whole every tenth, so that a replay that diverged can say what
// differs.
func (h *Handler) AppendState(b []byte, whole bool) []byte {
	if whole {
		return h.world.AppendState(b)
	}
	return h.world.AppendPartial(b)
}

// Name returns the name of player id.
func (h *Handler) Name(id uint32) string {
	if p := h.players[id]; p != nil {
		return p.name
	}
	return ""
}

// HellosDropped returns how many of player id's Hellos went over the
// rate limit (HelloBurst, HelloRefill) and were dropped. Call it on the
// event goroutine, as World.
func (h *Handler) HellosDropped(id uint32) int {
	if p := h.players[id]; p != nil {
		return p.dropped
	}
	return 0
}

// Inputs returns player id's input buffer: how many inputs wait, and
// its figures. Call it on the event goroutine, as World.
func (h *Handler) Inputs(id uint32) (waiting int, st predict.BufferStats, ok bool) {
	p := h.players[id]
	if p == nil {
		return 0, predict.BufferStats{}, false
	}
	return p.inputs.Len(), p.inputs.Stats(), true
}

// Lasers returns the laser shots judged so far. Call it on the event
// goroutine, as World.
func (h *Handler) Lasers() LaserStats { return h.lasers }

// Connect adds the player's ship and tells the player who it is and who
// is already there.
func (h *Handler) Connect(c *server.Peer) { h.Join(c) }

// Disconnect removes the player's ship and tells everyone.
func (h *Handler) Disconnect(c *server.Peer) { h.Leave(c) }

// HandleMessage takes a player's Identify, Hello and inputs.
func (h *Handler) HandleMessage(c *server.Peer, _ conn.Seq, msg []byte) { h.Receive(c, msg) }

// Join is Connect for any Peer.
func (h *Handler) Join(c Peer) {
	id := c.Token()
	h.joined++
	name := fmt.Sprintf("player%d", h.joined)
	p := &seat{c: c, name: name, defName: name, color: uint8(h.joined-1) % wire.Colors,
		inputs: predict.NewBuffer[sim.Input](predict.BufferConfig{Depth: MaxQueuedInputs})}
	h.players[id] = p
	h.order = append(h.order, id)
	h.world.AddShip(id)
	p.view = h.rep.Add(c)
	var err error
	if p.ship, err = h.rep.Spawn(wire.KindShip); err == nil {
		h.own[p.view] = p.ship
	}
	p.stand, _ = h.rep.Spawn(wire.KindPlayer)
	h.rep.SetInt(p.stand, wire.PlayerID, int64(id))
	h.rep.SetInt(p.ship, wire.ShipPlayer, int64(id))
	h.send(p, wire.AppendWelcome(nil, wire.Welcome{ID: id, Tick: h.world.Tick, Scene: h.opts.Scene.Name}), true)
	for _, oid := range h.order {
		if o := h.players[oid]; o != nil && o != p && o.named {
			h.send(p, wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: oid, Name: o.name, Color: o.color}), true)
		}
	}
}

// Leave is Disconnect for any Peer.
func (h *Handler) Leave(c Peer) {
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
	h.rep.Remove(p.view)
	delete(h.own, p.view)
	h.rep.Destroy(p.ship)
	h.rep.Destroy(p.stand)
	if p.named {
		// active counts the players still connected, this one gone: a
		// stopping server disconnects everyone in turn, and its LEAVE
		// lines count down to 0.
		fmt.Fprintf(h.out, "LEAVE %s active=%d\n", p.name, len(h.players))
		h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventLeave, ID: id}), true)
	}
}

// Receive is HandleMessage for any Peer.
func (h *Handler) Receive(c Peer, msg []byte) {
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
		// Each message repeats the last few inputs: the buffer keeps
		// the new ones, MaxQueuedInputs at most.
		p.inputs.Add(ins)
	case wire.KindResync:
		if err := wire.ParseResync(msg); err != nil {
			h.malformed(p, err)
			return
		}
		// Its receiver lacks a baseline: the world whole again, at
		// most once a second (the budget bounds what it costs anyway).
		if p.view != nil && h.now-p.resyncAt >= time.Second {
			p.resyncAt = h.now
			p.view.Resync()
			c.Log().Debug("arena: resync")
		}
	case wire.KindHello:
		hello, err := wire.ParseHello(msg)
		if err != nil {
			h.malformed(p, err)
			return
		}
		first := !p.named
		switch p.hello(hello, h.now) {
		case helloSame:
			return // nothing to tell anyone
		case helloDropped:
			c.Log().Debug("arena: hello over the rate limit dropped", "dropped", p.dropped)
			return
		}
		c.SetLabel(p.name) // the monitor's table shows who plays
		if first {
			fmt.Fprintf(h.out, "JOIN %s\n", p.name)
		}
		h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventJoin, ID: c.Token(), Name: p.name, Color: p.color}), true)
	default:
		h.malformed(p, fmt.Errorf("%w: kind %d", wire.ErrMalformed, k))
	}
}

// helloResult is what a Hello did.
type helloResult int

const (
	helloChanged helloResult = iota // the name or color changed: announce it
	helloSame                       // nothing changed
	helloDropped                    // a change over the rate limit: dropped
)

// hello applies a player's Hello at game time now. Names end up in log
// lines and on other players' screens: they are cleaned, and a name with
// nothing left is the player's default name. A Hello that changes the
// name or color, or the player's first, takes a token.
func (p *seat) hello(hello wire.Hello, now time.Duration) helloResult {
	name := wire.CleanName(hello.Name)
	if name == "" {
		name = p.defName
	}
	color := hello.Color % wire.Colors
	if p.named && name == p.name && color == p.color {
		return helloSame
	}
	if !p.hellos.allow(now) {
		p.dropped++
		return helloDropped
	}
	p.name, p.color, p.named = name, color, true
	return helloChanged
}

// helloLimit is a token bucket of HelloBurst tokens refilled one every
// HelloRefill, kept as the game time at which it will be full again (zero
// value: full). Each token taken pushes that time HelloRefill further; a
// token is there while that time is less than a full bucket's refill
// away.
type helloLimit struct{ full time.Duration }

func (l *helloLimit) allow(now time.Duration) bool {
	full := max(l.full, now)
	if full-now > (HelloBurst-1)*HelloRefill {
		return false
	}
	l.full = full + HelloRefill
	return true
}

func (h *Handler) malformed(p *seat, err error) {
	p.bad++
	p.c.Log().Debug("arena: malformed message", "err", err, "count", p.bad)
}

// Update runs the simulation in fixed ticks and sends the snapshots.
func (h *Handler) Update(delta time.Duration) {
	h.now += delta
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

// step applies one input per player, advances the world, records where
// the ships are, judges the laser shots, announces kills and sends
// snapshots every SnapshotEvery ticks.
func (h *Handler) step() {
	for _, id := range h.order { // in join order: the same inputs, the same world
		p := h.players[id]
		// Each input the player sent moves its ship once, as the
		// player predicted: the next in order; none when it has not
		// come (the ship waits); two when the player has slack to give
		// back.
		ins := p.inputs.Next(h.next[:0])
		h.next = ins
		switch len(ins) {
		case 0:
			h.world.Pause(id)
			continue
		case 2:
			p.applied = ins[0]
			for _, e := range h.world.Extra(id, ins[0].In) {
				if k, ok := h.laser(e); ok {
					h.kill(k)
				}
			}
		}
		in := ins[len(ins)-1]
		p.ack, p.applied = p.inputs.Applied(), in
		h.world.SetInput(id, in.In)
	}
	events := h.world.Step()
	h.record()
	for _, e := range events {
		switch e.Kind {
		case sim.LaserFired:
			if k, ok := h.laser(e); ok {
				h.kill(k)
			}
		case sim.Kill:
			h.kill(e)
		}
	}
	if h.world.Tick%SnapshotEvery == 0 {
		h.replicate()
	}
}

func (h *Handler) kill(e sim.Event) {
	fmt.Fprintf(h.out, "KILL %s %s\n", h.Name(e.Killer), h.Name(e.Victim))
	h.broadcast(wire.AppendEvent(nil, wire.Event{Kind: wire.EventKill, ID: e.Victim, Other: e.Killer, X: e.X, Y: e.Y}), true)
}

// serverTime is the replicator's time at the world's tick: the time
// clients render in, and their inputs' View.
func (h *Handler) serverTime() time.Duration { return time.Duration(h.world.Tick) * tickDuration }

// record keeps where the live ships are this tick, for lag compensation.
func (h *Handler) record() {
	h.shapes = h.liveShips(h.shapes[:0])
	h.hist.Record(h.serverTime(), h.shapes)
}

// liveShips appends the live ships' hit circles to dst.
func (h *Handler) liveShips(dst []lagcomp.Shape) []lagcomp.Shape {
	for i := range h.world.Ships {
		if s := &h.world.Ships[i]; s.Alive {
			dst = append(dst, lagcomp.Shape{ID: uint64(s.ID), X: s.X, Y: s.Y, R: sim.ShipRadius})
		}
	}
	return dst
}

// laser judges a laser shot: the beam goes from the shooter's ship as it
// is now (the client predicted it there) through the ships as the
// shooter's screen showed them (its input's View, rewound at most
// Options.MaxRewind), and stops at the first ship, an asteroid, a wall or
// its range. The ship it meets dies if it can be hit now (alive,
// unshielded). The shooter, and the players near, are told the verdict.
func (h *Handler) laser(e sim.Event) (sim.Event, bool) {
	p := h.players[e.Killer]
	if p == nil {
		return sim.Event{}, false
	}
	h.lasers.Fired++
	l := wire.Laser{Shooter: e.Killer, Seq: p.applied.Seq, X: e.X, Y: e.Y, Angle: e.Angle,
		Length: h.world.BeamLength(e.X, e.Y, e.Angle)}
	dx, dy := math.Cos(e.Angle), math.Sin(e.Angle)
	shooter := uint64(e.Killer)
	skip := func(id uint64) bool { return id == shooter }
	var (
		hit lagcomp.Hit
		ok  bool
	)
	if h.opts.NoLagComp {
		h.shapes = h.liveShips(h.shapes[:0])
		hit, ok = lagcomp.Raycast(h.shapes, e.X, e.Y, dx, dy, l.Length, skip)
	} else {
		rw := h.hist.Rewind(h.serverTime(), p.applied.View)
		hit, ok = rw.Raycast(e.X, e.Y, dx, dy, l.Length, skip)
		l.Rewind, l.Capped = rw.By, rw.Capped && rw.Asked < rw.At
		h.lasers.Compensated++
		h.lasers.RewindSum += rw.By
		h.lasers.RewindMax = max(h.lasers.RewindMax, rw.By)
		if l.Capped {
			h.lasers.Capped++
		}
	}
	var kill sim.Event
	if ok {
		l.Length = hit.Dist
		if kill, ok = h.world.Kill(uint32(hit.Shape.ID), e.Killer); ok {
			l.Victim = kill.Victim
			h.lasers.Hits++
		}
	}
	msg := wire.AppendLaser(nil, l)
	for _, o := range h.players {
		if o == p {
			h.send(o, msg, true)
			continue
		}
		if s := h.world.Ship(o.c.Token()); s != nil && math.Abs(s.X-e.X) < LaserView && math.Abs(s.Y-e.Y) < LaserView {
			h.send(o, msg, false)
		}
	}
	return kill, ok
}

// clock0 is the replicator's time at tick zero: its clock is the
// world's tick count, so that clients' render times are ticks.
func clock0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// replicate copies the world into the replicator and sends the
// snapshots that are due.
func (h *Handler) replicate() {
	r := h.rep
	for i := range h.world.Ships {
		s := &h.world.Ships[i]
		p := h.players[s.ID]
		if p == nil {
			continue
		}
		setMotion(r, p.ship, s.X, s.Y, s.VX, s.VY)
		r.Set(p.ship, wire.ShipAngle, s.Angle)
		r.SetBool(p.ship, wire.ShipAlive, s.Alive)
		r.SetBool(p.ship, wire.ShipShield, s.Shield > 0)
		r.SetBool(p.ship, wire.ShipThrust, s.Alive && s.Input&sim.Thrust != 0)
		setMotion(r, p.stand, s.X, s.Y, s.VX, s.VY)
		r.SetInt(p.stand, wire.PlayerScore, int64(s.Score))
		r.SetInt(p.stand, wire.PlayerDeaths, int64(s.Deaths))
		r.SetInt(p.stand, wire.PlayerRocks, int64(s.AsteroidScore))
		r.SetBool(p.stand, wire.PlayerAlive, s.Alive)
		if s.Alive {
			x, y := ViewCenter(h.opts.Scene.Bounds, s.X, s.Y)
			p.view.SetView(x, y, ViewHalfWidth, ViewHalfHeight)
		}
		p.data = wire.AppendOwn(p.data[:0], wire.OwnOf(s, p.ack))
		p.view.SetData(p.data)
	}
	clear(h.seen)
	for i := range h.world.Bullets {
		b := &h.world.Bullets[i]
		id, ok := h.bullets[b.ID]
		if !ok {
			var err error
			if id, err = r.Spawn(wire.KindBullet); err != nil {
				continue
			}
			h.bullets[b.ID] = id
			r.SetInt(id, wire.BulletOwner, int64(b.Owner))
		}
		h.seen[b.ID] = true
		setMotion(r, id, b.X, b.Y, b.VX, b.VY)
	}
	for bid, id := range h.bullets {
		if !h.seen[bid] {
			r.Destroy(id)
			delete(h.bullets, bid)
		}
	}
	clear(h.seen)
	for i := range h.world.Asteroids {
		a := &h.world.Asteroids[i]
		id, ok := h.asteroids[a.ID]
		if !ok {
			var err error
			if id, err = r.Spawn(wire.KindAsteroid); err != nil {
				continue
			}
			h.asteroids[a.ID] = id
			r.SetInt(id, wire.AsteroidRadius, int64(math.Round(a.Radius)))
			r.SetInt(id, wire.AsteroidMaxHP, int64(a.MaxHP()))
			r.Set(id, wire.AsteroidSpin, a.Spin)
			r.Set(id, wire.AsteroidPhase, a.Angle-a.Spin*float64(h.world.Tick)/sim.TickRate)
		}
		h.seen[a.ID] = true
		setMotion(r, id, a.X, a.Y, a.VX, a.VY)
		r.SetInt(id, wire.AsteroidHP, int64(a.HP))
	}
	for aid, id := range h.asteroids {
		if !h.seen[aid] {
			r.Destroy(id)
			delete(h.asteroids, aid)
		}
	}
	r.Update(clock0().Add(time.Duration(h.world.Tick) * tickDuration))
}

// ViewCenter is the centre of what a player's window shows with its ship
// at (x, y): the ship, moved in so that the view stays within the world
// (the whole classic arena, wherever the ship is).
func ViewCenter(b sim.Bounds, x, y float64) (float64, float64) {
	clamp := func(v, half, size float64) float64 {
		if size <= 2*half {
			return size / 2
		}
		return min(max(v, half), size-half)
	}
	return clamp(x, ViewHalfWidth, b.Width), clamp(y, ViewHalfHeight, b.Height)
}

func setMotion(r *replicate.Replicator, id replicate.ID, x, y, vx, vy float64) {
	r.Set(id, wire.FX, x)
	r.Set(id, wire.FY, y)
	r.Set(id, wire.FVX, vx)
	r.Set(id, wire.FVY, vy)
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
