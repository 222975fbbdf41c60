// Command runner checks that an echo server keeps the echo contract (see
// package echo): it connects as a client and runs the scenarios, printing
// PASS or FAIL for each and exiting with status 1 if any failed. When it
// cannot connect it says why (no answer, connection refused, the server's
// key is not --pubkey) and runs nothing else.
//
//	go run ./examples/echo/runner --server 127.0.0.1:1474 --pubkey root.pub
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/examples/echo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command and returns its exit status: 0 when every scenario
// passed, 1 when one failed (or connect failed), 2 for bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "127.0.0.1:1474", "echo server address, host:port")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the key the server presents)")
	frame := fs.Duration("frame", 16*time.Millisecond, "time between two client updates, like a game frame")
	seed := fs.Uint64("seed", 1, "seed of the message contents")
	connectTimeout := fs.Duration("connect-timeout", 5*time.Second, "how long to wait for the server's answer to connect")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var key *conn.PublicKey
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			fmt.Fprintf(stderr, "runner: --pubkey: %v\n", err)
			return 2
		}
		key = k
	}
	_, failed := echo.Run(echo.Options{Server: *server, Key: key, Out: stdout, Frame: *frame, Seed: *seed, ConnectTimeout: *connectTimeout})
	if failed > 0 {
		return 1
	}
	return 0
}
