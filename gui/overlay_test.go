package gui

import (
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// TestHealthAndOverlaysDrawn: the health strip highlights the worst
// trouble and tints the others that happened; the log tail shows the
// server's warnings and errors; a source without actions says so in the
// close-up and when D is pressed; the network panel says what to do
// without --netsim; a question is drawn over the screen.
func TestHealthAndOverlaysDrawn(t *testing.T) {
	w := guitest.Get(t, win)
	src := clientsSource(3)
	src.noActs = true
	now := time.Now()
	src.logs = []admin.LogLine{
		{Time: now, Level: "WARN", Msg: "slow tick", Attrs: "took=40ms"},
		{Time: now, Level: "ERROR", Msg: "handler panicked", Attrs: "token=1002 panic=boom"},
	}
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	defer w.Show(m)()
	captureLoaded(t, w, m)
	// A second later: junk and late ticks.
	src.next(func(s *server.Snapshot) { s.Stats.Junk += 500; s.Stats.LateTicks += 3 })
	require.Eventually(t, inWindow(w, func() bool { return m.hist.Totals[history.Junk] == 500 }), 10*time.Second, 10*time.Millisecond)
	img := capture(t, m)
	savePNG(t, img, "monitor-health")
	pal := defaultPalette()
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	var ts []troubleState
	w.Between(func() { ts = troubles(m.hist) })
	assert.True(t, ts[history.Junk].worst, "junk is the worst")
	assert.EqualValues(t, 500, ts[history.Junk].last)
	assert.False(t, ts[history.LateTicks].worst)
	assert.EqualValues(t, 3, ts[history.LateTicks].recent, "late ticks")
	chip := (l.health.W - 20 - 36) / 7 * 30
	assert.Greater(t, count(img, l.health, pal.Warn, 2), int(chip*0.6), "the worst chip filled")
	assert.Greater(t, count(img, l.health, pal.WarnDim, 2), int(chip*0.6), "the other trouble tinted")
	assert.Greater(t, count(img, l.logs, pal.Warn, 30), 40, "the error line")
	assert.Greater(t, count(img, l.logs, pal.Update, 30), 40, "the warning line")

	// The close-up of a client, without actions: the footer says why, and
	// D says so again instead of asking.
	press(t, w, in, ebiten.KeyDown, ebiten.KeyEnter)
	img = capture(t, m)
	footer := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0).footer
	assert.Greater(t, count(img, footer, pal.Warn, 40), 50, "'actions need --admin-token'")
	press(t, w, in, ebiten.KeyD)
	img = capture(t, m)
	toast := plot.Rect{X: 0, Y: l.H - margin - 34 - footerH - 8, W: l.W, H: 34}
	assert.Greater(t, count(img, toast, pal.Warn, 2), 3000, "the message")
	w.Between(func() { assert.Nil(t, m.confirm) })

	// The network panel without --netsim says how to get it.
	press(t, w, in, ebiten.KeyN)
	img = capture(t, m)
	savePNG(t, img, "monitor-nonetsim")
	box := plot.Rect{X: l.W/2 - 300, Y: l.H/2 - 100, W: 600, H: 120}
	assert.Greater(t, count(img, box, pal.Warn, 40), 200, "'start the server with --netsim to use this'")
	assert.Greater(t, count(img, plot.Rect{W: l.W, H: l.H}, pal.Sim, 2), 1000, "the panel's frame")
	press(t, w, in, ebiten.KeyEscape)

	// With actions, D asks first, over the close-up.
	src.mu.Lock()
	src.noActs = false
	src.mu.Unlock()
	src.next(func(*server.Snapshot) {})
	require.Eventually(t, inWindow(w, func() bool { return m.actions }), 10*time.Second, 10*time.Millisecond)
	press(t, w, in, ebiten.KeyD)
	img = capture(t, m)
	q := plot.Rect{X: l.W/2 - 360, Y: l.H/2 - 60, W: 720, H: 120}
	assert.Greater(t, count(img, q, pal.Warn, 2), 1500, "the question's frame")
	press(t, w, in, ebiten.KeyN)
	w.Between(func() { assert.Nil(t, m.confirm) })
	assert.Empty(t, src.actionsAsked())
}
