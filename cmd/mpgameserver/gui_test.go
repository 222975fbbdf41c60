//go:build !headless

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// child starts `mpgameserver args...` as a child process.
func child(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MPGS_RUN_COMMAND="+strings.Join(args, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(stdout), stderr
}

// TestGUICommand opens the monitor window hosting the echo game, serves a
// client through it, then stops it with SIGTERM: the client is told, the
// handler says goodbye, and the process exits 0.
func TestGUICommand(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the gui command needs a window (apt-get install xvfb)")
	}
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	cmd, out, stderr := child(t, "gui", "--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "root.key"), "--game", "echo")
	lines := make(chan string, 100)
	go func() {
		for out.Scan() {
			lines <- out.Text()
		}
		close(lines)
	}()
	var addr string
	select {
	case l := <-lines:
		require.True(t, strings.HasPrefix(l, "READY "), l)
		addr = strings.TrimPrefix(l, "READY ")
	case <-time.After(30 * time.Second):
		t.Fatalf("no READY line; stderr: %s", stderr.String())
	}
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	c := client.New(client.Config{ServerKey: pub})
	var ok bool
	require.NoError(t, c.Connect(addr, func(r bool) { ok = r }))
	defer c.ForceDisconnect()
	deadline := time.Now().Add(5 * time.Second)
	var echoes int
	sent := false
	for time.Now().Before(deadline) && echoes == 0 {
		c.Update()
		if ok && !sent {
			require.NoError(t, c.Send([]byte("Gthrough the window"), conn.RetryOnTimeout, nil))
			sent = true
		}
		echoes += len(c.Messages())
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, 1, echoes, "the hosted server echoes")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	for time.Now().Before(deadline.Add(5*time.Second)) && !c.Status().Closed() {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	assert.ErrorIs(t, c.Err(), conn.ErrPeerClosed, "the client was sent a DISCONNECT")
	require.NoError(t, cmd.Wait(), "exit status; stderr: %s", stderr.String())
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	assert.Regexp(t, `DISCONNECT 127\.0\.0\.1:\d+ msgs=1 bytes=19 active=0`, strings.Join(rest, "\n"))
	assert.Contains(t, stderr.String(), "stopped")
}
