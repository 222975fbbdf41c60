package player

import (
	"time"

	"github.com/mpgs/mpgameserver/internal/arena/sim"
)

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

// Asteroid is an asteroid to draw.
type Asteroid struct {
	ID           uint32
	X, Y, Radius float64
	Angle        float64 // its spin so far, for drawing only
	HP, MaxHP    int
}

// Standing is a player in the score board and on the minimap: every
// player, wherever it is, its position coarse (to 8 units).
type Standing struct {
	ID            uint32
	Name          string
	Color         uint8
	Score, Deaths int
	Asteroids     int // destroyed
	X, Y          float64
	Alive, Local  bool
}

// Kill is a recent kill, for the kill feed and explosions.
type Kill struct {
	Killer, Victim string
	X, Y           float64
	At             time.Time
}

// Replication is the client's side of the world's replication, for the
// network overlay.
type Replication struct {
	Entities  int           // known now
	Delay     time.Duration // how far in the past others are shown
	Snapshots uint64
	Bytes     uint64 // of snapshots received
}

// View is what the window draws for a frame.
type View struct {
	Scene     sim.Scene  // the world's size (zero until welcomed)
	Ships     []Ship     // the ships in view, local ship first when alive
	Bullets   []Bullet   // in view
	Asteroids []Asteroid // in view
	Players   []Standing // every player, best score first
	Kills     []Kill     // recent, oldest first
	// CamX, CamY is where the window centres: the local ship, or the
	// world's centre before it is known.
	CamX, CamY  float64
	Replication Replication
	// Beams are the laser beams of the last BeamTime, oldest first.
	Beams []Beam
	// Lasers are the local player's laser shots and the server's
	// verdicts, with the rewind it judged the last one at.
	Lasers Lasers
}

// Beam is a laser beam to draw.
type Beam struct {
	X, Y, Angle, Length float64
	// Local reports a beam of the local ship, drawn when it fired (as
	// its screen showed it), not when the server's verdict came (but in
	// Watch mode, as the verdict came); Hit that it stopped at a ship
	// (on this screen for a local beam, on the server for others').
	Local, Hit bool
	At         time.Time
}

// BeamTime is how long a beam is drawn.
const BeamTime = 250 * time.Millisecond

// Lasers counts the local player's laser shots.
type Lasers struct {
	// Fired counts the shots the local ship fired (as predicted); Seen
	// those that hit a ship on this player's screen (the first ship the
	// beam met, alive and unshielded as shown).
	Fired, Seen int
	// Verdicts counts the server's verdicts on them; Registered the seen
	// hits the server judged hits too; Unseen the hits it judged on
	// shots that missed on screen.
	Verdicts, Registered, Unseen int
	// Capped counts verdicts whose view was older than the server
	// rewinds; RewindSum is the sum of the verdicts' rewinds, Rewind
	// and LastCapped the last one's.
	Capped     int
	RewindSum  time.Duration
	Rewind     time.Duration
	LastCapped bool
}
