//go:build !headless

package main

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPlayWarnsOfACutName runs `mpgameserver play` with a name over 16
// bytes in a child process (a window needs the main thread): it warns on
// stderr, naming the name the player will have, and opens the window all
// the same; SIGTERM ends it.
func TestPlayWarnsOfACutName(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY: the play command needs a window (xvfb-run -a go test ./cmd/...)")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	cmd, _, stderr := child(t, "play", "--server", addr, "--name", "Maximilian the Great")
	const want = `warning: --name "Maximilian the Great" is longer than 16 bytes: you will play as "Maximilian_the_G"`
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), want); time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "no warning; stderr: %s", stderr.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "the window plays on after the warning and stops on SIGTERM; stderr: %s", stderr.String())
}
