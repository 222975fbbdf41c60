//go:build !headless

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mpgs/mpgameserver/internal/arena/game"
	"github.com/mpgs/mpgameserver/internal/arena/seat"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
	"github.com/mpgs/mpgameserver/internal/cli"
)

func runPlay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("play", "Opens the arena client window and joins the game at --server.\n\n"+
		"With --replay FILE|DIR --as NAME it joins no server: it shows a recording (serve --record)\n"+
		"through NAME's window instead, drawing what the server sent that player. The recording\n"+
		"runs through a fresh game, tick by tick (the world is exactly the recorded one); the\n"+
		"player's messages come over a perfect link, acknowledged at once, so details of the\n"+
		"replication may differ from what the real link delivered. The replay starts where NAME\n"+
		"connected and only runs forward. Keys: Space pause, + and - (or ] and [) speed 0.25x-16x,\n"+
		"Right skip 10 s, Left or Home restart from the beginning, N details, P screenshot, Esc quit.", stderr)
	server := fs.String("server", "127.0.0.1:1474", "arena server address, host:port, or the browser carrier's URL of a server run with --web\n"+
		"(http://host:port/rtc: WebRTC, as a browser joins)")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the server's key)")
	name := fs.String("name", "player", "your name in the game (16 bytes at most)")
	color := fs.Int("color", 0, fmt.Sprintf("your color, 0-%d", wire.Colors-1))
	shots := fs.String("screenshots", "screenshots", "directory for the screenshots of P (made when missing)")
	replay := fs.String("replay", "", "watch the recording `FILE|DIR` (what serve --record wrote) instead of joining a server\n"+
		"(needs --as)")
	as := fs.String("as", "", "with --replay: watch the window of the player `NAME` (its name in the game, as the server's\n"+
		"JOIN line printed it); an unknown name lists the recording's players")
	session := fs.Int("session", 1, "with --replay: which of NAME's sessions to watch when it left and joined again (1: the first)")
	speed := fs.Float64("speed", 1, "with --replay: the speed it starts at, one of "+speedList()+" (+ and - change it)")
	if err := cli.ParseOnly(fs, args); err != nil {
		return err
	}
	given := map[string]bool{} // on the command line, not from the environment
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := cli.ApplyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\nrun 'play --help' for its flags\n", fs.Arg(0))
		return cli.ErrUsage
	}
	if *replay != "" || *as != "" || given["session"] || given["speed"] {
		return playReplay(ctx, given, replayFlags{path: *replay, as: *as, session: *session, speed: *speed, shots: *shots}, stdout, stderr)
	}
	if *color < 0 || *color >= wire.Colors {
		return fmt.Errorf("--color %d: want 0-%d", *color, wire.Colors-1)
	}
	key, err := loadKey(*pubkey)
	if err != nil {
		return err
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	if w := nameWarning(*name); w != "" {
		fmt.Fprintln(stderr, w)
	}
	return game.Run(ctx, game.Options{Server: *server, Key: key, Name: *name, Color: uint8(*color), ScreenshotDir: *shots})
}

// replayFlags are play's flags for a replay.
type replayFlags struct {
	path, as string
	session  int
	speed    float64
	shots    string
}

// speedList lists the replay's speeds.
func speedList() string {
	var l []string
	for _, s := range game.Speeds {
		l = append(l, strconv.FormatFloat(s, 'g', -1, 64))
	}
	return strings.Join(l, ", ")
}

// playReplay is `play --replay PATH --as NAME`: the window on a recording
// through NAME's seat. The flags that join a server cannot come with it.
func playReplay(ctx context.Context, given map[string]bool, f replayFlags, stdout, stderr io.Writer) error {
	switch {
	case f.path == "":
		fmt.Fprintln(stderr, "--as, --session and --speed go with --replay FILE|DIR: they choose whose window to watch in a recording, and how")
		return cli.ErrUsage
	case f.as == "":
		fmt.Fprintln(stderr, "--replay needs --as NAME: the player whose window to watch")
		return cli.ErrUsage
	}
	for _, name := range []string{"server", "pubkey", "name", "color"} {
		if given[name] {
			fmt.Fprintf(stderr, "--%s does not go with --replay: a replay joins no server (--as names the player to watch)\n", name)
			return cli.ErrUsage
		}
	}
	if f.session < 1 {
		return fmt.Errorf("--session %d: want 1 or more", f.session)
	}
	if !slices.Contains(game.Speeds, f.speed) {
		return fmt.Errorf("--speed %g: want one of %s", f.speed, speedList())
	}
	ix, err := seat.Scan(f.path)
	if err != nil {
		return fmt.Errorf("--replay %s: %w", f.path, err)
	}
	s, err := ix.Find(f.as, f.session)
	if err != nil {
		return fmt.Errorf("--as: %w", err)
	}
	sessions := 0
	for _, o := range ix.Sessions {
		if o.Named(s.Name) || o.Named(f.as) {
			sessions++
		}
	}
	left := "still in the game at the end"
	if s.Left {
		left = fmt.Sprintf("left at %s (%s)", seat.Clock(s.LeaveAt), seat.Reason(s.Reason))
	}
	fmt.Fprintf(stdout, "replaying %s (%s, %d ticks) as %s: session %d of %d, joined at %s, %s\n",
		f.path, seat.Clock(ix.Duration), ix.Ticks, s.Name, f.session, sessions, seat.Clock(s.JoinAt), left)
	if ix.Stop != nil {
		fmt.Fprintf(stderr, "warning: %v\n", ix.Stop)
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	r, err := seat.Open(f.path, ix, s)
	if err != nil {
		return err
	}
	defer r.Close()
	g, err := game.New(game.Options{Replay: r, Out: stdout, ScreenshotDir: f.shots})
	if err != nil {
		return err
	}
	g.SetSpeed(f.speed)
	defer screenshotsOnSignal(g.SaveScreenshot)()
	return g.Run(ctx)
}
