package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/examples/arena"
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

func runBots(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bots", "Runs computer players in the arena at --server until interrupted.", stderr)
	server := fs.String("server", "127.0.0.1:1474", "arena server address, host:port")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the server's key)")
	count := fs.Int("count", 4, "number of bots")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	if err := parse(fs, args); err != nil {
		return err
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
	fmt.Fprintf(stdout, "%d bots playing at %s\n", *count, *server)
	start := time.Now()
	err = arena.RunBots(ctx, *server, key, *count)
	fmt.Fprintf(stdout, "bots left after %v\n", time.Since(start).Round(time.Second))
	return err
}
