package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/cli"
	"github.com/mpgs/mpgameserver/internal/echocheck"
)

// runCheck checks that an echo server keeps the echo contract (package
// echocheck): it connects as a client and runs the scenarios, printing
// PASS or FAIL for each, and fails if any failed. When it cannot connect
// it says why (no answer, connection refused, the server's key is not
// --pubkey) and runs nothing else.
func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "Checks that an echo server (ours: mpgameserver serve --game echo, or the Python\n"+
		"original's) keeps the echo contract: it connects as a client and runs the scenarios\n"+
		"(connect, small and packed messages, 10 KB and 100 KB fragments, callbacks, STATS,\n"+
		"a wrong pinned key, a graceful disconnect), a PASS or FAIL line each.", stderr)
	server := fs.String("server", "127.0.0.1:1474", "echo server address, host:port")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the key the server presents)")
	frame := fs.Duration("frame", 16*time.Millisecond, "time between two client updates, like a game frame")
	seed := fs.Uint64("seed", 1, "seed of the message contents")
	connectTimeout := fs.Duration("connect-timeout", 5*time.Second, "how long to wait for the server's answer to connect")
	if err := parse(fs, args); err != nil {
		return err
	}
	var key *conn.PublicKey
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			return fmt.Errorf("--pubkey: %w", err)
		}
		key = k
	}
	_, failed := echocheck.Run(echocheck.Options{Server: *server, Key: key, Out: stdout, Frame: *frame, Seed: *seed, ConnectTimeout: *connectTimeout})
	if failed > 0 {
		return cli.Exit(1) // the report says which
	}
	return nil
}
