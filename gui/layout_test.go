package gui

import (
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
)

func inside(r plot.Rect, w, h float32) bool {
	return r.X >= 0 && r.Y >= 0 && r.Right() <= w && r.Bottom() <= h && r.W > 0 && r.H > 0
}

func overlap(a, b plot.Rect) bool {
	return a.X < b.Right() && b.X < a.Right() && a.Y < b.Bottom() && b.Y < a.Bottom()
}

func noneOverlap(t *testing.T, name string, rs []plot.Rect, w, h float32) {
	t.Helper()
	for i, a := range rs {
		assert.True(t, inside(a, w, h), "%s: panel %d %+v inside %vx%v", name, i, a, w, h)
		for j, b := range rs[i+1:] {
			assert.False(t, overlap(a, b), "%s: panels %d and %d overlap", name, i, i+1+j)
		}
	}
}

// TestLayoutReflows: at every size the panels fit the screen without
// overlapping, plots are wide enough to read, and a bigger window shows
// more of the table.
func TestLayoutReflows(t *testing.T) {
	sizes := [][2]int{{MinWidth, MinHeight}, {1024, 700}, {Width, Height}, {1600, 900}, {1920, 1080}, {2560, 1440}}
	prevRows := 0
	for _, sz := range sizes {
		for bands := 0; bands <= 2; bands++ {
			l := computeLayout(sz[0], sz[1], bands)
			name := fmt.Sprintf("%dx%d, %d bands", sz[0], sz[1], bands)
			W, H := float32(sz[0]), float32(sz[1])
			over := append([]plot.Rect{l.header}, l.bands...)
			over = append(over, l.plots[:]...)
			over = append(over, l.health, l.logs, l.table)
			noneOverlap(t, name+" overview", over, W, H)
			client := append([]plot.Rect{l.header}, l.bands...)
			client = append(client, l.facts, l.footer)
			client = append(client, l.cplots[:]...)
			noneOverlap(t, name+" close-up", client, W, H)
			for i, p := range l.plots {
				a := plotArea(p)
				assert.GreaterOrEqual(t, a.H, float32(plotMinH-plotTop-plotBot), "%s: plot %d tall enough", name, i)
			}
			for i, p := range l.cplots {
				assert.Greater(t, plotArea(p).H, float32(60), "%s: client plot %d tall enough", name, i)
			}
			assert.GreaterOrEqual(t, l.rows, 1, name)
			// The rows drawn stay inside the table, above its status line.
			assert.LessOrEqual(t, l.tableRow(l.rows-1).Bottom(), l.table.Bottom()-rowH+4, name)
		}
		l := computeLayout(sz[0], sz[1], 0)
		assert.GreaterOrEqual(t, l.rows, prevRows, "%dx%d: no fewer rows than a smaller window", sz[0], sz[1])
		prevRows = l.rows
	}
	small, def, big := computeLayout(MinWidth, MinHeight, 0), computeLayout(Width, Height, 0), computeLayout(1920, 1080, 0)
	assert.Equal(t, 8, def.rows, "the default window shows 8 clients")
	assert.Greater(t, big.rows, def.rows, "a bigger window shows more clients")
	assert.Greater(t, computeLayout(2560, 1440, 0).rows, big.rows)
	assert.Greater(t, big.plots[0].W, def.plots[0].W, "plots widen with the window")
	assert.Greater(t, big.plots[0].H, def.plots[0].H, "and grow taller, up to a limit")
	assert.Equal(t, float32(plotMaxH), computeLayout(2560, 1440, 0).plots[0].H)
	assert.Equal(t, float32(plotMinH), small.plots[0].H)
	assert.Less(t, computeLayout(Width, Height, 2).plots[0].H, def.plots[0].H, "warning bands take their room from the plots")
	assert.Equal(t, def.rows, computeLayout(Width, Height, 2).rows, "not from the table")
}

func TestScreenSize(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{Width, Height, Width, Height},
		{1920, 1080, 1920, 1080},
		{640, 480, MinWidth, MinHeight}, // smaller: the minimum, scaled down by Ebitengine
		{3000, 500, 3000, MinHeight},
		{1, 1, MinWidth, MinHeight},
	} {
		w, h := screenSize(tc.w, tc.h)
		assert.Equal(t, []int{tc.ww, tc.wh}, []int{w, h}, "%dx%d", tc.w, tc.h)
		m := &Monitor{}
		w, h = m.Layout(tc.w, tc.h)
		assert.Equal(t, []int{tc.ww, tc.wh}, []int{w, h}, "Layout %dx%d", tc.w, tc.h)
	}
}

func TestScaledColumns(t *testing.T) {
	cols := columns()
	var sum float32
	for _, w := range scaledColumns(cols, 900, nil) {
		sum += w
	}
	assert.LessOrEqual(t, sum, float32(900), "narrow: the columns shrink to fit")
	sum = 0
	for _, w := range scaledColumns(cols, 5000, nil) {
		sum += w
	}
	assert.Less(t, sum, float32(5000), "wide: they grow, but not without limit")
}

// TestMonitorReflowsWithWindow: a taller window shows more clients; the
// monitor redraws at the new size.
func TestMonitorReflowsWithWindow(t *testing.T) {
	w := guitest.Get(t, win)
	src := clientsSource(40)
	m, err := NewMonitor(src)
	require.NoError(t, err)
	scripted(m)
	defer w.Show(m)()
	img := captureLoaded(t, w, m)
	require.Equal(t, image.Rect(0, 0, Width, Height), img.Bounds())
	assert.Equal(t, computeLayout(Width, Height, 0).rows, rowsDrawn(img), "a page of the default window")

	defer func() {
		ebiten.SetWindowSize(Width, Height)
		require.Eventually(t, func() bool { return capture(t, m).Bounds().Dy() == Height }, 20*time.Second, 50*time.Millisecond)
	}()
	ebiten.SetWindowSize(Width, 1000)
	require.Eventually(t, func() bool { img = capture(t, m); return img.Bounds().Dy() == 1000 }, 20*time.Second, 50*time.Millisecond,
		"the window never grew")
	savePNG(t, img, "monitor-tall")
	l := computeLayout(Width, 1000, 0)
	assert.Greater(t, l.rows, computeLayout(Width, Height, 0).rows)
	assert.Equal(t, l.rows, rowsDrawn(img), "a longer page in the taller window")
	w.Between(func() { assert.Equal(t, l.rows, m.lay.rows, "paging follows the layout") })
}
