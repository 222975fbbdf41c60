package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
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
// each tick's Update (tests change the game with it). At the first tick
// whose checksum differs it goes on to the recording's next world state
// (a World record, one a second) and says what differs there.
func replayArena(r *record.Reader, stdout io.Writer, tamper func(h *arena.Handler, tick uint64)) error {
	u := rerun.New(r, rerun.Config{Tamper: tamper})
	defer u.Close()
	var (
		verified int
		diverged string // the first divergent tick's words, once found
	)
	for {
		rec, err := u.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if rec.Kind == record.KindDropped && diverged == "" {
			fmt.Fprintf(stdout, "replay: verified=%d diverged=unknown: %d records were dropped while recording\n", verified, rec.Records)
		}
		if err != nil {
			if diverged != "" {
				break
			}
			return fmt.Errorf("replay: after %d ticks verified: %w", verified, err)
		}
		switch {
		case rec.Kind == record.KindChecksum && diverged == "":
			if got := u.Handler().Checksum(); got != rec.Sum {
				diverged = fmt.Sprintf("replay: verified=%d diverged=tick %d: the world's checksum is %016x, the recording's %016x",
					verified, rec.Tick, got, rec.Sum)
				continue
			}
			verified++
		case rec.Kind == record.KindWorld && diverged != "":
			want, err := sim.ParseState(rec.Data)
			if err != nil {
				fmt.Fprintf(stdout, "%s; the recording's next world state is unreadable: %v\n", diverged, err)
				return errDiverged
			}
			got := u.Handler().World().State()
			lines := sim.Diff(&got, &want, 12)
			for i, l := range lines {
				var id uint32
				if _, err := fmt.Sscanf(l, "ship %d:", &id); err == nil {
					if name := u.Handler().Name(id); name != "" {
						lines[i] = strings.Replace(l, ":", fmt.Sprintf(" (%s):", name), 1)
					}
				}
			}
			if len(lines) == 0 {
				fmt.Fprintf(stdout, "%s; at tick %d the world's state is the recording's again\n", diverged, u.Tick())
				return errDiverged
			}
			fmt.Fprintf(stdout, "%s; at tick %d (the recording's next world state) what differs: %s\n", diverged, u.Tick(), lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(stdout, "  %s\n", l)
			}
			return errDiverged
		}
	}
	if diverged != "" {
		fmt.Fprintf(stdout, "%s; the recording ends before its next world state\n", diverged)
		return errDiverged
	}
	if u.Handler() == nil {
		return fmt.Errorf("replay: the recording is empty")
	}
	fmt.Fprintf(stdout, "replay: verified=%d diverged=none (%d ticks, %d clients)\n", verified, u.Ticks(), u.Clients())
	return nil
}
