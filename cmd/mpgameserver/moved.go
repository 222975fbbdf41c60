package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpgs/mpgameserver/internal/cli"
)

// toolsBinary is the binary of the load generator and the bare echo,
// which the server binary does not link.
const toolsBinary = "mpgameserver-tools"

// moved returns the command that runs name, which moved to toolsBinary:
// it finds that binary beside this one or on the PATH, says so on stderr,
// and runs it with the same arguments, its output and exit status as
// this command's. A signal that stops this command interrupts it.
func moved(name string) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		bin, err := findTools()
		if err != nil {
			return fmt.Errorf("%s moved to %s, which keeps load and attack code out of the server binary, and %s is "+
				"neither beside this binary nor on the PATH: go build -o %s ./cmd/%s (or go run ./cmd/%s %s ...)",
				name, toolsBinary, toolsBinary, toolsBinary, toolsBinary, toolsBinary, name)
		}
		fmt.Fprintf(stderr, "mpgameserver %s: moved to %s; running %s %s\n", name, toolsBinary, bin, name)
		cmd := exec.CommandContext(ctx, bin, append([]string{name}, args...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
		err = cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return cli.Exit(exit.ExitCode())
		}
		return err
	}
}

// findTools returns the path of toolsBinary: beside this executable
// first, then on the PATH.
func findTools() (string, error) {
	name := toolsBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return exec.LookPath(toolsBinary)
}
