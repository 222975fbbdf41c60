package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/internal/record"
)

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

// replayArena runs recording r through a fresh arena handler made with
// the recording's options. tamper, when set, is given the handler before
// each tick's Update (tests change the game with it).
func replayArena(r *record.Reader, stdout io.Writer, tamper func(h *arena.Handler, tick uint64)) error {
	u := rerun.New(r, rerun.Config{Tamper: tamper})
	defer u.Close()
	verified := 0
	for {
		rec, err := u.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if rec.Kind == record.KindDropped {
			fmt.Fprintf(stdout, "replay: verified=%d diverged=unknown: %d records were dropped while recording\n", verified, rec.Records)
		}
		if err != nil {
			return fmt.Errorf("replay: after %d ticks verified: %w", verified, err)
		}
		if rec.Kind == record.KindChecksum {
			if got := u.Handler().Checksum(); got != rec.Sum {
				fmt.Fprintf(stdout, "replay: verified=%d diverged=tick %d: the world's checksum is %016x, the recording's %016x\n",
					verified, rec.Tick, got, rec.Sum)
				return errDiverged
			}
			verified++
		}
	}
	if u.Handler() == nil {
		return fmt.Errorf("replay: the recording is empty")
	}
	fmt.Fprintf(stdout, "replay: verified=%d diverged=none (%d ticks, %d clients)\n", verified, u.Ticks(), u.Clients())
	return nil
}
