package player

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/predict"
	"github.com/mpgs/mpgameserver/replicate"
)

// Frame does one frame of networking at now with the buttons held: it
// reads what the server sent, moves the shown world to now, sends this
// frame's input (with the inputs before it, and the time the screen
// shows) and predicts the local ship one tick ahead. Once connected, it
// first asks the server which game it hosts, and gives up on a server
// that does not answer as an arena server of this version within
// IdentTimeout (see Err).
func (p *Player) Frame(now time.Time, in sim.Input) {
	p.link.Update()
	for _, m := range p.link.Messages() {
		p.handle(now, m.Data)
	}
	if p.rx != nil {
		p.rx.Advance(now)
	}
	if p.opts.Watch || p.err != nil || !p.link.Connected() {
		return // a spectator (Watch) only shows what came
	}
	if p.identAt.IsZero() {
		// Connected: ask which game the server hosts.
		p.identAt = now
		_ = p.link.SendGuaranteed(wire.AppendIdentify(nil, wire.Ident{Game: wire.GameID, Version: wire.Version}), nil)
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
	if p.rx == nil {
		p.giveUp(fmt.Errorf("player: the server plays scene %q, which this client does not know", p.sceneName))
		return
	}
	if !p.helloOut {
		p.helloOut = true
		_ = p.link.SendGuaranteed(wire.AppendHello(nil, wire.Hello{Name: p.opts.Name, Color: p.opts.Color}), nil)
	}
	seq := p.pred.Tick(now, in&sim.Buttons, p.rx.RenderTime())
	p.buf = wire.AppendInputs(p.buf[:0], p.pred.Batch())
	_ = p.link.Send(p.buf, conn.RetryNone, nil)
	if st := p.pred.State(); st.Lasered {
		p.fireLaser(now, &st, seq)
	}
}

// newPredictor returns the local ship's predictor in scene sc.
func newPredictor(id uint32, sc sim.Scene) *predict.Predictor[sim.Ship, sim.Input] {
	b := sc.Bounds
	return predict.New(sim.Ship{ID: id}, predict.Config[sim.Ship, sim.Input]{
		Step: func(s *sim.Ship, in sim.Input) {
			s.Input = in
			sim.StepShip(s, b)
		},
		Redundancy: Redundancy,
		Distance:   func(a, b *sim.Ship) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) },
		Lerp:       lerpShip,
		Smooth:     SmoothTime,
		SnapOver:   SnapOver,
	})
}

// lerpShip is the ship t of the way from a to b: its place, speed and
// heading (the short way round) between them, the rest b's.
func lerpShip(a, b *sim.Ship, t float64) sim.Ship {
	s := *b
	s.X, s.Y = a.X+(b.X-a.X)*t, a.Y+(b.Y-a.Y)*t
	s.VX, s.VY = a.VX+(b.VX-a.VX)*t, a.VY+(b.VY-a.VY)*t
	s.Angle = a.Angle + math.Remainder(b.Angle-a.Angle, 2*math.Pi)*t
	return s
}

func (p *Player) handle(now time.Time, m []byte) {
	if p.err != nil || len(m) == 0 {
		return
	}
	if p.rx != nil {
		if ok, err := p.rx.Handle(now, m); ok {
			if err != nil {
				p.badMsg++
			}
			if errors.Is(err, replicate.ErrNoBaseline) && !p.opts.Watch && now.Sub(p.resyncAt) >= time.Second {
				// The server builds on a snapshot this receiver did
				// not get: ask for the world whole again.
				p.resyncAt = now
				_ = p.link.Send(wire.AppendResync(nil), conn.RetryOnTimeout, nil)
			}
			p.reconcile(now)
			return
		}
	} else if m[0] == replicate.DefaultTag && !p.welcomed {
		// A snapshot that overtook the Welcome (which was lost and
		// sent again): the server counts it as received, and later
		// snapshots build on it, so keep it for the receiver.
		if len(p.early) < maxEarly {
			p.early = append(p.early, append([]byte(nil), m...))
		}
		return
	}
	switch wire.Kind(m[0]) {
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
		w, err := wire.ParseWelcome(m)
		if err != nil || p.welcomed {
			return
		}
		p.id, p.welcomed, p.sceneName = w.ID, true, w.Scene
		// A scene this client does not know is said once the server
		// identified itself (Frame): a server of another version may
		// welcome first.
		if sc, ok := sim.SceneByName(w.Scene); ok {
			p.scene = sc
			p.rx = replicate.NewReceiver(wire.Schema(sc), replicate.ReceiverConfig{MinDelay: p.opts.InterpDelay})
			p.pred = newPredictor(p.id, sc)
			for _, e := range p.early {
				p.handle(now, e)
			}
		}
		p.early = nil
	case wire.KindLaser:
		if l, err := wire.ParseLaser(m); err == nil {
			p.verdict(now, l)
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

// reconcile gives the predictor the server's word on the local ship in
// the newest snapshot's data: its state after the last input the server
// applied, on which the inputs since are replayed.
func (p *Player) reconcile(now time.Time) {
	st := p.rx.Stats()
	if st.Snapshots == p.snaps {
		return // nothing new decoded
	}
	p.snaps = st.Snapshots
	own, err := wire.ParseOwn(p.rx.Data())
	if err != nil {
		return
	}
	auth := sim.Ship{ID: p.id, X: own.X, Y: own.Y, VX: own.VX, VY: own.VY, Angle: own.Angle, Alive: own.Alive, LaserCool: own.LaserCool}
	if own.Shield {
		auth.Shield = 1
	}
	if p.opts.Watch {
		p.watch(now, auth)
		return
	}
	first := !p.haveShip
	p.haveShip = true
	if !own.Alive {
		// Dead: nothing to predict until the server respawns it.
		p.pred.Reset(auth)
		return
	}
	if first || !p.pred.State().Alive {
		// The ship appeared (the first state, a respawn): where the
		// server put it is no misprediction.
		p.pred.Rebase(now, auth, own.Ack)
		return
	}
	before := p.pred.Stats()
	if !p.pred.Reconcile(now, auth, own.Ack) {
		return
	}
	if after := p.pred.Stats(); after.Errors > before.Errors && len(p.errs) < maxErrs {
		p.errs = append(p.errs, after.ErrorSum-before.ErrorSum)
	}
}

// watch takes the server's word on the local ship in Watch mode: it is
// shown as it is, without prediction. Whether it thrusts is not in the
// snapshot's data: it is inferred from how its velocity changed since
// the last snapshot, beyond what drag did, along its heading.
func (p *Player) watch(now time.Time, s sim.Ship) {
	prev, prevAt, had := p.own, p.ownAt, p.haveShip
	p.own, p.ownAt, p.haveShip, p.ownThrust = s, now, true, false
	if !had || !prev.Alive || !s.Alive {
		return
	}
	steps := math.Round(now.Sub(prevAt).Seconds() * sim.TickRate)
	if steps < 1 || steps > sim.TickRate/2 {
		return
	}
	decay := math.Pow(1-sim.Drag*sim.Dt, steps)
	rx, ry := s.VX-prev.VX*decay, s.VY-prev.VY*decay
	along := rx*math.Cos(s.Angle) + ry*math.Sin(s.Angle)
	p.ownThrust = along > 0.5*sim.Accel*sim.Dt*steps
}

// watched returns the local ship to draw at now in Watch mode: the
// newest snapshot's, moved along its velocity for the time since, within
// the walls. A server sends no snapshot while nothing in the player's
// view changed (its own ship rides in the data of snapshots sent for
// other reasons, and a heartbeat): the ship moves on for a heartbeat at
// most.
func (p *Player) watched(now time.Time) sim.Ship {
	s := p.own
	if p.ownThrust {
		s.Input = sim.Thrust
	}
	if !s.Alive {
		return s
	}
	dt := min(now.Sub(p.ownAt), replicate.DefaultHeartbeat).Seconds()
	if dt <= 0 {
		return s
	}
	s.X = min(max(s.X+s.VX*dt, sim.ShipRadius), p.scene.Width-sim.ShipRadius)
	s.Y = min(max(s.Y+s.VY*dt, sim.ShipRadius), p.scene.Height-sim.ShipRadius)
	return s
}

// RenderTick returns the server tick the world is shown at.
func (p *Player) RenderTick(time.Time) float64 {
	if p.rx == nil {
		return 0
	}
	return p.rx.RenderTime().Seconds() * sim.TickRate
}

// Scene returns the scene the server plays (zero until welcomed).
func (p *Player) Scene() sim.Scene { return p.scene }

// View returns what to draw: the world at the render time of the last
// Frame, the local ship as predicted, the kill feed as of now.
func (p *Player) View(now time.Time) View {
	v := View{Scene: p.scene, CamX: p.scene.Width / 2, CamY: p.scene.Height / 2}
	for _, k := range p.kills {
		if now.Sub(k.At) < 5*time.Second {
			v.Kills = append(v.Kills, k)
		}
	}
	if p.rx == nil {
		return v
	}
	var local sim.Ship
	if p.haveShip {
		if p.opts.Watch {
			local = p.watched(now)
		} else {
			local = p.pred.Shown(now)
		}
		v.CamX, v.CamY = local.X, local.Y
	}
	v.Lasers = p.lasers
	for _, b := range p.beams {
		if now.Sub(b.At) < BeamTime {
			v.Beams = append(v.Beams, b)
		}
	}
	st := p.rx.Stats()
	v.Replication = Replication{Entities: st.Entities, Delay: st.Delay, Snapshots: st.Snapshots, Bytes: st.Bytes}
	rt := p.rx.RenderTime().Seconds()
	for e := range p.rx.Entities() {
		switch e.Kind() {
		case wire.KindPlayer:
			id := uint32(e.Int(wire.PlayerID))
			v.Players = append(v.Players, Standing{
				ID: id, Name: p.name(id), Color: p.names[id].color, Score: int(e.Int(wire.PlayerScore)),
				Deaths: int(e.Int(wire.PlayerDeaths)), Asteroids: int(e.Int(wire.PlayerRocks)),
				X: e.Float(wire.FX), Y: e.Float(wire.FY), Alive: e.Bool(wire.PlayerAlive), Local: id == p.id,
			})
		case wire.KindShip:
			id := uint32(e.Int(wire.ShipPlayer))
			v.Ships = append(v.Ships, Ship{
				ID: id, X: e.Float(wire.FX), Y: e.Float(wire.FY), VX: e.Float(wire.FVX), VY: e.Float(wire.FVY),
				Angle: e.Float(wire.ShipAngle), Alive: e.Bool(wire.ShipAlive), Shield: e.Bool(wire.ShipShield),
				Thrust: e.Bool(wire.ShipThrust), Name: p.name(id), Color: p.names[id].color,
			})
		case wire.KindBullet:
			b := Bullet{Owner: uint32(e.Int(wire.BulletOwner)), X: e.Float(wire.FX), Y: e.Float(wire.FY)}
			if b.Owner == p.id {
				// Our own shots left our (predicted) ship: show them
				// where they are now rather than the delay ago.
				dt := st.Delay.Seconds()
				b.X, b.Y = b.X+e.Float(wire.FVX)*dt, b.Y+e.Float(wire.FVY)*dt
			}
			v.Bullets = append(v.Bullets, b)
		case wire.KindAsteroid:
			v.Asteroids = append(v.Asteroids, Asteroid{
				ID: uint32(e.ID()), X: e.Float(wire.FX), Y: e.Float(wire.FY), Radius: float64(e.Int(wire.AsteroidRadius)),
				Angle: e.Float(wire.AsteroidPhase) + e.Float(wire.AsteroidSpin)*rt,
				HP:    int(e.Int(wire.AsteroidHP)), MaxHP: int(e.Int(wire.AsteroidMaxHP)),
			})
		}
	}
	slices.SortFunc(v.Players, func(a, b Standing) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Deaths, b.Deaths); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	score := func(id uint32) (int, int) {
		for i := range v.Players {
			if v.Players[i].ID == id {
				return v.Players[i].Score, v.Players[i].Deaths
			}
		}
		return 0, 0
	}
	for i := range v.Ships {
		v.Ships[i].Score, v.Ships[i].Deaths = score(v.Ships[i].ID)
	}
	slices.SortFunc(v.Ships, func(a, b Ship) int { return cmp.Compare(a.ID, b.ID) })
	if p.haveShip {
		me := Ship{
			ID: p.id, X: local.X, Y: local.Y, VX: local.VX, VY: local.VY, Angle: local.Angle,
			Alive: local.Alive, Shield: local.Shield > 0, Thrust: local.Alive && local.Input&sim.Thrust != 0,
			Name: p.name(p.id), Color: p.names[p.id].color, Local: true,
		}
		me.Score, me.Deaths = score(p.id)
		v.Ships = append([]Ship{me}, v.Ships...)
	}
	return v
}
