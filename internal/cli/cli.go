// Package cli is what the project's binaries share to turn a command line
// into a run: subcommands, flags that also come from the environment
// (MPGS_<FLAG>), their errors, and the checks several commands make.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

// A Command is one subcommand.
type Command struct {
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// A Program is a binary of subcommands.
type Program struct {
	// Name is the binary's name, for usage lines and errors.
	Name string
	// Commands are the subcommands, by name.
	Commands map[string]Command
	// Missing, when set, may explain a command this build does not have
	// (a window command in a headless build): it returns the error to
	// report, or nil for an unknown command.
	Missing func(name string) error
}

// ErrUsage marks a flag error already reported to the user.
var ErrUsage = errors.New("usage")

// An Exit is a failure already reported to the user (by a program a
// command ran, say): Run returns its status and prints nothing more.
type Exit int

func (e Exit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Usage writes the program's usage and its commands.
func (p *Program) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n", p.Name)
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(p.Commands))
	for n := range p.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, p.Commands[n].Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for the flags of a command.\n", p.Name)
}

// Run dispatches args to a subcommand and returns the exit status: 0, 1
// for a failure (reported on stderr), 2 for a usage error.
func (p *Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		p.Usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := p.Commands[args[0]]
	if !ok {
		if p.Missing != nil {
			if err := p.Missing(args[0]); err != nil {
				fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, args[0], err)
				return 1
			}
		}
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
		p.Usage(stderr)
		return 2
	}
	err := cmd.Run(ctx, args[1:], stdout, stderr)
	var exit Exit
	switch {
	case errors.As(err, &exit):
		return int(exit)
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, args[0], err)
		return 1
	}
}

// EnvPrefix starts the name of the environment variable of every flag.
const EnvPrefix = "MPGS"

// EnvName returns the environment variable of the flag name:
// MPGS_LOG_LEVEL for log-level.
func EnvName(flag string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// NewFlags returns the flag set of the subcommand name of program prog,
// which reports errors to stderr and never exits the process; use is
// what follows "prog " on its usage line ("name [flags]" when empty).
func NewFlags(prog, name, use, synopsis string, stderr io.Writer) *flag.FlagSet {
	if use == "" {
		use = name + " [flags]"
	}
	fs := flag.NewFlagSet(prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n\n%s\n\nflags (each also from the environment, %s_<FLAG>: --log-level as %s; a flag given wins):\n",
			prog, use, synopsis, EnvPrefix, EnvName("log-level"))
		fs.PrintDefaults()
	}
	return fs
}

// ParseOnly parses args without the environment: --help prints the
// whole usage; a wrong flag prints the flag package's one line and where
// the help is, not the whole usage above it.
func ParseOnly(fs *flag.FlagSet, args []string) error {
	full := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = full
	switch {
	case errors.Is(err, flag.ErrHelp):
		full()
		return err
	case err != nil:
		hint(fs)
		return ErrUsage
	}
	return nil
}

// hint says where the flags are, after a wrong one.
func hint(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), "run '%s --help' for its flags\n", fs.Name())
}

// Parse parses args, then sets each flag not given from its environment
// variable (MPGS_<FLAG>), when that is set. Arguments left over are an
// error.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := ParseOnly(fs, args); err != nil {
		return err
	}
	if err := ApplyEnv(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		hint(fs)
		return ErrUsage
	}
	return nil
}

// ApplyEnv sets each flag of fs not given on the command line from its
// environment variable, when that is set.
func ApplyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q (for --%s): %v", EnvName(f.Name), v, f.Name, e)
			}
		}
	})
	return err
}

// CheckHostPort reports whether addr is host:port with a port that can
// be bound (0 picks a free one); the host is resolved when the socket
// binds.
func CheckHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, for example 127.0.0.1:1474 or :1474")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: want a number from 0 to 65535", port)
	}
	return nil
}

// LogLevel parses a --log-level.
func LogLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return level, nil
}
