package gui

import (
	"fmt"
	"image"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// The arena's world: 6400 x 4000, views of 1600 x 1000.
const worldW, worldH = 6400, 4000

// worldSource is a fake server of a game that reports its world: n
// clients, each with a view in a 4 x 4 grid of the world (client i at
// column i%4, row i/4), and points.
func worldSource(n int, points []server.WorldPoint) *fakeSource {
	src := clientsSource(n)
	src.snap.World = server.WorldMap{MaxX: worldW, MaxY: worldH, Kinds: []string{"ship", "bullet", "asteroid"}, Points: points}
	for i := range src.snap.Peers {
		src.snap.Peers[i].Label = fmt.Sprintf("bot %d", i)
		src.snap.Peers[i].World = server.PeerWorld{
			Reported: true, InView: 10 + i, Waiting: i, OldestWait: time.Duration(i) * 40 * time.Millisecond,
			Bytes: 100 + i, Budget: 266, Memory: 4096,
			X: 800 + 1600*float64(i%4), Y: 500 + 1000*float64(i/4%4), HalfW: 800, HalfH: 500,
		}
	}
	return src
}

// cluster returns n points of kind in a square of the world from (x, y),
// side 10*sqrt(n).
func cluster(n int, x, y float32, kind uint8) []server.WorldPoint {
	side := int(math.Ceil(math.Sqrt(float64(n))))
	var out []server.WorldPoint
	for i := range n {
		out = append(out, server.WorldPoint{X: x + 10*float32(i%side), Y: y + 10*float32(i/side), Kind: kind})
	}
	return out
}

// fullWorld is server.MaxWorldPoints points over the whole world, of the
// three kinds.
func fullWorld() []server.WorldPoint {
	var out []server.WorldPoint
	for i := range server.MaxWorldPoints {
		out = append(out, server.WorldPoint{X: float32(i%128) * worldW / 127, Y: float32(i/128) * worldH / 63, Kind: uint8(i % 3)})
	}
	return out
}

func titles(cols []column) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.title)
	}
	return out
}

// TestWorldColumns: the replication's columns come after the others only
// while a client is reported on, show its figures, and sort.
func TestWorldColumns(t *testing.T) {
	src := clientsSource(3) // an echo server: nothing reported
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	require.NoError(t, m.Update())
	base := titles(columns())
	assert.Equal(t, base, titles(m.cols), "no replication columns for a game without")
	assert.Equal(t, worldTiles{}, m.worldTiles())

	src.next(func(s *server.Snapshot) {
		s.Peers[1].World = server.PeerWorld{Reported: true, InView: 12, Waiting: 3, OldestWait: 120 * time.Millisecond, Bytes: 109, Budget: 266}
		s.Peers[2].World = server.PeerWorld{Reported: true, InView: 40, Bytes: 250, Budget: 266}
	})
	require.NoError(t, m.Update())
	require.Equal(t, append(slices.Clone(base), "in view", "bytes/budget", "waiting"), titles(m.cols), "after the others, in their order")
	assert.Equal(t, worldTiles{repl: true}, m.worldTiles(), "no bounds: no map")
	inView, bytes, waiting := col(t, m.cols, "in view"), col(t, m.cols, "bytes/budget"), col(t, m.cols, "waiting")
	row := func(tok uint32) *history.Row {
		for i := range m.rows {
			if m.rows[i].Token == tok {
				return &m.rows[i]
			}
		}
		t.Fatalf("no row %d", tok)
		return nil
	}
	assert.Equal(t, "12", m.cols[inView].text(row(1002)))
	assert.Equal(t, "109/266", m.cols[bytes].text(row(1002)))
	assert.Equal(t, "3 (120ms)", m.cols[waiting].text(row(1002)))
	assert.Equal(t, "0", m.cols[waiting].text(row(1003)))
	for _, c := range []int{inView, bytes, waiting} {
		assert.Equal(t, "-", m.cols[c].text(row(1001)), "a client the game did not report on")
	}
	// Sorted by a replication column, largest first; the unreported last.
	tokens := func() []uint32 {
		var out []uint32
		for _, r := range m.rows {
			out = append(out, r.Token)
		}
		return out
	}
	m.table = m.sortBy(m.table, bytes)
	sortRows(m.rows, m.cols, m.table)
	assert.Equal(t, []uint32{1003, 1002, 1001}, tokens())
	m.table = m.sortBy(m.table, waiting)
	sortRows(m.rows, m.cols, m.table)
	assert.Equal(t, []uint32{1002, 1003, 1001}, tokens())
	step(t, m, in, ebiten.KeyR)
	assert.Equal(t, []uint32{1001, 1003, 1002}, tokens(), "reversed")

	// The game stops reporting: the columns go, the table sorts by the
	// first column again.
	src.next(func(s *server.Snapshot) {
		for i := range s.Peers {
			s.Peers[i].World = server.PeerWorld{}
		}
	})
	require.NoError(t, m.Update())
	assert.Equal(t, base, titles(m.cols))
	assert.Equal(t, tableState{}, m.table)
	assert.Equal(t, []uint32{1001, 1002, 1003}, tokens())
}

func TestFormatWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0ms", 120 * time.Millisecond: "120ms", 999*time.Millisecond + 600*time.Microsecond: "1.0s",
		1500 * time.Millisecond: "1.5s", 9960 * time.Millisecond: "10s", 75 * time.Second: "75s",
	} {
		assert.Equal(t, want, formatWait(d), "%v", d)
	}
}

// TestScaledColumnsWithWorld: with the replication's columns, the
// columns fit the table from the smallest window to the largest, their
// usual text always, their headers from the default window on; without
// them, headers fit in the smallest window too.
func TestScaledColumnsWithWorld(t *testing.T) {
	f, err := newFaces()
	require.NoError(t, err)
	var r renderer
	r.init(&f)
	// An arena bot's row, the widest a row usually gets.
	row := &history.Row{
		PeerSnapshot: server.PeerSnapshot{
			Addr: netip.MustParseAddrPort("127.0.0.1:54321"), Label: "bot 12", Token: 4294967295, Latency: 9500 * time.Microsecond,
			Stats: conn.Stats{Assembled: 10, Acked: 10, Timeouts: 1234}, Carrier: "udp",
			World: server.PeerWorld{Reported: true, InView: 1234, Waiting: 3, OldestWait: 120 * time.Millisecond, Bytes: 109, Budget: 266},
		},
		PktsIn: 1234, PktsOut: 1234, BytesIn: 123456, BytesOut: 123456,
	}
	check := func(cols []column, sizes [][2]int, headsFrom int) {
		for _, sz := range sizes {
			w := computeLayout(sz[0], sz[1], 0).table.W - 16
			widths := r.columnWidths(cols, w, &f)
			var sum float32
			for i, c := range cols {
				sum += widths[i]
				need := r.charW*float64(len([]rune(c.text(row)))) + 6
				if c.right {
					need += 6
				}
				assert.LessOrEqual(t, need, float64(widths[i]), "%v: the text of %q: %q", sz, c.title, c.text(row))
				head, full := headerTitle(i, c.title, " v", widths[i]-headerPad(&cols[i]), f.small), fmt.Sprintf("%d %s v", i+1, c.title)
				if sz[0] >= headsFrom {
					assert.Equal(t, full, head, "%v: the header of %q", sz, c.title)
				} else if head != full {
					cut := strings.TrimSuffix(head, "…")
					assert.True(t, len(cut) >= 3 && strings.HasPrefix(c.title+" v", cut), "%v: the title of %q, cut at worst: %q", sz, c.title, head)
				}
			}
			assert.LessOrEqual(t, sum, w, "%v", sz)
		}
	}
	sizes := [][2]int{{MinWidth, MinHeight}, {1024, 700}, {Width, Height}, {1920, 1080}, {2560, 1440}}
	check(append(columns(), worldColumns()...), sizes, Width)
	check(columns(), sizes, MinWidth)

	// The replication's widest cells fit their columns in the default window.
	cols := append(columns(), worldColumns()...)
	widths := r.columnWidths(cols, computeLayout(Width, Height, 0).table.W-16, &f)
	row.World = server.PeerWorld{Reported: true, InView: 12345, Waiting: 12, OldestWait: 340 * time.Millisecond, Bytes: 1190, Budget: 1200}
	for i, c := range worldColumns() {
		j := len(columns()) + i
		assert.Less(t, r.charW*float64(len(c.text(row)))+10, float64(widths[j]), "%q: %q", c.title, c.text(row))
	}
	// Without headers, wide enough: as wide as before.
	base := columns()
	var sum float32
	for _, c := range base {
		sum += c.width
	}
	for i, w := range scaledColumns(base, sum, nil) {
		assert.Equal(t, base[i].width, w)
	}
	assert.Equal(t, "3 token v", fitFace("3 token v", 100, f.small))
	assert.Equal(t, "3 tok…", fitFace("3 token v", float32(text.Advance("3 tok…", f.small)), f.small))
	assert.Equal(t, "", fitFace("3 token v", 1, f.small))
}

// TestReplicationLine: the close-up's line has every figure the game
// reports, and fits the line in the smallest window.
func TestReplicationLine(t *testing.T) {
	w := server.PeerWorld{Reported: true, InView: 12, Waiting: 3, OldestWait: 120 * time.Millisecond, Bytes: 109, Budget: 266,
		Memory: 4100, X: 3200, Y: 2000, HalfW: 800, HalfH: 500}
	line := replicationLine(&w)
	assert.Equal(t, "12 in view   3 waiting (oldest 120ms)   snapshot 109/266 B   holds 4.1kB   view 1600x1000 at 3200,2000", line)
	w.Waiting, w.OldestWait = 0, 0
	assert.Contains(t, replicationLine(&w), "   0 waiting   ")
	assert.Equal(t, "the game reports nothing on this client", replicationLine(&server.PeerWorld{}))

	f, err := newFaces()
	require.NoError(t, err)
	var r renderer
	r.init(&f)
	l := layoutWorld(MinWidth, MinHeight, 0, worldTiles{repl: true})
	assert.Equal(t, line, r.fit(line, l.repl.W-84-20), "not cut in the smallest window")
}

// TestFitWorld: the world fills the area along one side, keeps its
// aspect, sits in the middle; its corners land on the map's corners, a
// view on the part of the map it covers.
func TestFitWorld(t *testing.T) {
	world := &server.WorldMap{MinX: -100, MinY: 50, MaxX: 6300, MaxY: 4050}
	for _, area := range []plot.Rect{
		{X: 10, Y: 20, W: 640, H: 400}, // the world's aspect: all of it
		{X: 10, Y: 20, W: 800, H: 400}, // wider: bars left and right
		{X: 10, Y: 20, W: 320, H: 600}, // taller: bars above and below
	} {
		v := fitWorld(world, area)
		name := fmt.Sprintf("%+v", area)
		assert.InDelta(t, 6400.0/4000, float64(v.at.W/v.at.H), 1e-4, "%s: aspect", name)
		assert.True(t, math.Abs(float64(v.at.W-area.W)) < 1e-3 || math.Abs(float64(v.at.H-area.H)) < 1e-3, "%s: fills one side: %+v", name, v.at)
		assert.LessOrEqual(t, v.at.W, area.W+1e-3, name)
		assert.LessOrEqual(t, v.at.H, area.H+1e-3, name)
		assert.InDelta(t, area.X+area.W/2, v.at.X+v.at.W/2, 1e-3, "%s: centered", name)
		assert.InDelta(t, area.Y+area.H/2, v.at.Y+v.at.H/2, 1e-3, "%s: centered", name)
		assertPoint(t, plot.Point{X: v.at.X, Y: v.at.Y}, v.point(-100, 50), name+": the top left corner")
		assertPoint(t, plot.Point{X: v.at.Right(), Y: v.at.Bottom()}, v.point(6300, 4050), name+": the bottom right corner")
		assertPoint(t, plot.Point{X: v.at.Right(), Y: v.at.Y}, v.point(6300, 50), name+": the top right corner")
		// A view of the world's top left quarter covers the map's.
		q := v.area(1500, 1050, 1600, 1000)
		assert.InDelta(t, v.at.X, q.X, 1e-3, name)
		assert.InDelta(t, v.at.Y, q.Y, 1e-3, name)
		assert.InDelta(t, v.at.W/2, q.W, 1e-3, name)
		assert.InDelta(t, v.at.H/2, q.H, 1e-3, name)
		assert.True(t, v.inside(-100, 50) && v.inside(6300, 4050) && v.inside(3000, 2000))
		assert.False(t, v.inside(-101, 50) || v.inside(6300, 4051) || v.inside(math.NaN(), 0))
	}
	v := fitWorld(world, plot.Rect{X: 10, Y: 20, W: 640, H: 400})
	assertRect(t, plot.Rect{X: 10, Y: 20, W: 640, H: 400}, v.at, "the world's aspect: the whole area")
	assertPoint(t, plot.Point{X: 330, Y: 220}, v.point(3100, 2050), "the middle")
	// A view over the world's edge is cut at it.
	a, ok := clip(v.area(0, 2050, 800, 500), v.at)
	require.True(t, ok)
	assertRect(t, plot.Rect{X: 10, Y: 170, W: 90, H: 100}, a, "cut at the world's left edge")
	_, ok = clip(v.area(-5000, 0, 800, 500), v.at)
	assert.False(t, ok, "a view out of the world")

	assert.False(t, hasWorld(&server.WorldMap{}), "no bounds: no world")
	assert.False(t, hasWorld(&server.WorldMap{MaxX: 100}), "no height")
	assert.False(t, hasWorld(&server.WorldMap{MaxX: math.NaN(), MaxY: 1}))
	assert.False(t, hasWorld(&server.WorldMap{MinX: -math.MaxFloat64, MaxX: math.MaxFloat64, MaxY: 1}))
	assert.True(t, hasWorld(world))
}

func assertRect(t *testing.T, want, got plot.Rect, msg string) {
	t.Helper()
	assert.InDeltaSlice(t, []float32{want.X, want.Y, want.W, want.H}, []float32{got.X, got.Y, got.W, got.H}, 1e-3, msg)
}

// within reports whether r is inside b.
func within(r, b plot.Rect) bool {
	return r.X >= b.X && r.Y >= b.Y && r.Right() <= b.Right() && r.Bottom() <= b.Bottom()
}

func assertPoint(t *testing.T, want, got plot.Point, msg string) {
	t.Helper()
	assert.InDelta(t, want.X, got.X, 1e-3, msg)
	assert.InDelta(t, want.Y, got.Y, 1e-3, msg)
}

// TestSortDots: the points within the world, kinds of more points first,
// each kind's in their order.
func TestSortDots(t *testing.T) {
	v := fitWorld(&server.WorldMap{MaxX: 100, MaxY: 100}, plot.Rect{W: 100, H: 100})
	pts := []server.WorldPoint{
		{X: 1, Kind: 0}, {X: 2, Kind: 2}, {X: 3, Kind: 2}, {X: -1, Kind: 5}, {X: 4, Kind: 1},
		{X: 5, Kind: 2}, {X: 6, Kind: 1}, {X: float32(math.Inf(1)), Kind: 0}, {X: 7, Kind: 255},
	}
	var counts [256]int
	got := sortDots(nil, pts, &v, &counts)
	var xs []float32
	for _, p := range got {
		xs = append(xs, p.X)
	}
	assert.Equal(t, []float32{2, 3, 5, 4, 6, 1, 7}, xs, "asteroids, bullets, then the ship and the rare kind on top")
	assert.Equal(t, []int{1, 2, 3}, counts[:3])
	assert.Zero(t, counts[5], "out of the world")
	assert.Equal(t, 1, counts[255])
	// It reuses dst.
	counts = [256]int{}
	again := sortDots(got[:0], pts[:3], &v, &counts)
	assert.Equal(t, &got[0], &again[0])
	assert.Len(t, again, 3)
}

// renderWorld builds the world map's triangles and labels for m's latest
// snapshot, without drawing them.
func renderWorld(t *testing.T, m *Monitor) *renderer {
	t.Helper()
	r := &m.r
	r.init(&m.faces)
	r.layers[0].mesh.Reset()
	r.layers[0].labels = r.layers[0].labels[:0]
	r.cur = &r.layers[0]
	r.lay = layoutWorld(Width, Height, 0, m.worldTiles())
	require.NotZero(t, r.lay.world.W, "a world map")
	r.worldMap(r.lay.world, m, &m.faces)
	return r
}

func labelTexts(ly *layer) []string {
	var out []string
	for _, l := range ly.labels {
		out = append(out, l.s)
	}
	return out
}

// redactedSource is a fakeSource read without the server's token.
type redactedSource struct{ *fakeSource }

func (redactedSource) Redacted() bool { return true }

// TestWorldMapTriangles: the map costs a square a point, at most
// server.MaxWorldPoints of them, all within its tile; the legend counts
// the kinds; a redacted world says what it needs.
func TestWorldMapTriangles(t *testing.T) {
	monitor := func(src Source) *Monitor {
		m, err := NewMonitor(src)
		require.NoError(t, err)
		scripted(m)
		require.NoError(t, m.Update())
		return m
	}
	// Empty: the world and the views.
	m := monitor(worldSource(3, nil))
	r := renderWorld(t, m)
	assert.True(t, within(r.layers[0].mesh.Bounds(), r.lay.world), "the map within its tile")
	assert.Subset(t, labelTexts(&r.layers[0]), []string{"ship 0", "bullet 0", "asteroid 0", "views 3"})
	empty := len(r.layers[0].mesh.V)

	// Full: a square a point, the views outlined.
	src := worldSource(3, fullWorld())
	m = monitor(src)
	r = renderWorld(t, m)
	ly := &r.layers[0]
	assert.Equal(t, empty+4*server.MaxWorldPoints, len(ly.mesh.V), "4 vertices a point")
	assert.Equal(t, len(ly.mesh.V)/4*6, len(ly.mesh.I))
	assert.True(t, within(ly.mesh.Bounds(), r.lay.world), "the map %+v within its tile %+v", ly.mesh.Bounds(), r.lay.world)
	assert.Subset(t, labelTexts(ly), []string{"ship 2731", "bullet 2731", "asteroid 2730", "views 3", "6400 x 4000, 8192 points (a sample)"})

	// More than the server sends, of kinds without names, some out of
	// the world: no more squares than the bound.
	src.next(func(s *server.Snapshot) {
		s.World.Kinds = s.World.Kinds[:1]
		s.World.Points = append(s.World.Points, cluster(1000, -500, -500, 7)...)
		s.World.Points[0] = server.WorldPoint{X: -1, Y: 10, Kind: 9}
		s.World.Points[1] = server.WorldPoint{X: float32(math.NaN()), Y: 10, Kind: 9}
	})
	require.NoError(t, m.Update())
	r = renderWorld(t, m)
	assert.Equal(t, empty+4*(server.MaxWorldPoints-2), len(r.layers[0].mesh.V), "at most the bound, none out of the world")
	assert.Contains(t, labelTexts(&r.layers[0]), "ship 2730")

	// The highlighted client's view is named.
	m.cursor = 1002
	r = renderWorld(t, m)
	assert.Contains(t, labelTexts(&r.layers[0]), "bot 1")

	// Redacted: the world's size, no points, no clients.
	red := worldSource(0, nil)
	red.snap.Connections = 3
	m = monitor(redactedSource{red})
	require.True(t, m.redacted)
	r = renderWorld(t, m)
	assert.Contains(t, labelTexts(&r.layers[0]), "the map needs the admin token")
}

// TestLayoutWorldMap: the world map stands right of the plots without
// overlapping any tile at every size, and takes no room from the table;
// the close-up's replication line neither.
func TestLayoutWorldMap(t *testing.T) {
	sizes := [][2]int{{MinWidth, MinHeight}, {1024, 700}, {Width, Height}, {1600, 900}, {1920, 1080}, {2560, 1440}}
	for _, sz := range sizes {
		for bands := 0; bands <= 2; bands++ {
			l := layoutWorld(sz[0], sz[1], bands, worldTiles{worldMap: true, repl: true})
			plain := computeLayout(sz[0], sz[1], bands)
			name := fmt.Sprintf("%dx%d, %d bands", sz[0], sz[1], bands)
			W, H := float32(sz[0]), float32(sz[1])
			over := append([]plot.Rect{l.header}, l.bands...)
			over = append(over, l.plots[:]...)
			over = append(over, l.world, l.health, l.logs, l.table)
			noneOverlap(t, name+" overview", over, W, H)
			client := append([]plot.Rect{l.header}, l.bands...)
			client = append(client, l.facts, l.repl, l.footer)
			client = append(client, l.cplots[:]...)
			noneOverlap(t, name+" close-up", client, W, H)
			for i, p := range l.plots {
				assert.GreaterOrEqual(t, p.W, float32(plotMinW), "%s: plot %d wide enough", name, i)
				assert.Equal(t, plain.plots[i].H, p.H, "%s: plot %d as tall", name, i)
			}
			assert.Equal(t, l.plots[plotProfile].Y, l.world.Y, name)
			assert.Equal(t, l.plots[plotBytes].Bottom(), l.world.Bottom(), "%s: as tall as the plots", name)
			assert.Equal(t, l.table.Right(), l.world.Right(), "%s: the right edge of the table", name)
			a := worldArea(l.world)
			assert.True(t, inside(a, W, H) && a.W >= 200 && a.H >= 150, "%s: the world's room %+v", name, a)
			assert.Equal(t, plain.table, l.table, "%s: the table keeps its place", name)
			assert.Equal(t, plain.rows, l.rows, name)
			for i, p := range l.cplots {
				assert.Greater(t, plotArea(p).H, float32(60), "%s: client plot %d tall enough", name, i)
			}
		}
	}
	// Without a world nothing moves.
	l := layoutWorld(Width, Height, 0, worldTiles{})
	assert.Equal(t, computeLayout(Width, Height, 0), l)
	assert.Zero(t, l.world)
	assert.Zero(t, l.repl)
}

// mapColor counts the pixels of color c in screen rectangle q.
func mapColor(img *image.RGBA, q plot.Rect, c plot.Color) int { return count(img, q, c, 2) }

// TestWorldMapDraws shows the monitor of a game's world in the window:
// points are where the world has them, in their kind's color; the views
// are outlined, the highlighted one brighter; a full and a redacted
// world draw too.
func TestWorldMapDraws(t *testing.T) {
	w := guitest.Get(t, win)
	pal := defaultPalette()
	// Asteroids in the world's bottom left, a few bullets top right.
	pts := append(cluster(400, 500, 3000, 2), cluster(25, 5500, 300, 1)...)
	src := worldSource(4, pts)
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	defer w.Show(m)()
	img := captureLoaded(t, w, m)
	savePNG(t, img, "monitor-world")
	l := layoutWorld(img.Bounds().Dx(), img.Bounds().Dy(), 0, worldTiles{worldMap: true, repl: true})
	v := fitWorld(&src.snap.World, worldArea(l.world))
	box := func(x0, y0, x1, y1 float64) plot.Rect {
		a, b := v.point(x0, y0), v.point(x1, y1)
		return plot.Rect{X: a.X - 2, Y: a.Y - 2, W: b.X - a.X + 4, H: b.Y - a.Y + 4}
	}
	asteroids, bullets := box(500, 3000, 700, 3200), box(5500, 300, 5550, 350)
	assert.Greater(t, mapColor(img, asteroids, pal.kindColor(2)), int(asteroids.W*asteroids.H/2), "asteroids")
	assert.Greater(t, mapColor(img, bullets, pal.kindColor(1)), 10, "bullets")
	assert.Zero(t, mapColor(img, v.at, pal.kindColor(0)), "no ships (but in the legend)")
	assert.Zero(t, mapColor(img, asteroids, pal.kindColor(1)), "no bullets among the asteroids")
	// No points elsewhere: the middle of the world is empty.
	mid := box(2000, 1200, 4000, 2600)
	assert.Zero(t, mapColor(img, mid, pal.kindColor(1))+mapColor(img, mid, pal.kindColor(2)))
	// The views: client i's at column i of the top row, outlined.
	view := func(i int) plot.Rect { return v.area(800+1600*float64(i), 500, 800, 500) }
	// edge is the rows about the top edge of a view.
	edge := func(r plot.Rect) plot.Rect { return plot.Rect{X: r.X, Y: r.Y - 1, W: r.W, H: 4} }
	for i := range 4 {
		assert.Greater(t, mapColor(img, edge(view(i)), pal.Axis), int(view(i).W*0.8), "view %d outlined", i)
	}
	// The table has the replication's columns: a page of 4 rows.
	assert.Equal(t, 4, rowsDrawn(img))

	// The third client highlighted: its view bright, named.
	press(t, w, in, ebiten.KeyDown, ebiten.KeyDown, ebiten.KeyDown)
	img = capture(t, m)
	savePNG(t, img, "monitor-world-selected")
	assert.Greater(t, mapColor(img, edge(view(2)), pal.Text), int(view(2).W*1.6), "the highlighted view")
	assert.Zero(t, mapColor(img, edge(view(1)), pal.Text), "the others dim")
	w.Between(func() { assert.Contains(t, labelTexts(&m.r.layers[0]), "bot 2") })

	// Its close-up: the replication line.
	press(t, w, in, ebiten.KeyEnter)
	img = capture(t, m)
	savePNG(t, img, "monitor-world-client")
	assert.Greater(t, bright(img, l.repl), 300, "the replication line")
	w.Between(func() {
		assert.Contains(t, labelTexts(&m.r.layers[0]), "12 in view   2 waiting (oldest 80ms)   snapshot 102/266 B   holds 4.1kB   view 1600x1000 at 4000,500")
	})
	press(t, w, in, ebiten.KeyEscape)

	// Full: every point drawn, in one mesh.
	src.next(func(s *server.Snapshot) { s.World.Points = fullWorld() })
	require.Eventually(t, inWindow(w, func() bool { return len(m.snap.World.Points) == server.MaxWorldPoints }), 10*time.Second, 10*time.Millisecond)
	img = capture(t, m)
	savePNG(t, img, "monitor-world-full")
	a := v.at
	for k := range uint8(3) {
		assert.Greater(t, mapColor(img, a, pal.kindColor(k)), 1000, "kind %d", k)
	}
	assert.Greater(t, mapColor(img, mid, pal.kindColor(0)), 50, "points in the middle too")
}

// TestWorldMapRedacted: read without a token, the map shows the world's
// size and says what it needs.
func TestWorldMapRedacted(t *testing.T) {
	w := guitest.Get(t, win)
	src := worldSource(0, nil)
	src.snap.Connections = 3
	m, err := NewMonitor(redactedSource{src})
	require.NoError(t, err)
	scripted(m)
	defer w.Show(m)()
	img := captureLoaded(t, w, m)
	savePNG(t, img, "monitor-world-redacted")
	l := layoutWorld(img.Bounds().Dx(), img.Bounds().Dy(), 0, worldTiles{worldMap: true})
	v := fitWorld(&src.snap.World, worldArea(l.world))
	center := plot.Rect{X: v.at.X + v.at.W/2 - 90, Y: v.at.Y + v.at.H/2 - 22, W: 180, H: 40}
	assert.Greater(t, count(img, center, defaultPalette().Dim, 40), 50, "'the map needs the admin token'")
	w.Between(func() {
		assert.Contains(t, labelTexts(&m.r.layers[0]), "the map needs the admin token")
		assert.Equal(t, titles(columns()), titles(m.cols), "no clients: no replication columns")
	})
}

// worldEcho is the echo game reporting a fixed world: a view a client,
// 300 asteroids.
type worldEcho struct{ *echo.Handler }

func (worldEcho) ReportPeer(p *server.Peer, w *server.PeerWorld) bool {
	*w = server.PeerWorld{InView: 7, Waiting: 2, OldestWait: 120 * time.Millisecond, Bytes: 109, Budget: 266, Memory: 4096,
		X: 1000, Y: 800, HalfW: 800, HalfH: 500}
	return true
}

func (worldEcho) ReportWorld(m *server.WorldMap) {
	m.MinX, m.MinY, m.MaxX, m.MaxY = 0, 0, worldW, worldH
	m.Kinds = append(m.Kinds[:0], "ship", "bullet", "asteroid")
	m.Points = append(m.Points, cluster(300, 4000, 2000, 2)...)
}

// worldServer runs an echo server that reports worldEcho's world, its
// admin API on loopback (read token read), until the test ends.
func worldServer(t *testing.T, read string) (*server.Server, *conn.PrivateKey, string) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: worldEcho{echo.NewHandler(nil)}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	h, err := admin.NewHandler(admin.NewLocal(srv, nil, nil), admin.HandlerConfig{ReadToken: read})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return srv, root, hs.URL
}

// TestWorldInProcessAndAttached: the replication of a game in this
// process and over the admin API, with the read token and without.
func TestWorldInProcessAndAttached(t *testing.T) {
	const read = "read-token-0123456789abcdef"
	srv, root, url := worldServer(t, read)
	stop := make(chan struct{})
	wg := trafficTo(t, srv.Addr().String(), root.Public(), 2, stop)
	defer func() { close(stop); wg.Wait() }()

	check := func(t *testing.T, m *Monitor) {
		t.Helper()
		assert.Equal(t, worldTiles{worldMap: true, repl: true}, m.worldTiles())
		assert.Equal(t, []string{"in view", "bytes/budget", "waiting"}, titles(m.cols[len(m.cols)-3:]))
		for i := range m.rows {
			assert.Equal(t, "109/266", m.cols[col(t, m.cols, "bytes/budget")].text(&m.rows[i]))
			assert.Equal(t, "2 (120ms)", m.cols[col(t, m.cols, "waiting")].text(&m.rows[i]))
		}
		assert.Len(t, m.snap.World.Points, 300)
		assert.Equal(t, []string{"ship", "bullet", "asteroid"}, m.snap.World.Kinds)
	}
	t.Run("in process", func(t *testing.T) {
		m, err := NewMonitor(admin.NewLocal(srv, nil, nil))
		require.NoError(t, err)
		scripted(m)
		require.Eventually(t, func() bool {
			require.NoError(t, m.Update())
			return len(m.rows) == 2 && m.worldCol && len(m.snap.World.Points) > 0
		}, 30*time.Second, 10*time.Millisecond, "the monitor never showed the world")
		check(t, m)
	})
	t.Run("attached", func(t *testing.T) {
		w := guitest.Get(t, win)
		m, _, in := attach(t, w, url, read)
		require.Eventually(t, inWindow(w, func() bool {
			return len(m.rows) == 2 && m.worldCol && len(m.snap.World.Points) > 0
		}), 60*time.Second, 20*time.Millisecond, "the attached monitor never showed the world")
		w.Between(func() { check(t, m) })
		img := capture(t, m)
		savePNG(t, img, "monitor-world-attached")
		pal := defaultPalette()
		l := layoutWorld(img.Bounds().Dx(), img.Bounds().Dy(), 0, worldTiles{worldMap: true, repl: true})
		v := fitWorld(&server.WorldMap{MaxX: worldW, MaxY: worldH}, worldArea(l.world))
		a, b := v.point(4000, 2000), v.point(4170, 2140)
		rocks := plot.Rect{X: a.X - 2, Y: a.Y - 2, W: b.X - a.X + 4, H: b.Y - a.Y + 4}
		assert.Greater(t, count(img, rocks, pal.kindColor(2), 2), int(rocks.W*rocks.H/3), "the asteroids")
		view := v.area(1000, 800, 800, 500)
		edge := plot.Rect{X: view.X, Y: view.Y - 1, W: view.W, H: 4}
		assert.Greater(t, count(img, edge, pal.Axis, 2), int(view.W*0.8), "the clients' views")
		press(t, w, in, ebiten.KeyDown, ebiten.KeyEnter)
		img = capture(t, m)
		assert.Greater(t, bright(img, l.repl), 300, "the replication line")
		w.Between(func() {
			assert.True(t, slices.ContainsFunc(labelTexts(&m.r.layers[0]), func(s string) bool {
				return strings.HasPrefix(s, "7 in view   2 waiting (oldest 120ms)   snapshot 109/266 B   holds 4.1kB")
			}), "the replication line")
		})
	})
	t.Run("without token", func(t *testing.T) {
		w := guitest.Get(t, win)
		m, remote, _ := attach(t, w, url, "")
		require.Eventually(t, inWindow(w, func() bool { return m.redacted && hasWorld(&m.snap.World) && m.snap.Connections == 2 }),
			60*time.Second, 20*time.Millisecond)
		assert.True(t, remote.Redacted())
		capture(t, m)
		w.Between(func() {
			assert.Empty(t, m.snap.World.Points)
			assert.Empty(t, m.rows)
			assert.Equal(t, worldTiles{worldMap: true}, m.worldTiles())
			assert.Contains(t, labelTexts(&m.r.layers[0]), "the map needs the admin token")
		})
	})
}
