//go:build !headless

package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlayWarnsOfACutName runs `mpgameserver play` with a name over 16
// bytes in a child process (a window needs the main thread): it warns on
// stderr, naming the name the player will have, and plays all the same
// (its terminal says it is in the game); SIGTERM ends it, exit status 0.
func TestPlayWarnsOfACutName(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the play command needs a window (apt-get install xvfb)")
	}
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	addr, _, _, _ := serve(t, "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "arena")
	cmd, out, stderr := child(t, "play", "--server", addr, "--pubkey", filepath.Join(dir, "root.pub"), "--name", "Maximilian the Great")
	said := waitSaid(t, out, "in the game at "+addr)
	const want = `warning: --name "Maximilian the Great" is longer than 16 bytes: you will play as "Maximilian_the_G"`
	assert.Contains(t, stderr.String(), want)
	assert.Equal(t, []string{"connecting to " + addr, "in the game at " + addr}, said)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "the window stops on SIGTERM; stderr: %s", stderr.String())
}

// TestPlaySaysWhyItFailed: a window that could not join says why on its
// terminal as it happens, and, closed while failed, exits 1 with the
// reason on stderr rather than 0 and nothing.
func TestPlaySaysWhyItFailed(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the play command needs a window (apt-get install xvfb)")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	cmd, out, stderr := child(t, "play", "--server", addr)
	const why = "no answer from the server at "
	waitSaid(t, out, why+addr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "exit status 1, not %v; stderr: %s", err, stderr.String())
	assert.Equal(t, 1, exit.ExitCode())
	assert.True(t, strings.HasPrefix(stderr.String(), "mpgameserver play: "+why+addr), stderr.String())
}

// waitSaid reads out until a line starting with prefix, which it returns
// with the lines before it; it fails the test after a minute or at the
// end of out.
func waitSaid(t *testing.T, out *bufio.Scanner, prefix string) []string {
	t.Helper()
	lines := make(chan []string, 1)
	go func() {
		var seen []string
		for out.Scan() {
			seen = append(seen, out.Text())
			if strings.HasPrefix(out.Text(), prefix) {
				break
			}
		}
		lines <- seen
	}()
	select {
	case seen := <-lines:
		require.True(t, len(seen) > 0 && strings.HasPrefix(seen[len(seen)-1], prefix), "no %q: %q", prefix, seen)
		return seen
	case <-time.After(time.Minute):
		t.Fatalf("no %q in a minute", prefix)
	}
	return nil
}
