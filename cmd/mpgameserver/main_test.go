package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	code, out, _ := runArgs()
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "simulate")
	code, out, _ = runArgs("--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: mpgameserver <command>")
	code, _, errOut := runArgs("nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "nope"`)
}

func TestSimulate(t *testing.T) {
	code, out, errOut := runArgs("simulate", "--messages", "200", "--loss", "0.2")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "delivered once 200, more than once 0, lost 0, corrupt 0")
	assert.Contains(t, out, "callbacks: true 200, false 0")

	code, out, _ = runArgs("simulate", "--messages", "200", "--mode", "none", "--size", "50")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "more than once 0")
}

// TestSimulateArenaLaser: the laser scenario's report, with and without
// lag compensation, on the scenario's own link unless told otherwise.
func TestSimulateArenaLaser(t *testing.T) {
	code, out, errOut := runArgs("simulate", "--game", "arena", "--scenario", "laser", "--duration", "60s")
	require.Equal(t, 0, code, errOut)
	t.Logf("%s", out)
	assert.Contains(t, out, "link: loss 5%, duplicate 0%, delay 75ms + up to 0s, reorder 0%, each way")
	on := regexp.MustCompile(`(?m)^laser: seen=(\d+) registered=(\d+) \(`).FindStringSubmatch(out)
	require.NotNil(t, on, "a line that starts with laser: and gives seen= and registered=")
	seen, _ := strconv.Atoi(on[1])
	reg, _ := strconv.Atoi(on[2])
	assert.Positive(t, seen)
	assert.GreaterOrEqual(t, float64(reg), 0.9*float64(seen), "most hits seen are registered")
	assert.Regexp(t, `(?m)^without lag compensation: seen=\d+ registered=\d+ `, out)
	assert.Regexp(t, `(?m)^prediction \(shooter\): \d+ reconciles, misprediction mean [0-9.]+ p99 [0-9.]+ `, out)

	code, out, _ = runArgs("simulate", "--game", "arena", "--duration", "5s", "--delay", "10ms", "--loss", "0")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "link: loss 0%, duplicate 0%, delay 10ms + up to 0s")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--game", "chess"}, `--game "chess"`},
		{[]string{"--game", "arena", "--scenario", "duel"}, `--scenario "duel"`},
		{[]string{"--game", "arena", "--duration", "10ms"}, "--duration 10ms"},
		{[]string{"--game", "arena", "--max-rewind", "0s"}, "--max-rewind 0s"},
	} {
		code, _, errOut := runArgs(append([]string{"simulate"}, tc.args...)...)
		assert.Equal(t, 1, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
	}
}

func TestSimulateFlagErrors(t *testing.T) {
	code, _, errOut := runArgs("simulate", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-loss float")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--loss", "x"}, 2, "-loss"},
		{[]string{"--mode", "sometimes"}, 1, `--mode "sometimes"`},
		{[]string{"--loss", "1.5"}, 1, "--loss 1.5"},
		{[]string{"--messages", "0"}, 1, "--messages 0"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, errOut := runArgs(append([]string{"simulate"}, tc.args...)...)
		assert.Equal(t, tc.code, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runArgs(args...)
		assert.Equal(t, 0, code, errOut)
		assert.Regexp(t, `^mpgameserver \S+ .*go1\.\d+.* \w+/\w+`, out, args)
	}
	built := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	assert.Contains(t, version(built), "mpgameserver v1.2.3 (rev 0123456789ab, modified) go")
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	assert.Contains(t, version(none), "mpgameserver (devel) go")
}

// TestKeygen: README's "keygen keys/" works on a fresh clone: the
// directory is made, private to its owner, and the usage is said once.
func TestKeygenMakesItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "deeper")
	code, out, errOut := runArgs("keygen", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, filepath.Join(dir, "root.key"))
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	st, err = os.Stat(filepath.Join(dir, "root.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	_, err = conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	assert.NoError(t, err)

	code, _, errOut = runArgs("keygen")
	assert.Equal(t, 2, code)
	assert.Equal(t, 1, strings.Count(errOut, "usage:"), errOut)
	assert.Contains(t, errOut, "usage: mpgameserver keygen [--name NAME] DIR")

	// A second pair in the same place is refused, and the way out said.
	code, _, errOut = runArgs("keygen", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "root.key exists, and keygen never overwrites a key")
	assert.Contains(t, errOut, "choose another DIR or --name")
}

// TestGitIgnoresKeys: keys made where README says are never committed.
func TestGitIgnoresKeys(t *testing.T) {
	b, err := os.ReadFile("../../.gitignore")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^/?keys/$`, string(b))
}

// TestUnknownFlagIsShort: a wrong flag is said in a line, with where the
// help is, not above 60 lines of it; --help prints it all.
func TestUnknownFlagIsShort(t *testing.T) {
	code, _, errOut := runArgs("serve", "--nonsense")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "flag provided but not defined: -nonsense")
	assert.Contains(t, errOut, "run 'mpgameserver serve --help' for its flags")
	assert.NotContains(t, errOut, "usage:")
	assert.LessOrEqual(t, strings.Count(errOut, "\n"), 2)

	code, _, errOut = runArgs("serve", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "usage: mpgameserver serve [flags]")
	assert.Contains(t, errOut, "-listen")
}
