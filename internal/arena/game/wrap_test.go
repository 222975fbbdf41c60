package game

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/font/gofont/gobold"

	"github.com/mpgs/mpgameserver/conn"
)

// TestStatusWraps: a reason with advice (Firefox and the loopback) takes
// several lines, each within the window, and loses no word.
func TestStatusWraps(t *testing.T) {
	src, err := text.NewGoTextFaceSource(bytes.NewReader(gobold.TTF))
	require.NoError(t, err)
	face := &text.GoTextFace{Source: src, Size: 20}
	msg := failure(conn.ErrHandshakeTimeout, "http://127.0.0.1:8080/rtc")
	require.Contains(t, msg, "Firefox", "the advice is there to wrap")
	lines := wrap(msg, face, Width-80)
	assert.Greater(t, len(lines), 1)
	for _, l := range lines {
		w, _ := text.Measure(l, face, 0)
		assert.LessOrEqual(t, w, float64(Width-80), "%q", l)
	}
	assert.Equal(t, strings.Fields(msg), strings.Fields(strings.Join(lines, " ")))
	assert.Equal(t, []string{"short"}, wrap("short", face, Width-80))
	assert.Equal(t, []string{""}, wrap("", face, Width-80))
}
