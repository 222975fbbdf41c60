//go:build !headless

package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordArena serves an arena with bots, recording it (serve --record),
// and returns the recording's directory once the bots played a little.
func recordArena(t *testing.T, bots int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	_, out, _, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "arena", "--bots", fmt.Sprint(bots), "--record", dir)
	awaitJoins(t, out, bots)
	time.Sleep(time.Second) // some play: how much does not matter
	require.Equal(t, 0, stop())
	return dir
}

// TestPlayReplayFlags: --replay and --as go together, and with none of
// the flags that join a server; a recording that cannot be read, and a
// name no player of it had, are errors (exit 1) that say so, the latter
// listing the players the recording has. None of it needs a display.
func TestPlayReplayFlags(t *testing.T) {
	dir := recordArena(t, 2)
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--as", "bot1"}, 2, "--as, --session and --speed go with --replay FILE|DIR"},
		{[]string{"--session", "2"}, 2, "--as, --session and --speed go with --replay FILE|DIR"},
		{[]string{"--speed", "2"}, 2, "--as, --session and --speed go with --replay FILE|DIR"},
		{[]string{"--replay", dir, "--as", "bot1", "--speed", "3"}, 1, "--speed 3: want one of 0.25, 0.5, 1, 2, 4, 8, 16"},
		{[]string{"--replay", dir}, 2, "--replay needs --as NAME"},
		{[]string{"--replay", dir, "--as", "bot1", "--server", "127.0.0.1:1474"}, 2, "--server does not go with --replay"},
		{[]string{"--replay", dir, "--as", "bot1", "--name", "me"}, 2, "--name does not go with --replay"},
		{[]string{"--replay", dir, "--as", "bot1", "--session", "0"}, 1, "--session 0: want 1 or more"},
		{[]string{"--replay", filepath.Join(dir, "nope"), "--as", "bot1"}, 1, filepath.Join(dir, "nope")},
		{[]string{"--replay", dir, "--as", "bot1", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--replay", dir, "--as", "bot1", "--session", "2"}, 1, `--as: "bot1" has 1 session(s) in the recording, not 2; its players: bot1, bot2`},
	} {
		code, _, errOut := runArgs(append([]string{"play"}, c.args...)...)
		assert.Equal(t, c.code, code, "%q: %s", c.args, errOut)
		assert.Contains(t, errOut, c.says, "%q", c.args)
	}

	// An unknown name: the players the recording has.
	code, out, errOut := runArgs("play", "--replay", dir, "--as", "nobody")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, `mpgameserver play: --as: the recording has no player named "nobody"; its players: bot1, bot2`+"\n", errOut)

	// A recording of another game.
	echoDir := filepath.Join(t.TempDir(), "echo")
	_, _, _, stop := serve(t, "--listen", "127.0.0.1:0", "--game", "echo", "--record", echoDir)
	require.Equal(t, 0, stop())
	code, _, errOut = runArgs("play", "--replay", echoDir, "--as", "bot1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `the recording is of game "echo"`)

	// Without a display a known name gets as far as the window, and says
	// what it would replay first.
	if checkDisplay(func(string) string { return "" }) == nil {
		return // this platform's windows need no X server
	}
	t.Setenv("DISPLAY", "")
	code, out, errOut = runArgs("play", "--replay", dir, "--as", "bot2")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no display")
	assert.Regexp(t, regexp.MustCompile(`^replaying `+regexp.QuoteMeta(dir)+` \(\d+:\d\d\.\d, \d+ ticks\) as bot2: session 1 of 1, joined at \d+:\d\d\.\d, left at \d+:\d\d\.\d \([a-z ]+\)\n$`), out)
	assert.False(t, strings.Contains(errOut, "warning"), errOut)
}
