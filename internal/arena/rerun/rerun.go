// Package rerun runs an arena server's recording (package record, written
// by `mpgameserver serve --record`) through a fresh arena.Handler made with
// the recorded options: the same connects, messages, disconnects and ticks,
// in order. The handler is deterministic given them, so the world it makes
// is the recorded server's, tick by tick: `mpgameserver replay` compares
// the recorded checksums with it, and `mpgameserver play --replay` shows it
// through one player's eyes.
package rerun

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/record"
)

// Game is what a recording's Game record holds: which game the server ran
// and its options, as JSON.
type Game struct {
	Game  string `json:"game"`
	Arena *Arena `json:"arena,omitempty"`
}

// Arena is arena.Options as a recording carries them.
type Arena struct {
	Seed      uint64 `json:"seed"`
	Scene     string `json:"scene"`
	Full      bool   `json:"full,omitempty"`
	Budget    int    `json:"budget,omitempty"`
	MaxRewind int64  `json:"max_rewind_ns"`
	NoLagComp bool   `json:"no_lag_comp,omitempty"`
}

// ArenaOf returns the options o as a recording carries them.
func ArenaOf(o arena.Options) *Arena {
	return &Arena{Seed: o.Seed, Scene: o.Scene.Name, Full: o.Full, Budget: o.Budget,
		MaxRewind: int64(o.MaxRewind), NoLagComp: o.NoLagComp}
}

// Encode returns g as a Game record's data.
func (g Game) Encode() []byte {
	b, _ := json.Marshal(g) // plain fields: it cannot fail
	return b
}

// Options returns the arena's options, or why there are none (a scene
// this binary does not know).
func (a *Arena) Options() (arena.Options, error) {
	sc, ok := sim.SceneByName(a.Scene)
	if !ok {
		return arena.Options{}, fmt.Errorf("the recording's arena plays scene %q, which this binary does not know", a.Scene)
	}
	return arena.Options{Seed: a.Seed, Scene: sc, Full: a.Full, Budget: a.Budget,
		MaxRewind: time.Duration(a.MaxRewind), NoLagComp: a.NoLagComp}, nil
}

// Config configures a Runner.
type Config struct {
	// NewPeer makes the handler's view of the recorded client token
	// (nil: a peer whose sends go nowhere). `play --replay` gives the seat
	// it watches through a peer of its own.
	NewPeer func(token uint32) arena.Peer
	// Tamper, when set, is given the handler before each tick's Update:
	// tests change the game with it.
	Tamper func(h *arena.Handler, tick uint64)
	// Out receives the handler's JOIN and LEAVE lines (nil: nowhere).
	Out io.Writer
}

// Runner feeds a recording's records to a fresh arena handler.
type Runner struct {
	r     *record.Reader
	cfg   Config
	h     *arena.Handler
	peers map[uint32]arena.Peer
	tick  uint64
	ticks int
	joins int
}

// ErrNotArena is returned when the recording's first record does not name
// the arena and its options.
var ErrNotArena = errors.New("rerun: the recording is not of the arena (its first record must be the arena's options)")

// New returns a Runner over r; its first Next makes the handler from the
// recording's Game record.
func New(r *record.Reader, cfg Config) *Runner {
	return &Runner{r: r, cfg: cfg, peers: map[uint32]arena.Peer{}}
}

// Handler returns the handler (nil before the Game record was read).
func (u *Runner) Handler() *arena.Handler { return u.h }

// Tick returns the tick of the last Update run.
func (u *Runner) Tick() uint64 { return u.tick }

// Ticks returns how many Updates ran; Clients how many clients connected.
func (u *Runner) Ticks() int   { return u.ticks }
func (u *Runner) Clients() int { return u.joins }

// Peer returns the handler's peer of token, while connected.
func (u *Runner) Peer(token uint32) (arena.Peer, bool) {
	p, ok := u.peers[token]
	return p, ok
}

// Next reads the next record and gives it to the handler: a Connect joins
// a peer, a Message is received, a Disconnect leaves, a Tick runs Update.
// It returns the record (valid until the next call), io.EOF at the end,
// or an error for a recording that cannot be run on: corrupt, lost
// records (a Dropped marker), not the arena's, or a second game in it.
func (u *Runner) Next() (record.Record, error) {
	rec, err := u.r.Next()
	if err != nil {
		return rec, err
	}
	if u.h == nil && rec.Kind != record.KindGame {
		return rec, ErrNotArena
	}
	switch rec.Kind {
	case record.KindGame:
		var g Game
		if err := json.Unmarshal(rec.Data, &g); err != nil || g.Game != "arena" || g.Arena == nil {
			return rec, fmt.Errorf("rerun: the recording is of game %q, not the arena's", g.Game)
		}
		if u.h != nil {
			return rec, fmt.Errorf("rerun: the recording holds a second game (a server restarted into the same directory); replay one file")
		}
		opts, err := g.Arena.Options()
		if err != nil {
			return rec, fmt.Errorf("rerun: %w", err)
		}
		u.h = arena.New(u.cfg.Out, opts)
	case record.KindConnect:
		var p arena.Peer
		if u.cfg.NewPeer != nil {
			p = u.cfg.NewPeer(rec.Peer)
		}
		if p == nil {
			p = &silentPeer{token: rec.Peer}
		}
		u.peers[rec.Peer] = p
		u.joins++
		u.h.Join(p)
	case record.KindDisconnect:
		if p := u.peers[rec.Peer]; p != nil {
			u.h.Leave(p)
			delete(u.peers, rec.Peer)
		}
	case record.KindMessage:
		if p := u.peers[rec.Peer]; p != nil {
			u.h.Receive(p, rec.Data)
		}
	case record.KindTick:
		if u.cfg.Tamper != nil {
			u.cfg.Tamper(u.h, rec.Tick)
		}
		u.h.Update(rec.Delta)
		u.tick = rec.Tick
		u.ticks++
	case record.KindDropped:
		return rec, fmt.Errorf("rerun: %d records were lost while recording; the game cannot be run past them", rec.Records)
	}
	return rec, nil
}

// Close shuts the handler down (its replication's workers).
func (u *Runner) Close() {
	if u.h != nil {
		u.h.Shutdown()
	}
}

// silentPeer is a recorded client whose sends go nowhere.
type silentPeer struct{ token uint32 }

func (p *silentPeer) Token() uint32                                    { return p.token }
func (p *silentPeer) Send([]byte, conn.RetryMode, func(ok bool)) error { return nil }
func (p *silentPeer) Log() *slog.Logger                                { return slog.New(slog.DiscardHandler) }
func (p *silentPeer) SetLabel(string)                                  {}
