//go:build !headless

package main

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

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
	// Wayland alone is not enough: Ebitengine's windows need X11
	// (XWayland sets DISPLAY).
	assert.ErrorIs(t, checkDisplay(func(k string) string { return map[string]string{"WAYLAND_DISPLAY": "wayland-0"}[k] }), errNoDisplay)
}

// TestDisplayThatDoesNotAnswer: a DISPLAY where no X server listens is
// said, before READY and before a port is bound, instead of a server
// that announces itself and then dies opening its window.
func TestDisplayThatDoesNotAnswer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("display variables are an X11 matter")
	}
	// An X display over TCP is port 6000+n: one that a listener holds
	// answers, one that nothing holds does not.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if port < 6000 {
		t.Skipf("the kernel gave port %d, below the X range", port)
	}
	assert.NoError(t, probeDisplay(fmt.Sprintf("127.0.0.1:%d.0", port-6000), 5*time.Second))
	ln.Close()
	dead := fmt.Sprintf("127.0.0.1:%d", port-6000)
	assert.ErrorContains(t, probeDisplay(dead, 5*time.Second), "DISPLAY="+dead+": no X server answers there")
	assert.ErrorContains(t, probeDisplay("nonsense", time.Second), `DISPLAY="nonsense" is not a display name`)

	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := probe.LocalAddr().String()
	require.NoError(t, probe.Close())
	t.Setenv("DISPLAY", dead)
	code, out, errOut := runArgs("gui", "--listen", addr)
	assert.Equal(t, 1, code)
	assert.Empty(t, out, "no READY")
	assert.Contains(t, errOut, "no X server answers there")
	again, err := net.ListenPacket("udp", addr)
	require.NoError(t, err, "nothing was left bound")
	again.Close()
}
