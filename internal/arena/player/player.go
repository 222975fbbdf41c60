// Package player is an arena game client without graphics: the network
// side of the game window, of bots and of tests. Call Frame once per game
// frame (60 a second) with the buttons held; View returns what to draw.
//
// Netcode:
//   - every frame sends the buttons as a numbered input (plain message)
//     and predicts the local ship with sim.StepShip, so controls respond
//     at once;
//   - each snapshot says which input the server applied last; the local
//     ship is reset to the server's state and the inputs the server has not
//     applied yet are replayed (reconciliation);
//   - other ships and bullets are drawn InterpDelay in the past,
//     interpolated between the two snapshots around that moment.
//
// On connecting, the player asks the server which game it hosts
// (wire.Identify). An arena server of the same protocol version answers
// at once; any other server (one hosting another game, such as the echo
// server, which sends the question back unchanged) does not, and the
// player gives up IdentTimeout after connecting: Err then says why, and
// Explain says it in words for a player.
package player

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// Options configure a Player.
type Options struct {
	Name  string
	Color uint8
	// Key is the server's pinned public key (nil trusts the server's).
	Key *conn.PublicKey
	// InterpDelay is how far in the past other ships are shown (100 ms).
	InterpDelay time.Duration
	// HandshakeTimeout is how long Connect waits for the server (2 s).
	HandshakeTimeout time.Duration
	// IdentTimeout is how long after connecting the player waits for the
	// server to say it hosts the arena before it gives up (3 s), measured
	// with the times given to Frame.
	IdentTimeout time.Duration
	// Dial opens the player's socket (client.Config.Dial; nil: UDP).
	// Tests give an in-memory network's.
	Dial func(addr string) (transport.Conn, error)
}

// DefaultIdentTimeout is Options.IdentTimeout's default.
const DefaultIdentTimeout = 3 * time.Second

// ErrNotArena is why a player gives up on a server that did not answer
// its wire.Identify as an arena server within Options.IdentTimeout of
// connecting, or answered with another game's id: the server hosts
// another game.
var ErrNotArena = errors.New("player: the server hosts another game, not the arena")

// VersionError is why a player gives up on an arena server of another
// protocol version. Server is 0 for an arena server older than
// identification (it welcomed the player but did not answer Identify).
type VersionError struct {
	Server, Client uint16
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("player: the server runs arena protocol v%d, this client v%d", e.Server, e.Client)
}

// Ship is a ship to draw.
type Ship struct {
	ID            uint32
	X, Y, Angle   float64
	VX, VY        float64
	Alive         bool
	Shield        bool
	Thrust        bool
	Score, Deaths int
	Name          string
	Color         uint8
	Local         bool
}

// Bullet is a bullet to draw.
type Bullet struct {
	Owner uint32
	X, Y  float64
}

// Kill is a recent kill, for the kill feed and explosions.
type Kill struct {
	Killer, Victim string
	X, Y           float64
	At             time.Time
}

// View is what the window draws for a frame.
type View struct {
	Ships   []Ship // local ship first when alive
	Bullets []Bullet
	Kills   []Kill // recent, oldest first
}

type pending struct {
	seq       uint32
	in        sim.Input
	predicted sim.Ship // local ship after this input, as predicted
}

type snapshot struct {
	tick    uint32
	ships   []wire.ShipState
	bullets []wire.BulletState
}

type info struct {
	name  string
	color uint8
}

// Player is one game client.
type Player struct {
	opts Options
	c    *client.Client

	id         uint32
	welcomed   bool
	helloOut   bool
	identAt    time.Time // when Identify went out (zero: not yet)
	identified bool      // the server said it hosts the arena, our version
	err        error     // why the player gave up on the server
	seq        uint32
	history    []pending
	local      sim.Ship
	haveShip   bool

	snaps      []snapshot // by tick, oldest first, at most maxSnaps
	offset     float64    // server tick minus local tick, smoothed
	haveOffset bool
	start      time.Time
	names      map[uint32]info
	kills      []Kill
	parse      wire.Snapshot
	sent       []wire.Input // the last Redundancy inputs
	buf        []byte

	mis Mispredictions
}

// Mispredictions measures how far the predicted local ship was from the
// server's: for every snapshot, the distance between the position
// predicted after the input the server acknowledged and the position the
// server computed for it.
type Mispredictions struct {
	Count    int
	Sum, Max float64
}

// Mean returns the mean misprediction distance.
func (m Mispredictions) Mean() float64 {
	if m.Count == 0 {
		return 0
	}
	return m.Sum / float64(m.Count)
}

const maxSnaps = 32

// Redundancy is how many inputs each input message carries: the newest
// and those before it, so the server misses an input only when that many
// datagrams in a row are lost.
const Redundancy = 4

// New returns a player that is not connected yet.
func New(opts Options) *Player {
	if opts.InterpDelay <= 0 {
		opts.InterpDelay = 100 * time.Millisecond
	}
	if opts.IdentTimeout <= 0 {
		opts.IdentTimeout = DefaultIdentTimeout
	}
	if opts.Dial == nil {
		opts.Dial = dial
	}
	return &Player{opts: opts, c: client.New(client.Config{ServerKey: opts.Key, HandshakeTimeout: opts.HandshakeTimeout, Dial: opts.Dial}), names: make(map[uint32]info)}
}

// Connect starts connecting to addr; Frame carries it on.
func (p *Player) Connect(addr string) error {
	*p = Player{opts: p.opts, c: p.c, names: make(map[uint32]info)}
	return p.c.Connect(addr, nil)
}

// dial is a player's Dial when the game gives none: WebRTC to a server's
// URL (the browser carrier, as a browser joins, natively too), and the
// client's own UDP socket to host:port.
func dial(addr string) (transport.Conn, error) {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return rtc.Dial(addr, nil)
	}
	if runtime.GOOS == "js" {
		return nil, client.ErrNoUDP
	}
	return transport.Dial(addr, transport.Config{Portable: true})
}

// Client returns the underlying mpgameserver client (status, latency,
// statistics).
func (p *Player) Client() *client.Client { return p.c }

// ID returns the local ship's id (0 before the welcome).
func (p *Player) ID() uint32 { return p.id }

// Welcomed reports whether the server welcomed the player into the game.
func (p *Player) Welcomed() bool { return p.welcomed }

// InGame reports whether the player is playing: connected to an arena
// server of its version, which welcomed it.
func (p *Player) InGame() bool {
	return p.welcomed && p.identified && p.err == nil && p.c.Connected()
}

// Err returns why the player is out of the game: ErrNotArena or a
// *VersionError when it gave up on the server, else, once the connection
// ended, why it ended (the client's Err, such as conn.ErrHandshakeTimeout
// or conn.ErrBadSignature). It is nil while connecting and playing.
// Explain turns it into a sentence.
func (p *Player) Err() error {
	if p.err != nil {
		return p.err
	}
	if p.c.Status().Closed() {
		return p.c.Err()
	}
	return nil
}

// giveUp leaves a server that is not the one the player wants.
func (p *Player) giveUp(err error) {
	if p.err == nil {
		p.err = err
		p.c.Disconnect()
	}
}

// Mispredictions returns the prediction error so far.
func (p *Player) Mispredictions() Mispredictions { return p.mis }

// Frame does one frame of networking at now with the buttons held: it
// reads what the server sent, sends this frame's input and predicts the
// local ship one tick ahead. Once connected, it first asks the server
// which game it hosts, and gives up on a server that does not answer as
// an arena server of this version within IdentTimeout (see Err).
func (p *Player) Frame(now time.Time, in sim.Input) {
	if p.start.IsZero() {
		p.start = now
	}
	p.c.Update()
	for _, m := range p.c.Messages() {
		p.handle(now, m.Data)
	}
	if p.err != nil || !p.c.Connected() {
		return
	}
	if p.identAt.IsZero() {
		// Connected: ask which game the server hosts.
		p.identAt = now
		_ = p.c.SendGuaranteed(wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), nil)
	}
	if !p.identified {
		if now.Sub(p.identAt) >= p.opts.IdentTimeout {
			if p.welcomed {
				// An arena server from before identification.
				p.giveUp(&VersionError{Server: 0, Client: wire.Version})
			} else {
				p.giveUp(ErrNotArena)
			}
		}
		return
	}
	if !p.welcomed {
		return
	}
	if !p.helloOut {
		p.helloOut = true
		_ = p.c.SendGuaranteed(wire.AppendHello(nil, wire.Hello{Name: p.opts.Name, Color: p.opts.Color}), nil)
	}
	p.seq++
	p.sent = append(p.sent, wire.Input{Seq: p.seq, Buttons: in})
	if len(p.sent) > Redundancy {
		p.sent = append(p.sent[:0], p.sent[len(p.sent)-Redundancy:]...)
	}
	p.buf = wire.AppendInputs(p.buf[:0], p.sent)
	_ = p.c.Send(p.buf, conn.RetryNone, nil)
	if p.haveShip && p.local.Alive {
		p.local.Input = in
		sim.StepShip(&p.local, sim.Classic().Bounds)
		p.history = append(p.history, pending{seq: p.seq, in: in, predicted: p.local})
	}
	if len(p.history) > 4*sim.TickRate {
		p.history = p.history[len(p.history)-4*sim.TickRate:] // a server that stopped acking
	}
}

func (p *Player) handle(now time.Time, m []byte) {
	k, err := wire.KindOf(m)
	if err != nil || p.err != nil {
		return
	}
	switch k {
	case wire.KindIdentity:
		// Only an Identity answers: the echo server sends our Identify
		// back, which is of another kind and ignored.
		id, err := wire.ParseIdentity(m)
		switch {
		case err != nil:
		case id.Game != wire.GameID:
			p.giveUp(ErrNotArena)
		case id.Version != wire.Version:
			p.giveUp(&VersionError{Server: id.Version, Client: wire.Version})
		default:
			p.identified = true
		}
	case wire.KindWelcome:
		if w, err := wire.ParseWelcome(m); err == nil {
			p.id, p.welcomed = w.ID, true
		}
	case wire.KindSnapshot:
		if err := wire.ParseSnapshot(&p.parse, m); err == nil {
			p.snapshot(now, &p.parse)
		}
	case wire.KindEvent:
		e, err := wire.ParseEvent(m)
		if err != nil {
			return
		}
		switch e.Kind {
		case wire.EventJoin:
			// Cleaned here too: a server of another build may send
			// anything.
			p.names[e.ID] = info{wire.CleanName(e.Name), e.Color}
		case wire.EventLeave:
			delete(p.names, e.ID)
		case wire.EventKill:
			p.kills = append(p.kills, Kill{Killer: p.name(e.Other), Victim: p.name(e.ID), X: e.X, Y: e.Y, At: now})
			if len(p.kills) > 8 {
				p.kills = p.kills[1:]
			}
		}
	}
}

func (p *Player) name(id uint32) string {
	if i, ok := p.names[id]; ok && i.name != "" {
		return i.name
	}
	return fmt.Sprintf("#%d", id%1000)
}

// localTick is the time since the first frame, in ticks.
func (p *Player) localTick(now time.Time) float64 {
	return now.Sub(p.start).Seconds() * sim.TickRate
}

// snapshot stores a snapshot for interpolation, tracks the server's
// clock and reconciles the local ship.
func (p *Player) snapshot(now time.Time, s *wire.Snapshot) {
	if n := len(p.snaps); n > 0 && s.Tick <= p.snaps[n-1].tick {
		return // older than one already seen: useless now
	}
	// The server's tick, seen from here: smoothed so jitter does not shake
	// the interpolation.
	o := float64(s.Tick) - p.localTick(now)
	if !p.haveOffset || math.Abs(o-p.offset) > 30 {
		p.offset, p.haveOffset = o, true
	} else {
		p.offset += 0.05 * (o - p.offset)
	}
	var keep snapshot
	if len(p.snaps) == maxSnaps {
		keep = p.snaps[0]
		p.snaps = append(p.snaps[:0], p.snaps[1:]...)
	}
	keep.tick = s.Tick
	keep.ships = append(keep.ships[:0], s.Ships...)
	keep.bullets = append(keep.bullets[:0], s.Bullets...)
	p.snaps = append(p.snaps, keep)
	p.reconcile(s)
}

// reconcile resets the local ship to the server's state after the last
// acknowledged input and replays the inputs the server has not applied.
func (p *Player) reconcile(s *wire.Snapshot) {
	var mine *wire.ShipState
	for i := range s.Ships {
		if s.Ships[i].ID == p.id {
			mine = &s.Ships[i]
			break
		}
	}
	if mine == nil {
		return
	}
	keep := p.history[:0]
	for _, h := range p.history {
		switch {
		case h.seq == s.Ack:
			d := math.Hypot(h.predicted.X-mine.X, h.predicted.Y-mine.Y)
			p.mis.Count++
			p.mis.Sum += d
			p.mis.Max = math.Max(p.mis.Max, d)
		case h.seq > s.Ack:
			keep = append(keep, h)
		}
	}
	p.history = keep
	p.local = sim.Ship{
		ID: mine.ID, X: mine.X, Y: mine.Y, VX: mine.VX, VY: mine.VY, Angle: mine.Angle,
		Alive: mine.Flags&wire.FlagAlive != 0, Score: int(mine.Score), Deaths: int(mine.Deaths),
	}
	p.haveShip = true
	if !p.local.Alive {
		p.history = p.history[:0]
		return
	}
	for i := range p.history {
		p.local.Input = p.history[i].in
		sim.StepShip(&p.local, sim.Classic().Bounds)
		p.history[i].predicted = p.local
	}
}

// RenderTick returns the server tick the other ships are shown at.
func (p *Player) RenderTick(now time.Time) float64 {
	return p.localTick(now) + p.offset - p.opts.InterpDelay.Seconds()*sim.TickRate
}

// View returns what to draw at now.
func (p *Player) View(now time.Time) View {
	var v View
	if len(p.snaps) == 0 {
		return v
	}
	rt := p.RenderTick(now)
	a, b, f := p.bracket(rt)
	for i := range b.ships {
		sb := &b.ships[i]
		s := shipFrom(sb)
		if sa := findShip(a.ships, sb.ID); sa != nil && a != b {
			s.X, s.Y = lerp(sa.X, sb.X, f), lerp(sa.Y, sb.Y, f)
			s.Angle = lerpAngle(sa.Angle, sb.Angle, f)
			if sa.Flags&wire.FlagAlive == 0 || sb.Flags&wire.FlagAlive == 0 {
				s.X, s.Y = sb.X, sb.Y // no sliding across a respawn
			}
		} else if f > 1 {
			// Past the newest snapshot: extrapolate a little.
			ahead := math.Min(f-1, 0.5) * float64(SnapshotTicks) / sim.TickRate
			s.X, s.Y = s.X+s.VX*ahead, s.Y+s.VY*ahead
		}
		if sb.ID == p.id && p.haveShip {
			s.X, s.Y, s.Angle, s.VX, s.VY = p.local.X, p.local.Y, p.local.Angle, p.local.VX, p.local.VY
			s.Alive = p.local.Alive && s.Alive
			s.Thrust = p.local.Alive && p.local.Input&sim.Thrust != 0
			s.Local = true
		}
		s.Name = p.name(s.ID)
		if i, ok := p.names[s.ID]; ok {
			s.Color = i.color
		}
		v.Ships = append(v.Ships, s)
	}
	// The local ship first.
	for i := range v.Ships {
		if v.Ships[i].Local {
			v.Ships[0], v.Ships[i] = v.Ships[i], v.Ships[0]
			break
		}
	}
	for i := range b.bullets {
		bb := &b.bullets[i]
		x, y := bb.X, bb.Y
		if ba := findBullet(a.bullets, bb.ID, bb.Owner); ba != nil && a != b {
			x, y = lerp(ba.X, bb.X, f), lerp(ba.Y, bb.Y, f)
		} else {
			dt := (f - 1) * float64(SnapshotTicks) / sim.TickRate
			x, y = x+bb.VX*dt, y+bb.VY*dt
		}
		if bb.Owner == p.id {
			// Our own shots left our (predicted) ship: show them where
			// they are now rather than InterpDelay ago.
			dt := p.opts.InterpDelay.Seconds()
			x, y = x+bb.VX*dt, y+bb.VY*dt
		}
		v.Bullets = append(v.Bullets, Bullet{Owner: bb.Owner, X: x, Y: y})
	}
	for _, k := range p.kills {
		if now.Sub(k.At) < 5*time.Second {
			v.Kills = append(v.Kills, k)
		}
	}
	return v
}

// SnapshotTicks is the ticks between two snapshots the server sends.
const SnapshotTicks = 2

// bracket returns the snapshots around render tick rt and the fraction of
// the way from a to b (above 1 past the newest).
func (p *Player) bracket(rt float64) (a, b *snapshot, f float64) {
	n := len(p.snaps)
	last := &p.snaps[n-1]
	if rt >= float64(last.tick) {
		return last, last, 1 + (rt-float64(last.tick))/SnapshotTicks
	}
	for i := n - 1; i > 0; i-- {
		lo, hi := &p.snaps[i-1], &p.snaps[i]
		if rt >= float64(lo.tick) {
			return lo, hi, (rt - float64(lo.tick)) / float64(hi.tick-lo.tick)
		}
	}
	return &p.snaps[0], &p.snaps[0], 0
}

func shipFrom(s *wire.ShipState) Ship {
	return Ship{
		ID: s.ID, X: s.X, Y: s.Y, VX: s.VX, VY: s.VY, Angle: s.Angle,
		Alive: s.Flags&wire.FlagAlive != 0, Shield: s.Flags&wire.FlagShield != 0, Thrust: s.Flags&wire.FlagThrust != 0,
		Score: int(s.Score), Deaths: int(s.Deaths),
	}
}

func findShip(ships []wire.ShipState, id uint32) *wire.ShipState {
	for i := range ships {
		if ships[i].ID == id {
			return &ships[i]
		}
	}
	return nil
}

func findBullet(bullets []wire.BulletState, id uint16, owner uint32) *wire.BulletState {
	for i := range bullets {
		if bullets[i].ID == id && bullets[i].Owner == owner {
			return &bullets[i]
		}
	}
	return nil
}

func lerp(a, b, f float64) float64 { return a + (b-a)*f }

// lerpAngle interpolates along the shorter way round.
func lerpAngle(a, b, f float64) float64 {
	d := math.Remainder(b-a, 2*math.Pi)
	return math.Remainder(a+d*f, 2*math.Pi)
}
