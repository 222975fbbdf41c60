// Command mpgameserver-tools measures game servers: the load generator
// (echo clients by the thousand, with the attack kit beside them) and the
// bare UDP echo it compares a server with. It is a binary of its own so
// that mpgameserver, the binary that serves, links none of it.
//
//	mpgameserver-tools loadgen    simulate many echo clients and measure the server
//	mpgameserver-tools bare-echo  a UDP echo with no protocol, the baseline of loadgen --bare
//	mpgameserver-tools check      check that an echo server keeps the echo contract
//	mpgameserver-tools players    echo players of the client package, over UDP or WebRTC
//
// Run "mpgameserver-tools <command> --help" for a command's flags.
package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mpgs/mpgameserver/internal/cli"
)

// program is this binary.
func program() *cli.Program {
	return &cli.Program{Name: "mpgameserver-tools", Commands: map[string]cli.Command{
		"loadgen":   {Summary: "simulate many echo clients and measure loss, datagrams/s and round trips", Run: runLoadgen},
		"bare-echo": {Summary: "send every UDP datagram back to its sender, no protocol (the baseline of loadgen --bare)", Run: runBareEcho},
		"check":     {Summary: "check that an echo server keeps the echo contract (ours, or the Python original's)", Run: runCheck},
		"players":   {Summary: "echo players made with the client package, over UDP or WebRTC: what a server pays for each carrier", Run: runPlayers},
	}}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, stdout, stderr)
}

// newFlags returns the flag set of a subcommand.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlags("mpgameserver-tools", name, "", synopsis, stderr)
}

// parse parses args and the environment (MPGS_<FLAG>).
func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }
