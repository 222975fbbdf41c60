package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/internal/record"
)

// recordedGame is the game a recording's Game record names, with its
// options: what a replay needs to make the same game again.
type recordedGame struct {
	Game  string         `json:"game"`
	Arena *recordedArena `json:"arena,omitempty"`
}

// recordedArena is arena.Options as a recording carries them.
type recordedArena struct {
	Seed      uint64 `json:"seed"`
	Scene     string `json:"scene"`
	Full      bool   `json:"full,omitempty"`
	Budget    int    `json:"budget,omitempty"`
	MaxRewind int64  `json:"max_rewind_ns"`
	NoLagComp bool   `json:"no_lag_comp,omitempty"`
}

func arenaOptionsOf(o arena.Options) *recordedArena {
	return &recordedArena{Seed: o.Seed, Scene: o.Scene.Name, Full: o.Full, Budget: o.Budget,
		MaxRewind: int64(o.MaxRewind), NoLagComp: o.NoLagComp}
}

func (g recordedGame) encode() []byte {
	b, _ := json.Marshal(g) // plain fields: it cannot fail
	return b
}

// options returns the arena's options, or why there are none.
func (a *recordedArena) options() (arena.Options, error) {
	sc, ok := sim.SceneByName(a.Scene)
	if !ok {
		return arena.Options{}, fmt.Errorf("the recording's arena plays scene %q, which this binary does not know", a.Scene)
	}
	return arena.Options{Seed: a.Seed, Scene: sc, Full: a.Full, Budget: a.Budget,
		MaxRewind: time.Duration(a.MaxRewind), NoLagComp: a.NoLagComp}, nil
}

func runReplay(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagsWith("replay", "replay [--game arena] FILE|DIR", "Runs a recording (serve --record) through a fresh game handler: the same\n"+
		"connects, messages and ticks, in order, and checks the world's checksum\n"+
		"after every tick against the recording's. Prints a line that starts with\n"+
		"replay: and says verified=N (ticks) and diverged=none, or the first tick\n"+
		"whose world differs (then exits 1).", stderr)
	game := fs.String("game", "arena", "the game the recording is of (arena: the only one with a checksum)")
	if err := cli.ParseOnly(fs, args); err != nil {
		return err
	}
	if err := cli.ApplyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: mpgameserver replay [--game arena] FILE|DIR: give exactly one recording (--help says more)")
		return cli.ErrUsage
	}
	if *game != "arena" {
		return fmt.Errorf("--game %q: only the arena's recordings replay (its handler is deterministic and has a checksum)", *game)
	}
	r, err := record.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer r.Close()
	return replayArena(r, stdout, nil)
}

// errDiverged is why a replay fails when the world differs.
var errDiverged = errors.New("replay: the replayed world differs from the recording's")

// replayPeer is a recorded client, as the replayed handler sees it: what
// the handler sends goes nowhere.
type replayPeer struct{ token uint32 }

func (p *replayPeer) Token() uint32                                    { return p.token }
func (p *replayPeer) Send([]byte, conn.RetryMode, func(ok bool)) error { return nil }
func (p *replayPeer) Log() *slog.Logger                                { return slog.New(slog.DiscardHandler) }
func (p *replayPeer) SetLabel(string)                                  {}

// replayArena runs recording r through a fresh arena handler made with
// the recording's options. tamper, when set, is given the handler before
// each tick's Update (tests change the game with it).
func replayArena(r *record.Reader, stdout io.Writer, tamper func(h *arena.Handler, tick uint64)) error {
	var (
		h        *arena.Handler
		peers    = map[uint32]*replayPeer{}
		verified int
		ticks    int
		clients  int
	)
	defer func() {
		if h != nil {
			h.Shutdown()
		}
	}()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("replay: after %d ticks verified: %w", verified, err)
		}
		if h == nil && rec.Kind != record.KindGame {
			return fmt.Errorf("replay: the recording does not begin with its game's options")
		}
		switch rec.Kind {
		case record.KindGame:
			var g recordedGame
			if err := json.Unmarshal(rec.Data, &g); err != nil || g.Game != "arena" || g.Arena == nil {
				return fmt.Errorf("replay: the recording is of game %q, not the arena's", g.Game)
			}
			if h != nil {
				return fmt.Errorf("replay: the recording holds a second game (a server restarted into the same directory); replay one file")
			}
			opts, err := g.Arena.options()
			if err != nil {
				return err
			}
			h = arena.New(nil, opts)
		case record.KindConnect:
			p := &replayPeer{token: rec.Peer}
			peers[rec.Peer] = p
			clients++
			h.Join(p)
		case record.KindDisconnect:
			if p := peers[rec.Peer]; p != nil {
				h.Leave(p)
				delete(peers, rec.Peer)
			}
		case record.KindMessage:
			if p := peers[rec.Peer]; p != nil {
				h.Receive(p, rec.Data)
			}
		case record.KindTick:
			if tamper != nil {
				tamper(h, rec.Tick)
			}
			h.Update(rec.Delta)
			ticks++
		case record.KindChecksum:
			if got := h.Checksum(); got != rec.Sum {
				fmt.Fprintf(stdout, "replay: verified=%d diverged=tick %d: the world's checksum is %016x, the recording's %016x\n",
					verified, rec.Tick, got, rec.Sum)
				return errDiverged
			}
			verified++
		case record.KindDropped:
			fmt.Fprintf(stdout, "replay: verified=%d diverged=unknown: %d records were dropped while recording\n", verified, rec.Records)
			return fmt.Errorf("replay: the recording lost records; it cannot be replayed past them")
		}
	}
	if h == nil {
		return fmt.Errorf("replay: the recording is empty")
	}
	fmt.Fprintf(stdout, "replay: verified=%d diverged=none (%d ticks, %d clients)\n", verified, ticks, clients)
	return nil
}
