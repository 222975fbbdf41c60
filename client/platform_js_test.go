//go:build js

package client

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConnectInBrowserBuild runs under GOOS=js (Node or a browser):
// Connect fails at once with ErrNoUDP.
func TestConnectInBrowserBuild(t *testing.T) {
	c := New(Config{})
	err := c.Connect("127.0.0.1:1474", nil)
	assert.ErrorIs(t, err, ErrNoUDP)
	assert.False(t, c.Connected())
}

// TestConnectURLInBrowserBuild: a signaling URL goes to WebRTC; a
// JavaScript host without RTCPeerConnection (Node) says so instead of
// failing later.
func TestConnectURLInBrowserBuild(t *testing.T) {
	c := New(Config{})
	err := c.Connect("http://127.0.0.1:9/rtc", nil)
	assert.ErrorContains(t, err, "RTCPeerConnection")
	assert.False(t, c.Connected())
}
