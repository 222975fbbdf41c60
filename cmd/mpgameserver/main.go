// Command mpgameserver runs and plays game servers. Each subcommand turns
// flags into a configuration and runs a library package:
//
//	mpgameserver serve      run a headless game server
//	mpgameserver gui        run a game server in a monitor window (or --attach, --replay)
//	mpgameserver play       open the arena game window and join a server (or --replay)
//	mpgameserver bots       run computer players in an arena server
//	mpgameserver keygen     write a new root key pair
//	mpgameserver simulate   run a client and a server over a simulated lossy link
//	mpgameserver replay     run a recording through a fresh game and check its world
//	mpgameserver version    print the version (also: mpgameserver --version)
//
// The load generator and the bare echo live in mpgameserver-tools, so
// that the binary that serves carries no load or attack code;
// "mpgameserver loadgen" and "mpgameserver bare-echo" still run them,
// through that binary.
//
// Run "mpgameserver <command> --help" for a command's flags.
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

// command is one subcommand.
type command = cli.Command

// program is this binary: the subcommands of this build (a headless build
// has no window commands).
func program() *cli.Program {
	cmds := map[string]command{
		"serve":     {Summary: "run a headless game server", Run: runServe},
		"bots":      {Summary: "run computer players in an arena server", Run: runBots},
		"keygen":    {Summary: "write a new root key pair (NAME.key, NAME.pub)", Run: runKeygen},
		"loadgen":   {Summary: "simulate many echo clients and measure loss, datagrams/s and round trips (runs mpgameserver-tools)", Run: moved("loadgen")},
		"bare-echo": {Summary: "send every UDP datagram back to its sender, no protocol (runs mpgameserver-tools)", Run: moved("bare-echo")},
		"simulate":  {Summary: "run a client and a server over a simulated lossy link and report what arrived", Run: runSimulate},
		"replay":    {Summary: "run a recording (serve --record) through a fresh game and check its world tick by tick", Run: runReplay},
		"version":   {Summary: "print the version of this binary", Run: runVersion},
	}
	for name, c := range windowCommands() {
		cmds[name] = c
	}
	return &cli.Program{Name: "mpgameserver", Commands: cmds, Missing: func(name string) error {
		if name == "gui" || name == "play" {
			return errHeadless
		}
		return nil
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

// newFlags returns a flag set for a subcommand that reports errors to
// stderr and never exits the process.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlags("mpgameserver", name, "", synopsis, stderr)
}

// newFlagsWith is newFlags for a command whose usage line, after
// "mpgameserver ", is use (it names its arguments).
func newFlagsWith(name, use, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cli.NewFlags("mpgameserver", name, use, synopsis, stderr)
}

// parse parses args and the environment (MPGS_<FLAG>); a flag error was
// reported already (cli.ErrUsage).
func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }

// checkHostPort reports whether addr is host:port with a port that can be
// bound.
func checkHostPort(addr string) error { return cli.CheckHostPort(addr) }
