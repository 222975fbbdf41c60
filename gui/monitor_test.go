package gui

import (
	"image"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// liveServer runs an echo server until the test ends.
func liveServer(t *testing.T) (*server.Server, *conn.PrivateKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, root
}

// traffic runs n clients that each send a 100-byte message every frame
// (guaranteed every fifth) until stop is closed.
func traffic(t *testing.T, srv *server.Server, key *conn.PublicKey, n int, stop <-chan struct{}) *sync.WaitGroup {
	return trafficTo(t, srv.Addr().String(), key, n, stop)
}

// trafficTo is traffic to the server at addr.
func trafficTo(t *testing.T, addr string, key *conn.PublicKey, n int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client.New(client.Config{ServerKey: key})
			if err := c.Connect(addr, nil); err != nil {
				t.Error(err)
				return
			}
			defer c.WaitForDisconnect()
			msg := make([]byte, 100)
			for frame := 0; ; frame++ {
				select {
				case <-stop:
					return
				default:
				}
				c.Update()
				c.Messages()
				if c.Connected() {
					msg[0] = 'p'
					if frame%5 == 0 {
						msg[0] = 'G'
					}
					c.Send(msg, conn.RetryNone, nil)
				}
				time.Sleep(16 * time.Millisecond)
			}
		}()
	}
	return &wg
}

// capture waits for the monitor's next frame and returns it.
// captureLoaded waits until the shown monitor has taken in its source's
// snapshot (Ebitengine may draw a first frame before any Update), then
// captures the next frame.
func captureLoaded(t *testing.T, w *guitest.Window, m *Monitor) *image.RGBA {
	t.Helper()
	require.Eventually(t, func() bool {
		var ok bool
		w.Between(func() { ok = m.loaded })
		return ok
	}, 10*time.Second, 10*time.Millisecond, "the monitor never took in its snapshot")
	return capture(t, m)
}

func capture(t *testing.T, m *Monitor) *image.RGBA {
	t.Helper()
	select {
	case img := <-m.Screenshot():
		return img
	case <-time.After(5 * time.Second):
		t.Fatal("no frame drawn within 5 s")
		return nil
	}
}

// count returns how many pixels of img in r are within tol of c per
// channel.
func count(img *image.RGBA, r plot.Rect, c plot.Color, tol int) int {
	want := [3]int{int(c.R*255 + 0.5), int(c.G*255 + 0.5), int(c.B*255 + 0.5)}
	n := 0
	for y := int(r.Y); y < int(r.Bottom()); y++ {
		for x := int(r.X); x < int(r.Right()); x++ {
			o := img.PixOffset(x, y)
			p := img.Pix[o : o+3]
			ok := true
			for i := 0; i < 3; i++ {
				if d := int(p[i]) - want[i]; d > tol || d < -tol {
					ok = false
				}
			}
			if ok {
				n++
			}
		}
	}
	return n
}

// bright counts text-like pixels: light grey to white.
func bright(img *image.RGBA, r plot.Rect) int {
	n := 0
	for y := int(r.Y); y < int(r.Bottom()); y++ {
		for x := int(r.X); x < int(r.Right()); x++ {
			o := img.PixOffset(x, y)
			if img.Pix[o] > 170 && img.Pix[o+1] > 170 && img.Pix[o+2] > 170 {
				n++
			}
		}
	}
	return n
}

// savePNG saves a frame under the test's temp dir, or under
// $MPGS_SCREENSHOTS when set (to keep it), and logs the path.
func savePNG(t *testing.T, img image.Image, name string) {
	t.Helper()
	dir := os.Getenv("MPGS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path, err := paint.SavePNG(img, dir, name)
	require.NoError(t, err)
	t.Logf("frame saved to %s", path)
}

// TestMonitorShowsLiveServer runs the monitor in the real window with a
// live server and three real clients sending traffic, reads the screen and
// checks every panel shows what it should.
func TestMonitorShowsLiveServer(t *testing.T) {
	w := guitest.Get(t, win)
	srv, root := liveServer(t)
	stop := make(chan struct{})
	wg := traffic(t, srv, root.Public(), 3, stop)
	defer func() { close(stop); wg.Wait() }()

	m, err := NewMonitor(admin.NewLocal(srv, nil, nil))
	require.NoError(t, err)
	defer w.Show(m)()
	// Wait until the monitor took in four complete seconds with all three
	// clients sending, so every plot has a few segments to draw.
	var (
		n         int
		lastTicks int64
	)
	require.Eventually(t, func() bool {
		ready := false
		w.Between(func() {
			h := m.hist
			if m.snap.Connections != 3 || h.Seconds() < 5 {
				return
			}
			for s := h.Last() - 3; s <= h.Last(); s++ {
				if h.PktsIn.At(s) < 50 {
					return
				}
			}
			ready, n, lastTicks = true, h.Seconds(), h.Ticks.Last()
		})
		return ready
	}, 20*time.Second, 50*time.Millisecond, "traffic never showed in the monitor's history")
	frames := w.Frames()
	redraws, versions := m.redraws.Load(), srv.SnapshotVersion()
	time.Sleep(1100 * time.Millisecond) // let the monitor pick up a snapshot, perhaps
	img := capture(t, m)
	versions = srv.SnapshotVersion() - versions
	savePNG(t, img, "monitor-live")
	pal := defaultPalette()
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	panel := func(i int) plot.Rect { return l.plots[i] }

	// The series cover the seconds of data the monitor has, on a
	// 60-second axis: at least that much of each plot's width.
	frac := float64(n-1) / 59
	width := func(i int) int { return int(frac * float64(plotArea(panel(i)).W)) }
	t.Logf("%d seconds of data: series %.0f%% of the plot width", n, 100*frac)

	// Header: the listening line and the summary are drawn.
	assert.Greater(t, bright(img, l.header), 800, "header text")
	// Time profile: the stacked area is there; idle fills most of it.
	a := plotArea(panel(plotProfile))
	assert.Greater(t, count(img, a, pal.Idle, 2), int(0.8*float64(width(plotProfile))*float64(a.H)), "idle area")
	// Ticks per second: the line (2 px thick) and the dashed target.
	assert.Greater(t, count(img, plotArea(panel(plotTicks)), pal.Ticks, 2), width(plotTicks), "ticks line")
	assert.Greater(t, count(img, plotArea(panel(plotTicks)), pal.Target, 2), 100, "target line")
	// Packets and bytes per second: both directions have lines (they may
	// cross and hide each other in places).
	for _, id := range []int{plotPackets, plotBytes} {
		assert.Greater(t, count(img, plotArea(panel(id)), pal.Sent, 2), width(id)/2, "sent line in panel %d", id)
		assert.Greater(t, count(img, plotArea(panel(id)), pal.Received, 2), width(id)/2, "received line in panel %d", id)
	}
	// The health strip: no chip highlighted but those of troubles a busy
	// machine causes on a healthy loopback server (a tick late, the
	// queue between ticks full, a burst over a client's rate).
	speed := map[history.Trouble]bool{history.LateTicks: true, history.Stalls: true, history.Overflow: true,
		history.KernelDrops: true, history.Throttled: true}
	for i := history.Trouble(0); i < history.NumTroubles; i++ {
		if lit := count(img, healthCell(l.health, int(i)), pal.Warn, 2); lit > 0 {
			t.Logf("%s highlighted (%d px)", i, lit)
			assert.True(t, speed[i], "%s highlighted", i)
		}
	}
	// The table: three rows of text under the header row, nothing below.
	for i := 0; i < 4; i++ {
		row := l.tableRow(i)
		if i < 3 {
			assert.Greater(t, bright(img, row), 150, "table row %d", i)
		} else {
			assert.Less(t, bright(img, row), 20, "no fourth row")
		}
	}
	// Cheap drawing: the monitor rendered about once per published
	// snapshot, not once per frame.
	elapsed := w.Frames() - frames
	t.Logf("%d frames, %d full redraws; server ticks/s in the last second: %d", elapsed, m.redraws.Load()-redraws, lastTicks)
	assert.LessOrEqual(t, m.redraws.Load()-redraws, versions+1, "a redraw per new snapshot")
	assert.Greater(t, elapsed, uint64(10))
}

// TestMonitorNoClientsYet: before any client, the rate plots and the
// table say so instead of showing empty plots.
func TestMonitorNoClientsYet(t *testing.T) {
	w := guitest.Get(t, win)
	srv, _ := liveServer(t)
	m, err := NewMonitor(admin.NewLocal(srv, nil, nil))
	require.NoError(t, err)
	defer w.Show(m)()
	img := captureLoaded(t, w, m)
	savePNG(t, img, "monitor-empty")
	pal := defaultPalette()
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	for _, id := range []int{plotPackets, plotBytes} {
		a := plotArea(l.plots[id])
		center := plot.Rect{X: a.X + a.W/2 - 80, Y: a.Y + a.H/2 - 12, W: 160, H: 30}
		assert.Greater(t, count(img, center, pal.Dim, 40), 50, "'no clients yet' in panel %d", id)
	}
	tr := l.table
	center := plot.Rect{X: tr.X + tr.W/2 - 80, Y: tr.Y + tr.H/2 - 12, W: 160, H: 30}
	assert.Greater(t, count(img, center, pal.Dim, 40), 50, "'no clients yet' in the table")
}

// TestMonitorStops: RequestStop and a stopped server end the game.
func TestMonitorStops(t *testing.T) {
	srv, _ := liveServer(t)
	m, err := NewMonitor(admin.NewLocal(srv, nil, nil))
	require.NoError(t, err)
	scripted(m)
	require.NoError(t, m.Update())
	m.RequestStop()
	assert.Error(t, m.Update(), "Termination after RequestStop")

	m2, err := NewMonitor(admin.NewLocal(srv, nil, nil))
	require.NoError(t, err)
	scripted(m2)
	done := make(chan struct{})
	m2.SetDone(done)
	require.NoError(t, m2.Update())
	close(done)
	assert.Error(t, m2.Update(), "Termination once the server stopped")
	// Esc on the overview closes the window.
	m3, err := NewMonitor(admin.NewLocal(srv, nil, nil))
	require.NoError(t, err)
	in := scripted(m3)
	in.push(event{key: ebiten.KeyEscape})
	assert.Error(t, m3.Update(), "Termination on Esc")
}

// col is the index of the column titled title.
func col(t *testing.T, cols []column, title string) int {
	t.Helper()
	for i, c := range cols {
		if c.title == title {
			return i
		}
	}
	t.Fatalf("no column %q", title)
	return 0
}

func TestSortRows(t *testing.T) {
	rows := []history.Row{
		{PeerSnapshot: server.PeerSnapshot{Token: 3, Latency: 5 * time.Millisecond, Label: "carol"}, PktsIn: 10},
		{PeerSnapshot: server.PeerSnapshot{Token: 1, Latency: 50 * time.Millisecond, Label: "dave"}, PktsIn: 30},
		{PeerSnapshot: server.PeerSnapshot{Token: 2, Latency: 500 * time.Microsecond, Label: "bob"}, PktsIn: 20},
	}
	cols := columns()
	tokens := func() []uint32 {
		var out []uint32
		for _, r := range rows {
			out = append(out, r.Token)
		}
		return out
	}
	pkts, latency := col(t, cols, "pkts/s in"), col(t, cols, "latency")
	sortRows(rows, cols, tableState{sortCol: pkts, desc: true}) // largest first
	assert.Equal(t, []uint32{1, 2, 3}, tokens())
	sortRows(rows, cols, tableState{sortCol: latency}) // smallest first
	assert.Equal(t, []uint32{2, 3, 1}, tokens())
	sortRows(rows, cols, tableState{sortCol: col(t, cols, "token")})
	assert.Equal(t, []uint32{1, 2, 3}, tokens())
	name := col(t, cols, "name")
	sortRows(rows, cols, tableState{sortCol: name})
	assert.Equal(t, []uint32{2, 3, 1}, tokens(), "by the game's names")
	assert.Equal(t, "bob", cols[name].text(&rows[0]))
	// Ties keep a stable order by token.
	for i := range rows {
		rows[i].PktsIn = 7
	}
	sortRows(rows, cols, tableState{sortCol: pkts, desc: true})
	assert.Equal(t, []uint32{1, 2, 3}, tokens())
	assert.Equal(t, "0.5 ms", cols[latency].text(&history.Row{PeerSnapshot: server.PeerSnapshot{Latency: 500 * time.Microsecond}}))
	assert.Equal(t, "50 ms", cols[latency].text(&history.Row{PeerSnapshot: server.PeerSnapshot{Latency: 50 * time.Millisecond}}))
}

func TestSortBy(t *testing.T) {
	m := &Monitor{cols: columns()}
	pkts := col(t, m.cols, "pkts/s in")
	st := m.sortBy(tableState{}, pkts)
	assert.Equal(t, tableState{sortCol: pkts, desc: true}, st, "numbers sort largest first")
	st = m.sortBy(st, pkts)
	assert.False(t, st.desc, "the same column again reverses")
	st = m.sortBy(st, 0)
	assert.Equal(t, tableState{sortCol: 0}, st, "addresses sort smallest first")
	st = m.sortBy(st, col(t, m.cols, "name"))
	assert.False(t, st.desc, "names sort A to Z")
}

// rowsDrawn counts the table rows that have text in img.
func rowsDrawn(img *image.RGBA) int {
	l := computeLayout(img.Bounds().Dx(), img.Bounds().Dy(), 0)
	n := 0
	for i := 0; ; i++ {
		row := l.tableRow(i)
		if row.Bottom() > l.table.Bottom()-rowH {
			return n
		}
		if bright(img, row) > 100 {
			n++
		}
	}
}

// TestMonitorTablePages: with more clients than fit, the table shows a
// page of them, and scrolled to the end shows the rest.
func TestMonitorTablePages(t *testing.T) {
	w := guitest.Get(t, win)
	src := &fakeSource{}
	src.snap.Addr = netip.MustParseAddrPort("[::1]:1474")
	src.snap.Interval = time.Second / 60
	for i := 0; i < 30; i++ {
		src.snap.Peers = append(src.snap.Peers, server.PeerSnapshot{
			Addr: netip.AddrPortFrom(netip.MustParseAddr("::1"), uint16(40000+i)), Token: uint32(1000 + i), Stats: conn.Stats{Received: uint64(i)},
		})
	}
	src.snap.Connections = 30
	m, err := NewMonitor(src)
	require.NoError(t, err)
	defer w.Show(m)()
	img := captureLoaded(t, w, m)
	savePNG(t, img, "monitor-table")
	var visible int
	w.Between(func() { visible = m.lay.rows })
	require.Greater(t, visible, 3)
	assert.Equal(t, visible, rowsDrawn(img), "a full page")
	assert.Greater(t, bright(img, computeLayout(Width, Height, 0).header), 500, "IPv6 header drawn")

	// Scroll to the end: the last page holds 30 mod page rows... or a full
	// page ending at the last client.
	w.Between(func() {
		m.table.offset = plot.Scroll(1000, 30, visible)
		m.dirty = true
	})
	img = capture(t, m)
	assert.Equal(t, min(visible, 30-m.table.offset), rowsDrawn(img))
	assert.Equal(t, 30-visible, m.table.offset, "the last page ends at the last client")
}
