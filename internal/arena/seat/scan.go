// Package seat shows an arena server's recording (package record, written
// by `mpgameserver serve --record`) through one player's eyes: the
// recording runs through a fresh arena.Handler (package rerun) and the
// messages the handler sends that player's connection go, over a perfect
// in-process link, to a player.Player in Watch mode, which draws them as
// the game window does. `mpgameserver play --replay FILE|DIR --as NAME`
// opens a window on it.
//
// What is drawn is what the server sent that seat over a perfect link:
// every message arrives at the recorded tick it was sent, and every
// snapshot is acknowledged at once. The recorded server's replication
// depended on the acknowledgements that really came, which are not
// recorded, so its snapshots' deltas and budget choices may have differed
// in detail (an entity sent a snapshot later); the world itself is
// exactly the recorded one, tick by tick, because the handler is
// deterministic given the recorded connects, messages and ticks (`mpgameserver
// replay` verifies it against the recorded checksums).
//
// Scan reads a recording once to find its players' sessions, by the names
// their Hello messages gave them; Open starts a Replay of one session.
package seat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/server"
)

// Session is one connection of a player in a recording: from its Connect
// to its Disconnect.
type Session struct {
	// Token is the connection's session token (the recording's peer).
	Token uint32
	// Ordinal is which Connect of the recording it is (0 for the first):
	// a token could come back, an ordinal does not.
	Ordinal int
	// Name is the first name the server gave it: its first Hello's,
	// cleaned as the server does (wire.CleanName), or its default name
	// (player1, player2...) when it said none or nothing was left of it,
	// or never sent a Hello; Color the color that came with it. Names
	// are every name it took, in the order it first took them (a player
	// may rename itself with another Hello).
	Name  string
	Names []string
	Color uint8
	// Hello reports that it sent a Hello the server took (the server
	// printed a JOIN line for it).
	Hello bool
	// JoinAt is the recording's time (the sum of its ticks' deltas)
	// when it connected.
	JoinAt time.Duration
	// Left reports that it disconnected within the recording, at
	// LeaveAt, for Reason (server.LeftTimedOut...; see seat.Reason).
	Left    bool
	LeaveAt time.Duration
	Reason  uint8
}

// Named reports whether the session took the name name at some point.
func (s Session) Named(name string) bool { return slices.Contains(s.Names, name) }

// Index is what Scan found in a recording.
type Index struct {
	// Sessions are the recording's connections, in the order they came.
	Sessions []Session
	// Duration is the recording's length (the sum of its ticks'
	// deltas), Ticks how many ticks it holds, FirstTick and LastTick
	// their numbers.
	Duration            time.Duration
	Ticks               int
	FirstTick, LastTick uint64
	// Stop, when not nil, is why the recording cannot be run past
	// Duration: records were lost (a Dropped marker), a block is corrupt,
	// or a second game begins. The Index covers what comes before.
	Stop error
}

// Scan reads the recording at path (a file or a directory) once, without
// running the game, and returns its sessions and length. A recording that
// is not of the arena, or is empty, is an error.
func Scan(path string) (*Index, error) {
	r, err := record.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return scan(r)
}

// scan follows what the handler does with the records that name players:
// it joins every Connect (the default name counts the joins), takes a
// Hello as the handler does (cleaned, rate limited on the game's clock),
// and lets a Disconnect go.
func scan(r *record.Reader) (*Index, error) {
	ix := &Index{}
	type live struct {
		i       int // in ix.Sessions
		defName string
		named   bool   // a Hello was taken
		name    string // the name and color it has now
		color   uint8
		limit   helloLimit
	}
	on := map[uint32]*live{}
	game := false
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !game {
				return nil, err
			}
			ix.Stop = fmt.Errorf("seat: the recording is damaged after %v: %w", ix.Duration, err)
			break
		}
		if !game && rec.Kind != record.KindGame {
			return nil, rerun.ErrNotArena
		}
		switch rec.Kind {
		case record.KindGame:
			if game {
				ix.Stop = fmt.Errorf("seat: a second game begins after %v (a server restarted into the same directory); replay one file", ix.Duration)
				return ix, nil
			}
			var g rerun.Game
			if err := json.Unmarshal(rec.Data, &g); err != nil || g.Game != "arena" || g.Arena == nil {
				return nil, fmt.Errorf("seat: the recording is of game %q, not the arena's", g.Game)
			}
			if _, err := g.Arena.Options(); err != nil {
				return nil, fmt.Errorf("seat: %w", err)
			}
			game = true
		case record.KindDropped:
			ix.Stop = fmt.Errorf("seat: %d records were lost while recording, after %v; the game cannot be run past them", rec.Records, ix.Duration)
			return ix, nil
		case record.KindTick:
			if ix.Ticks == 0 {
				ix.FirstTick = rec.Tick
			}
			ix.Ticks++
			ix.LastTick = rec.Tick
			ix.Duration += rec.Delta
		case record.KindConnect:
			n := len(ix.Sessions)
			name := fmt.Sprintf("player%d", n+1) // as Handler.Join names it
			ix.Sessions = append(ix.Sessions, Session{Token: rec.Peer, Ordinal: n, Name: name, Color: uint8(n) % wire.Colors,
				JoinAt: ix.Duration})
			on[rec.Peer] = &live{i: n, defName: name}
		case record.KindDisconnect:
			if l := on[rec.Peer]; l != nil {
				s := &ix.Sessions[l.i]
				s.Left, s.LeaveAt, s.Reason = true, ix.Duration, rec.Reason
				delete(on, rec.Peer)
			}
		case record.KindMessage:
			l := on[rec.Peer]
			if l == nil {
				continue
			}
			if k, _ := wire.KindOf(rec.Data); k != wire.KindHello {
				continue
			}
			h, err := wire.ParseHello(rec.Data)
			if err != nil {
				continue
			}
			name := wire.CleanName(h.Name)
			if name == "" {
				name = l.defName
			}
			color := h.Color % wire.Colors
			if l.named && name == l.name && color == l.color {
				continue // the same again: the server says nothing
			}
			if !l.limit.allow(ix.Duration) {
				continue // over the rate limit: the server dropped it
			}
			s := &ix.Sessions[l.i]
			if !l.named {
				s.Name, s.Color, s.Hello = name, color, true
			}
			l.named, l.name, l.color = true, name, color
			if !s.Named(name) {
				s.Names = append(s.Names, name)
			}
		}
	}
	if !game {
		return nil, errors.New("seat: the recording is empty")
	}
	for i := range ix.Sessions {
		if s := &ix.Sessions[i]; len(s.Names) == 0 {
			s.Names = []string{s.Name} // never said its name: its default
		}
	}
	return ix, nil
}

// helloLimit is the handler's limit on a player's Hellos (arena.HelloBurst
// at once, one every arena.HelloRefill after that, on the game's clock):
// a Hello over it renamed no one.
type helloLimit struct{ full time.Duration }

func (l *helloLimit) allow(now time.Duration) bool {
	full := max(l.full, now)
	if full-now > (arena.HelloBurst-1)*arena.HelloRefill {
		return false
	}
	l.full = full + arena.HelloRefill
	return true
}

// Find returns the n-th session (1 for the first) that took the name
// name: its Hello named it (the name as the server showed it, so "ann
// lee" finds ann_lee), or it is its default name. A player who left and
// joined again has a session for each connection; n chooses. An unknown
// name, or too few sessions, is an *UnknownError listing the players.
func (ix *Index) Find(name string, n int) (Session, error) {
	clean := wire.CleanName(name)
	var found []Session
	for _, s := range ix.Sessions {
		if s.Named(name) || clean != "" && s.Named(clean) {
			found = append(found, s)
		}
	}
	if n < 1 || n > len(found) {
		return Session{}, &UnknownError{Name: name, N: n, Found: len(found), Players: ix.Players()}
	}
	return found[n-1], nil
}

// Player is a name of a recording and how many sessions took it.
type Player struct {
	Name     string
	Sessions int
}

// Players returns every name the recording's sessions took, in the order
// they first appeared, with how many sessions took each.
func (ix *Index) Players() []Player {
	var ps []Player
	for _, s := range ix.Sessions {
		for _, n := range s.Names {
			i := slices.IndexFunc(ps, func(p Player) bool { return p.Name == n })
			if i < 0 {
				ps = append(ps, Player{Name: n})
				i = len(ps) - 1
			}
			ps[i].Sessions++
		}
	}
	return ps
}

// UnknownError is why Find found no session: no player took the name, or
// fewer than the session asked for.
type UnknownError struct {
	Name    string
	N       int // the session asked for
	Found   int // sessions that took the name
	Players []Player
}

func (e *UnknownError) Error() string {
	var b strings.Builder
	switch {
	case e.Found == 0:
		fmt.Fprintf(&b, "the recording has no player named %q", e.Name)
	case e.N < 1:
		fmt.Fprintf(&b, "session %d of %q: sessions count from 1", e.N, e.Name)
	default:
		fmt.Fprintf(&b, "%q has %d session(s) in the recording, not %d", e.Name, e.Found, e.N)
	}
	if len(e.Players) == 0 {
		b.WriteString("; it has no players at all")
		return b.String()
	}
	b.WriteString("; its players: ")
	for i, p := range e.Players {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		if p.Sessions > 1 {
			fmt.Fprintf(&b, " (%d sessions)", p.Sessions)
		}
	}
	return b.String()
}

// Reason says in words why a session left (Session.Reason).
func Reason(r uint8) string {
	switch r {
	case server.LeftTimedOut:
		return "timed out"
	case server.LeftClientClosed:
		return "quit"
	case server.LeftServerClosed:
		return "the server closed the connection"
	}
	return "the connection failed"
}
