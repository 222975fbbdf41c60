package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// loadKey loads the --pubkey file, or returns nil (trust the server) when
// none is given.
func loadKey(path string) (*conn.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	k, err := conn.LoadPublicKey(path)
	if err != nil {
		return nil, fmt.Errorf("--pubkey: %w", err)
	}
	return k, nil
}

// nameWarning returns the warning to print when the game will not show
// name as given (cut to wire.MaxName bytes, control characters left out),
// or "".
func nameWarning(name string) string {
	clean := wire.CleanName(name)
	switch {
	case clean == name:
		return ""
	case len(name) > wire.MaxName && clean != "":
		return fmt.Sprintf("warning: --name %q is longer than %d bytes: you will play as %q", name, wire.MaxName, clean)
	case clean == "":
		return fmt.Sprintf("warning: --name %q has nothing printable: the server will name you", name)
	case strings.Join(strings.Fields(name), "_") == clean:
		return fmt.Sprintf("warning: --name %q has spaces: a name is one word, you will play as %q", name, clean)
	}
	return fmt.Sprintf("warning: --name %q has control or invisible characters: you will play as %q", name, clean)
}

func runBots(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bots", "Runs computer players in the arena at --server until interrupted. It fails when no bot\n"+
		"could join the game within --give-up (nothing answering, a wrong --pubkey, a server of another\n"+
		"game), or when the server went away for that long.", stderr)
	server := fs.String("server", "127.0.0.1:1474", "arena server address, host:port, or the browser carrier's URL of a server run with --web\n"+
		"(http://host:port/rtc: WebRTC, as a browser joins)")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the server's key)")
	count := fs.Int("count", 4, "number of bots")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	giveUp := fs.Duration("give-up", arena.DefaultBotsGiveUp, "fail when no bot has been in the game this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *giveUp <= 0 {
		return fmt.Errorf("--give-up %v: want a positive duration", *giveUp)
	}
	if *count < 1 {
		return fmt.Errorf("--count %d: want at least 1", *count)
	}
	key, err := loadKey(*pubkey)
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, "starting %d bots for %s\n", *count, *server)
	start := time.Now()
	err = arena.BotsConfig{Server: *server, Key: key, Count: *count, GiveUp: *giveUp, RequireJoin: true}.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bots left after %v\n", time.Since(start).Round(time.Second))
	return nil
}
