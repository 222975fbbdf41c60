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
