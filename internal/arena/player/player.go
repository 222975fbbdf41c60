// Package player is an arena game client without graphics: the network
// side of the game window, of bots and of tests. Call Frame once per game
// frame (60 a second) with the buttons held; View returns what to draw.
//
// Netcode:
//   - every frame sends the buttons as a numbered input (plain message)
//     and predicts the local ship with sim.StepShip, so controls respond
//     at once;
//   - the world arrives through package replicate: what is in the
//     player's view, every player's standing, and in each snapshot's data
//     (wire.Own) the last input the server applied and the local ship's
//     state after it; the local ship is reset to that state and the inputs
//     the server has not applied yet are replayed (reconciliation);
//   - everything else is drawn a little in the past (the receiver's delay,
//     which follows the jitter), interpolated between snapshots.
//
// On connecting, the player asks the server which game it hosts
// (wire.Identify). An arena server of the same protocol version answers
// at once; any other server (one hosting another game, such as the echo
// server, which sends the question back unchanged) does not, and the
// player gives up IdentTimeout after connecting: Err then says why, and
// Explain says it in words for a player.
//
// A player whose session is lost for good (the server restarted, went
// silent or closed it) connects again by itself, with backoff
// (client.Config.Reconnect; Options.NoReconnect turns it off), and on the
// new session forgets the old one's world and introduces itself again
// with the same name and color: see Reconnecting.
//
// With Options.Watch a Player is a spectator of a seat whose messages
// come from a replay (package seat): it shows what the server sent and
// sends nothing.
package player

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/predict"
	"github.com/mpgs/mpgameserver/replicate"
)

// Options configure a Player.
type Options struct {
	Name  string
	Color uint8
	// Key is the server's pinned public key (nil trusts the server's).
	Key *conn.PublicKey
	// InterpDelay is the least delay with which the world is shown (0:
	// two snapshot intervals); the receiver adds to it what the jitter
	// asks.
	InterpDelay time.Duration
	// HandshakeTimeout is how long Connect waits for the server (2 s).
	HandshakeTimeout time.Duration
	// ConnectionTimeout drops a session whose server is silent this long
	// (client.Config.ConnectionTimeout: 5 s).
	ConnectionTimeout time.Duration
	// NoReconnect keeps a lost session lost. By default a player whose
	// session was lost for good after it was established (the server
	// restarted, went silent or closed it) connects again by itself
	// (client.Config.Reconnect) and rejoins the game as itself: see
	// Reconnecting. A player of its own link (NewOn), or in Watch mode,
	// never reconnects.
	NoReconnect bool
	// Reconnect tunes reconnecting: the waits and how many attempts in a
	// row (zero: client.Reconnect's defaults, attempts without end). Its
	// OnEvent, when set, is told each step after the player took it in
	// (Reconnecting says the new state).
	Reconnect client.Reconnect
	// IdentTimeout is how long after connecting the player waits for the
	// server to say it hosts the arena before it gives up (3 s), measured
	// with the times given to Frame.
	IdentTimeout time.Duration
	// Dial opens the player's socket (client.Config.Dial; nil: UDP).
	// Tests give an in-memory network's.
	Dial func(addr string) (transport.Conn, error)
	// Watch makes the player a spectator of its own seat, as a replay of
	// a recording shows it (package seat): Frame reads and shows what
	// the server sent but sends nothing (no Identify, Hello, inputs or
	// Resync) and ignores the buttons, and it never gives up on the
	// server. The local ship is not predicted: it is drawn from the
	// server's word on it in each snapshot's data (wire.Own), carried
	// along its velocity until the next snapshot (a heartbeat,
	// replicate.DefaultHeartbeat, at most); its thrust flame is inferred
	// from the change of its velocity between snapshots, and its laser
	// beams are drawn when the server's verdict comes, as other ships'
	// are.
	Watch bool
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

type info struct {
	name  string
	color uint8
}

// Link is the connection a Player plays over: a *client.Client (New), or
// in a simulation (package lab) a connection state machine of its own
// (NewOn).
type Link interface {
	Update()
	Messages() []client.Message
	Connected() bool
	Status() conn.Status
	Err() error
	Send(msg []byte, retry conn.RetryMode, callback func(ok bool)) error
	SendGuaranteed(msg []byte, callback func(ok bool)) error
	Disconnect()
}

// Player is one game client.
type Player struct {
	opts Options
	c    *client.Client // nil on a Link of another kind
	link Link

	id         uint32
	welcomed   bool
	helloOut   bool
	identAt    time.Time                               // when Identify went out (zero: not yet)
	identified bool                                    // the server said it hosts the arena, our version
	err        error                                   // why the player gave up on the server
	pred       *predict.Predictor[sim.Ship, sim.Input] // the local ship, from the Welcome on
	haveShip   bool                                    // the server told the ship's state

	scene     sim.Scene
	sceneName string
	early     [][]byte  // snapshots that came before the Welcome
	resyncAt  time.Time // when the last Resync went
	rx        *replicate.Receiver
	snaps     uint64 // snapshots the receiver had decoded at the last reconcile
	names     map[uint32]info
	kills     []Kill
	buf       []byte
	badMsg    int

	errs   []float64 // each reconciliation's misprediction, the first maxErrs
	shots  [64]shot  // the local laser shots, by seq modulo 64
	lasers Lasers
	beams  []Beam

	rc      *Reconnecting // while reconnecting, else nil
	rejoins int           // sessions that reconnecting brought since Connect

	// In Watch mode: the local ship as the newest snapshot's data told
	// it, when that came, and whether it was thrusting.
	own       sim.Ship
	ownAt     time.Time
	ownThrust bool
}

// Mispredictions measures how far the predicted local ship was from the
// server's: for every snapshot with a newer input acknowledged, the
// distance between the position predicted after that input and the
// position the server computed for it. Corrections are how far the
// prediction moved at those snapshots (the input's error, and what it
// did to the inputs since).
type Mispredictions struct {
	Count    int
	Sum, Max float64
	// Samples are the first errors (up to 100,000), for percentiles.
	Samples []float64
	// CorrectionSum is the sum of the corrections, CorrectionMax the
	// largest; Reconciles their number.
	Reconciles                   int
	CorrectionSum, CorrectionMax float64
}

// MeanCorrection returns the mean correction per reconciliation.
func (m Mispredictions) MeanCorrection() float64 {
	if m.Reconciles == 0 {
		return 0
	}
	return m.CorrectionSum / float64(m.Reconciles)
}

// maxErrs bounds Mispredictions.Samples.
const maxErrs = 100_000

// Mean returns the mean misprediction distance.
func (m Mispredictions) Mean() float64 {
	if m.Count == 0 {
		return 0
	}
	return m.Sum / float64(m.Count)
}

// maxEarly bounds the snapshots a player keeps until its Welcome.
const maxEarly = 64

// Redundancy is how many inputs each input message carries: the newest
// and those before it, so the server misses an input only when that many
// datagrams in a row are lost.
const Redundancy = 4

// Smoothing of the local ship's corrections: spread over SmoothTime,
// unless larger than SnapOver (a respawn).
const (
	SmoothTime = 100 * time.Millisecond
	SnapOver   = 4 * sim.ShipRadius
)

// New returns a player that is not connected yet.
func New(opts Options) *Player {
	if opts.IdentTimeout <= 0 {
		opts.IdentTimeout = DefaultIdentTimeout
	}
	if opts.Dial == nil {
		opts.Dial = dial
	}
	p := &Player{opts: opts, names: make(map[uint32]info)}
	cfg := client.Config{ServerKey: opts.Key, HandshakeTimeout: opts.HandshakeTimeout, ConnectionTimeout: opts.ConnectionTimeout, Dial: opts.Dial}
	if !opts.NoReconnect && !opts.Watch {
		rc := opts.Reconnect
		rc.OnEvent = p.reconnectEvent
		cfg.Reconnect = &rc
	}
	p.c = client.New(cfg)
	p.link = p.c
	return p
}

// NewOn returns a player on a link of its own, already connecting or
// connected (Connect is not for it): the simulations' (package lab).
func NewOn(link Link, opts Options) *Player {
	if opts.IdentTimeout <= 0 {
		opts.IdentTimeout = DefaultIdentTimeout
	}
	return &Player{opts: opts, link: link, names: make(map[uint32]info)}
}

// Connect starts connecting to addr; Frame carries it on.
func (p *Player) Connect(addr string) error {
	if p.c == nil {
		return errors.New("player: Connect on a player of its own link")
	}
	*p = Player{opts: p.opts, c: p.c, link: p.c, names: make(map[uint32]info)}
	return p.c.Connect(addr, nil)
}

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
// statistics); nil for a player made with NewOn.
func (p *Player) Client() *client.Client { return p.c }

// ID returns the local ship's id (0 before the welcome).
func (p *Player) ID() uint32 { return p.id }

// Welcomed reports whether the server welcomed the player into the game.
func (p *Player) Welcomed() bool { return p.welcomed }

// InGame reports whether the player is playing: connected to an arena
// server of its version, which welcomed it (on the current session: after
// reconnecting, once the new server welcomed it).
func (p *Player) InGame() bool {
	return p.welcomed && p.identified && p.err == nil && p.link.Connected()
}

// Err returns why the player is out of the game: ErrNotArena or a
// *VersionError when it gave up on the server, else, once the connection
// ended, why it ended (the client's Err, such as conn.ErrHandshakeTimeout
// or conn.ErrBadSignature). It is nil while connecting, reconnecting
// (see Reconnecting) and playing. Explain turns it into a sentence.
func (p *Player) Err() error {
	if p.err != nil {
		return p.err
	}
	if p.rc != nil {
		return nil
	}
	if p.link.Status().Closed() {
		return p.link.Err()
	}
	return nil
}

// giveUp leaves a server that is not the one the player wants.
func (p *Player) giveUp(err error) {
	if p.err == nil {
		p.err = err
		p.link.Disconnect()
	}
}

// Mispredictions returns the prediction error so far on this session
// (reconnecting starts it over).
func (p *Player) Mispredictions() Mispredictions {
	var m Mispredictions
	if p.pred == nil {
		return m
	}
	st := p.pred.Stats()
	m.Count, m.Sum, m.Max, m.Samples = int(st.Errors), st.ErrorSum, st.ErrorMax, p.errs
	m.Reconciles, m.CorrectionSum, m.CorrectionMax = int(st.Reconciles), st.CorrectionSum, st.CorrectionMax
	return m
}
