package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/internal/cli"
)

func program(run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) *cli.Program {
	return &cli.Program{Name: "prog", Commands: map[string]cli.Command{"do": {Summary: "does", Run: run}},
		Missing: func(name string) error {
			if name == "window" {
				return errors.New("built without windows")
			}
			return nil
		}}
}

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	p := program(func(context.Context, []string, io.Writer, io.Writer) error { return nil })
	assert.Equal(t, 0, p.Run(context.Background(), []string{"do"}, &out, &errOut))
	assert.Equal(t, 2, p.Run(context.Background(), nil, &out, &errOut), "no command")
	assert.Contains(t, out.String(), "  do         does")
	errOut.Reset()
	assert.Equal(t, 2, p.Run(context.Background(), []string{"nope"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `prog: unknown command "nope"`)
	errOut.Reset()
	assert.Equal(t, 1, p.Run(context.Background(), []string{"window"}, &out, &errOut))
	assert.Equal(t, "prog window: built without windows\n", errOut.String())

	for err, code := range map[error]int{errors.New("boom"): 1, cli.ErrUsage: 2, cli.Exit(7): 7} {
		errOut.Reset()
		p := program(func(context.Context, []string, io.Writer, io.Writer) error { return err })
		assert.Equal(t, code, p.Run(context.Background(), []string{"do"}, &out, &errOut), err)
		if code == 1 {
			assert.Equal(t, "prog do: boom\n", errOut.String())
		} else {
			assert.Empty(t, errOut.String(), "reported already")
		}
	}
}

func TestParse(t *testing.T) {
	var errOut bytes.Buffer
	fs := cli.NewFlags("prog", "do", "", "Does.", &errOut)
	level := fs.String("log-level", "info", "log level")
	port := fs.Int("port", 1, "a port")
	t.Setenv("MPGS_LOG_LEVEL", "debug")
	t.Setenv("MPGS_PORT", "9")
	assert.NoError(t, cli.Parse(fs, []string{"--port", "2"}))
	assert.Equal(t, "debug", *level, "from the environment")
	assert.Equal(t, 2, *port, "a flag given wins")

	fs = cli.NewFlags("prog", "do", "", "Does.", &errOut)
	fs.Int("port", 1, "a port")
	t.Setenv("MPGS_PORT", "many")
	assert.ErrorContains(t, cli.Parse(fs, nil), `MPGS_PORT="many" (for --port)`)

	errOut.Reset()
	fs = cli.NewFlags("prog", "do", "", "Does.", &errOut)
	assert.ErrorIs(t, cli.Parse(fs, []string{"--nope"}), cli.ErrUsage)
	assert.Contains(t, errOut.String(), "run 'prog do --help' for its flags")
	assert.NotContains(t, errOut.String(), "usage:")
	errOut.Reset()
	assert.ErrorIs(t, cli.Parse(fs, []string{"extra"}), cli.ErrUsage)
	assert.Contains(t, errOut.String(), `unexpected argument "extra"`)
}

func TestChecks(t *testing.T) {
	assert.NoError(t, cli.CheckHostPort(":1474"))
	assert.NoError(t, cli.CheckHostPort("[::1]:0"))
	assert.Error(t, cli.CheckHostPort("1474"))
	assert.Error(t, cli.CheckHostPort("host:70000"))
	_, err := cli.LogLevel("loud")
	assert.ErrorContains(t, err, "want debug, info, warn or error")
}
