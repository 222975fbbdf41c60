//go:build !headless

package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGUIAttachFlags: --attach takes no server flags and binds nothing;
// its URL is checked; the environment's server settings do not count
// against it.
func TestGUIAttachFlags(t *testing.T) {
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := probe.LocalAddr().String()
	require.NoError(t, probe.Close())
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--attach", "http://127.0.0.1:1", "--listen", addr}, "--listen belong to that server"},
		{[]string{"--attach", "http://127.0.0.1:1", "--game", "arena", "--netsim"}, "--game, --netsim belong to that server"},
		{[]string{"--attach", "ftp://127.0.0.1:1"}, `scheme "ftp": want http or https`},
		{[]string{"--attach", "http://"}, "want http://HOST:PORT"},
	} {
		code, out, errOut := runArgs(append([]string{"gui"}, tc.args...)...)
		assert.Equal(t, 1, code, tc.args)
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
	code, _, errOut := runArgs("gui", "--attach", "127.0.0.1:8080")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no display")
	code, _, errOut = runArgs("gui", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-attach")
	assert.Contains(t, errOut, "-admin-token")
}

func TestAttachURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":  "http://127.0.0.1:8080",
		"127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://mon.example/srv": "https://mon.example/srv",
		"[::1]:8080":              "http://[::1]:8080",
	} {
		got, err := attachURL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"ftp://x", "http://", "http://u:p@host:1", "http://h:1/?q=1", "http://h:1/#x"} {
		_, err := attachURL(in)
		assert.Error(t, err, in)
	}
}
