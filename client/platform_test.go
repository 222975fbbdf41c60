package client

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectWithoutUDP: in a browser build, Connect says at once that
// there is no UDP, rather than timing out a handshake that never left.
func TestConnectWithoutUDP(t *testing.T) {
	for _, goos := range []string{"js", "wasip1"} {
		_, err := dialFor(goos)("127.0.0.1:1474")
		assert.ErrorIs(t, err, ErrNoUDP, goos)
	}
	sock, err := dialFor("linux")("127.0.0.1:1474")
	require.NoError(t, err)
	sock.Close()
}

// TestURLNeedsTheBrowserCarrier: a native build links no WebRTC unless
// the game asks for it; a server's URL without Config.Dial says how.
func TestURLNeedsTheBrowserCarrier(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("a browser build reaches URLs over WebRTC")
	}
	c := New(Config{})
	err := c.Connect("http://127.0.0.1:8080/rtc", nil)
	assert.ErrorIs(t, err, ErrNoWebRTC)
	assert.ErrorContains(t, err, "rtc.Dialer")
	assert.False(t, c.Connected())
}
