package player

import (
	"math"
	"time"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/lagcomp"
)

// shot is one of the local ship's laser shots, as its screen showed it.
type shot struct {
	seq    uint32 // the input that fired it
	seen   bool   // it hit a ship on screen
	judged bool   // the server's verdict came
}

// maxBeams bounds the beams kept for drawing.
const maxBeams = 32

// fireLaser is the local ship firing its laser at input seq, in state st:
// what it hits on this screen (the other ships where they are shown, as
// the server will judge it with lag compensation) is drawn at once and
// kept, to compare with the server's verdict.
func (p *Player) fireLaser(now time.Time, st *sim.Ship, seq uint32) {
	var ships, rocks []lagcomp.Shape
	shielded := map[uint64]bool{}
	for e := range p.rx.Entities() {
		switch e.Kind() {
		case wire.KindShip:
			id := uint64(e.Int(wire.ShipPlayer))
			if uint32(id) == p.id || !e.Bool(wire.ShipAlive) {
				continue
			}
			ships = append(ships, lagcomp.Shape{ID: id, X: e.Float(wire.FX), Y: e.Float(wire.FY), R: sim.ShipRadius})
			if e.Bool(wire.ShipShield) {
				shielded[id] = true
			}
		case wire.KindAsteroid:
			rocks = append(rocks, lagcomp.Shape{ID: uint64(e.ID()), X: e.Float(wire.FX), Y: e.Float(wire.FY), R: float64(e.Int(wire.AsteroidRadius))})
		}
	}
	dx, dy := math.Cos(st.Angle), math.Sin(st.Angle)
	length := sim.BeamReach(p.scene.Bounds, st.X, st.Y, st.Angle)
	if h, ok := lagcomp.Raycast(rocks, st.X, st.Y, dx, dy, length, nil); ok {
		length = h.Dist
	}
	h, hit := lagcomp.Raycast(ships, st.X, st.Y, dx, dy, length, nil)
	if hit {
		length = h.Dist
	}
	seen := hit && !shielded[h.Shape.ID]
	p.shots[seq%uint32(len(p.shots))] = shot{seq: seq, seen: seen}
	p.lasers.Fired++
	if seen {
		p.lasers.Seen++
	}
	p.addBeam(Beam{X: st.X, Y: st.Y, Angle: st.Angle, Length: length, Local: true, Hit: hit, At: now})
}

// verdict takes the server's verdict on a laser shot: the local ship's
// is counted against what its screen showed; another's is drawn.
func (p *Player) verdict(now time.Time, l wire.Laser) {
	if l.Shooter != p.id || p.opts.Watch {
		// A spectator (Options.Watch) predicted no shot: it draws its
		// own ship's beams as the server judged them, as others'.
		p.addBeam(Beam{X: l.X, Y: l.Y, Angle: l.Angle, Length: l.Length, Local: l.Shooter == p.id, Hit: l.Victim != 0, At: now})
		return
	}
	sh := &p.shots[l.Seq%uint32(len(p.shots))]
	if sh.seq != l.Seq || sh.judged {
		return // a shot this client did not predict, or long ago
	}
	sh.judged = true
	ls := &p.lasers
	ls.Verdicts++
	switch {
	case sh.seen && l.Victim != 0:
		ls.Registered++
	case !sh.seen && l.Victim != 0:
		ls.Unseen++
	}
	ls.RewindSum += l.Rewind
	ls.Rewind, ls.LastCapped = l.Rewind, l.Capped
	if l.Capped {
		ls.Capped++
	}
}

func (p *Player) addBeam(b Beam) {
	if len(p.beams) >= maxBeams {
		p.beams = append(p.beams[:0], p.beams[1:]...)
	}
	p.beams = append(p.beams, b)
}

// Lasers returns the local player's laser shots and verdicts so far on
// this session (reconnecting starts them over).
func (p *Player) Lasers() Lasers { return p.lasers }
