//go:build !headless

package main

import (
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoDisplay: without a display the window commands say so, and what
// to do, before they bind a port or print READY.
func TestNoDisplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("display variables are an X11/Wayland matter")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	// A port the gui command would bind: it must stay free.
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := probe.LocalAddr().String()
	require.NoError(t, probe.Close())
	for _, args := range [][]string{{"gui", "--listen", addr}, {"play", "--server", addr}} {
		code, out, errOut := runArgs(args...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, out, args)
		assert.Contains(t, errOut, "no display: set DISPLAY", args)
		assert.Contains(t, errOut, "mpgameserver serve", args)
	}
	again, err := net.ListenPacket("udp", addr)
	require.NoError(t, err, "nothing was left bound")
	again.Close()

	// A bad flag is still named first.
	code, _, errOut := runArgs("gui", "--interval", "0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--interval 0s")
	assert.Nil(t, checkDisplay(func(k string) string { return map[string]string{"WAYLAND_DISPLAY": "wayland-0"}[k] }))
}
