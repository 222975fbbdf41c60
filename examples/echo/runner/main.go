// Command runner checks that an echo server keeps the echo contract (see
// package echo): it connects as a client and runs the scenarios, printing
// PASS or FAIL for each and exiting with status 1 if any failed.
//
//	go run ./examples/echo/runner --server 127.0.0.1:1474 --pubkey root.pub
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/examples/echo"
)

func main() {
	server := flag.String("server", "127.0.0.1:1474", "echo server address, host:port")
	pubkey := flag.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the key the server presents)")
	frame := flag.Duration("frame", 16*time.Millisecond, "time between two client updates, like a game frame")
	seed := flag.Uint64("seed", 1, "seed of the message contents")
	flag.Parse()
	var key *conn.PublicKey
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			fmt.Fprintf(os.Stderr, "runner: --pubkey: %v\n", err)
			os.Exit(2)
		}
		key = k
	}
	_, failed := echo.Run(echo.Options{Server: *server, Key: key, Out: os.Stdout, Frame: *frame, Seed: *seed})
	if failed > 0 {
		os.Exit(1)
	}
}
