// Command mpgameserver is the project's one binary. Each subcommand turns
// flags into a configuration and runs a library package:
//
//	mpgameserver serve      run a headless game server
//	mpgameserver gui        run a game server in a monitor window
//	mpgameserver play       open the arena game window and join a server
//	mpgameserver bots       run computer players in an arena server
//	mpgameserver keygen     write a new root key pair
//	mpgameserver loadgen    simulate many echo clients and measure the server
//	mpgameserver bare-echo  a UDP echo with no protocol, the baseline of loadgen --bare
//	mpgameserver simulate   run a client and a server over a simulated lossy link
//	mpgameserver version    print the version (also: mpgameserver --version)
//
// Run "mpgameserver <command> --help" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands returns the subcommands of this build: a headless build has no
// window commands.
func commands() map[string]command {
	cmds := map[string]command{
		"serve":     {"run a headless game server", runServe},
		"bots":      {"run computer players in an arena server", runBots},
		"keygen":    {"write a new root key pair (NAME.key, NAME.pub)", runKeygen},
		"loadgen":   {"simulate many echo clients and measure loss, datagrams/s and round trips", runLoadgen},
		"bare-echo": {"send every UDP datagram back to its sender, no protocol (the baseline of loadgen --bare)", runBareEcho},
		"simulate":  {"run a client and a server over a simulated lossy link and report what arrived", runSimulate},
		"version":   {"print the version of this binary", runVersion},
	}
	for name, c := range windowCommands() {
		cmds[name] = c
	}
	return cmds
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mpgameserver <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mpgameserver <command> --help' for the flags of a command.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok && (args[0] == "gui" || args[0] == "play") {
		fmt.Fprintf(stderr, "mpgameserver %s: %v\n", args[0], errHeadless)
		return 1
	}
	if !ok {
		fmt.Fprintf(stderr, "mpgameserver: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "mpgameserver %s: %v\n", args[0], err)
		return 1
	}
}

// errUsage marks a flag error that the flag package already reported.
var errUsage = errors.New("usage")

// newFlags returns a flag set for a subcommand that reports errors to
// stderr and never exits the process.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return newFlagsWith(name, name+" [flags]", synopsis, stderr)
}

// newFlagsWith is newFlags for a command whose usage line, after
// "mpgameserver ", is use (it names its arguments).
func newFlagsWith(name, use, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mpgameserver %s\n\n%s\n\nflags (each also from the environment, %s_<FLAG>: --log-level as %s; a flag given wins):\n",
			use, synopsis, envPrefix, envName("log-level"))
		fs.PrintDefaults()
	}
	return fs
}

// envPrefix starts the name of the environment variable of every flag.
const envPrefix = "MPGS"

// envName returns the environment variable of the flag name:
// MPGS_LOG_LEVEL for log-level.
func envName(flag string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets each flag of fs not given on the command line from its
// environment variable, when that is set.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q (for --%s): %v", envName(f.Name), v, f.Name, e)
			}
		}
	})
	return err
}

// parseErr maps a flag parsing error: help stays help, anything else was
// already reported by the flag package.
func parseErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

// parse parses args, mapping flag errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return parseErr(err)
	}
	if err := applyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
