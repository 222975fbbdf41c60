//go:build !headless && unix

package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/replaytest"
	"github.com/mpgs/mpgameserver/server"
)

// writeRecording writes 30 seconds of a made-up server with 5 clients
// into dir, as `serve --record dir` would (one times out at second 20),
// and returns the recording's start.
func writeRecording(t *testing.T, dir string) time.Time {
	t.Helper()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := replaytest.New(dir, replaytest.Config(), start, 20)
	require.NoError(t, err)
	s.Messages = 5
	s.AddPeers(1001, 5)
	for k := 1; k <= 30; k++ {
		if k == 20 {
			s.Ticks(5)
			s.Disconnect(1003, server.LeftTimedOut)
		}
		s.Second()
	}
	require.NoError(t, s.Close())
	return start
}

// TestGUIReplayFlags: --replay takes no server flags and not --attach,
// needs a path to a recording, and binds nothing.
func TestGUIReplayFlags(t *testing.T) {
	dir := t.TempDir()
	writeRecording(t, dir)
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := probe.LocalAddr().String()
	require.NoError(t, probe.Close())
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--replay", dir, "--attach", "http://127.0.0.1:1"}, "--replay shows a recording and --attach a running server: give one of them"},
		{[]string{"--attach", "http://127.0.0.1:1", "--replay", dir}, "give one of them"},
		{[]string{"--replay", dir, "--listen", addr, "--game", "arena"}, "--game, --listen belong to a server (give them to `mpgameserver serve --record DIR`)"},
		{[]string{"--replay", ""}, "--replay needs the recording's path"},
		{[]string{"--replay"}, "flag needs an argument: -replay"},
		{[]string{"--replay", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"--replay", t.TempDir()}, "holds no recording files"},
	} {
		code, out, errOut := runArgs(append([]string{"gui"}, tc.args...)...)
		assert.NotEqual(t, 0, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
		assert.Empty(t, out, tc.args)
	}
	again, err := net.ListenPacket("udp", addr)
	require.NoError(t, err, "nothing was bound")
	again.Close()

	// A server setting in the environment (meant for serve) is no
	// mistake: without a display, the display is what is missing.
	t.Setenv("MPGS_LISTEN", addr)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	code, _, errOut := runArgs("gui", "--replay", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no display")
	code, _, errOut = runArgs("gui", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-replay")
	assert.Contains(t, errOut, "Shift+M")
}

// TestGUIReplay runs `mpgameserver gui --replay DIR` in a child process
// (a window of its own) on a written recording: it says it replays, then
// that it indexed the recording's 30 snapshots and its marker; the window
// shows the first snapshot's clients and the timeline bar; SIGTERM closes
// it.
func TestGUIReplay(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the gui command needs a window (apt-get install xvfb)")
	}
	t.Chdir(t.TempDir())
	dir := t.TempDir()
	writeRecording(t, dir)
	shots := filepath.Join(t.TempDir(), "shots")
	cmd, sc, stderr := child(t, "gui", "--replay", dir, "--screenshots", shots)
	out := lines(sc)
	waitLine(t, out, stderr, regexp.MustCompile(`REPLAYING `+regexp.QuoteMeta(dir)), 0)
	m := waitLine(t, out, stderr, regexp.MustCompile(`indexed `+regexp.QuoteMeta(dir)+`: (\d+) snapshots from \S+ \S+ to \S+, (\d+) markers`), 0)
	assert.Equal(t, "30", m[1])
	assert.Equal(t, "1", m[2], "the timeout")

	// The table's five rows (below y 600 in the default window) and the
	// bar's panel along the bottom.
	var img = shot(t, cmd.Process, shots, out, stderr)
	require.Eventually(t, func() bool {
		img = shot(t, cmd.Process, shots, out, stderr)
		return brightRows(img, 560, 640) > 600
	}, 60*time.Second, 100*time.Millisecond, "the table never filled")
	assert.Greater(t, pixels(img, 740, 790, 27, 30, 39), 30000, "the timeline bar's panel")
	assert.Greater(t, brightRows(img, 740, 790), 300, "the bar's text and cursor")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "exit status; stderr: %s", stderr.String())
}
