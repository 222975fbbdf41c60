package xvfb_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/xvfb"
)

// TestStart runs a real Xvfb and finds its socket answering, then gone
// once stopped.
func TestStart(t *testing.T) {
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("no Xvfb installed (apt-get install xvfb)")
	}
	display, stop, err := xvfb.Start(path, time.Minute)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(display, ":"), display)
	sock := "/tmp/.X11-unix/X" + display[1:]
	c, err := net.Dial("unix", sock)
	require.NoError(t, err, "the X server answers on %s", sock)
	c.Close()
	stop()
	_, err = net.Dial("unix", sock)
	assert.Error(t, err, "stopped")
	_, err = os.Stat(sock)
	assert.True(t, os.IsNotExist(err), "it cleaned up its socket")
}

// TestEnsureKeepsADisplay: a DISPLAY already set is left alone.
func TestEnsureKeepsADisplay(t *testing.T) {
	t.Setenv("DISPLAY", ":4242")
	stop, err := xvfb.Ensure()
	require.NoError(t, err)
	stop()
	assert.Equal(t, ":4242", os.Getenv("DISPLAY"), "stop leaves a DISPLAY it did not set")
}

// TestEnsureStartsOne: without DISPLAY, Ensure starts an X server and
// names it; stop ends it and unsets DISPLAY again.
func TestEnsureStartsOne(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("no Xvfb installed (apt-get install xvfb)")
	}
	t.Setenv("DISPLAY", "")
	os.Unsetenv("DISPLAY")
	stop, err := xvfb.Ensure()
	require.NoError(t, err)
	display := os.Getenv("DISPLAY")
	require.True(t, strings.HasPrefix(display, ":"), display)
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+display[1:])
	require.NoError(t, err)
	c.Close()
	stop()
	assert.Empty(t, os.Getenv("DISPLAY"))
}
