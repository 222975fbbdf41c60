package game

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// TestCamera: the camera centers on the point it follows but never shows
// beyond the walls; in the classic scene (and before the scene is known)
// it stays at the world's center, where the world fills the window
// exactly as it did before there were cameras.
func TestCamera(t *testing.T) {
	classic := sim.Classic().Bounds
	for _, p := range [][2]float64{{0, 0}, {800, 500}, {1600, 1000}, {37, 912}, {-500, 5000}} {
		c := cameraFor(classic, p[0], p[1])
		assert.Equal(t, camera{800, 500}, c, "classic, following %v", p)
		for _, w := range [][2]float64{{0, 0}, {1600, 1000}, {123.5, 987.25}} {
			x, y := c.screen(w[0], w[1])
			assert.InDelta(t, w[0]*Scale, x, 1e-9)
			assert.InDelta(t, w[1]*Scale, y, 1e-9)
		}
	}
	assert.Equal(t, classic, bounds(player.View{}), "before the scene is known")

	b := sim.Battle().Bounds
	for _, tc := range []struct{ follow, want [2]float64 }{
		{[2]float64{3200, 2000}, [2]float64{3200, 2000}}, // inside: centered on it
		{[2]float64{1000, 1234}, [2]float64{1000, 1234}},
		{[2]float64{0, 0}, [2]float64{800, 500}}, // a corner: clamped
		{[2]float64{-50, 4100}, [2]float64{800, 3500}},
		{[2]float64{6400, 2000}, [2]float64{5600, 2000}},
		{[2]float64{6000, 100}, [2]float64{5600, 500}},
	} {
		c := cameraFor(b, tc.follow[0], tc.follow[1])
		assert.Equal(t, camera{tc.want[0], tc.want[1]}, c, "following %v", tc.follow)
	}
	// Wherever it follows, the view stays within the world, and the
	// followed point, when in the world, is on screen.
	for y := -100.0; y <= b.Height+100; y += 50 {
		for x := -100.0; x <= b.Width+100; x += 50 {
			c := cameraFor(b, x, y)
			x0, y0, x1, y1 := c.view()
			require.True(t, x0 >= 0 && y0 >= 0 && x1 <= b.Width && y1 <= b.Height, "view of %v,%v beyond the walls", x, y)
			require.InDelta(t, viewW, x1-x0, 1e-9)
			require.InDelta(t, viewH, y1-y0, 1e-9)
			if x >= 0 && y >= 0 && x <= b.Width && y <= b.Height {
				sx, sy := c.screen(x, y)
				require.True(t, sx >= 0 && sx <= Width && sy >= 0 && sy <= Height, "%v,%v off screen at %v,%v", x, y, sx, sy)
				require.True(t, c.visible(x, y, 0))
			}
		}
	}
	// A world wider than the window but not taller follows along x only.
	c := cameraFor(sim.Bounds{Width: 3000, Height: 800}, 2900, 10)
	assert.Equal(t, camera{2200, 400}, c)

	// visible: a disc shows while any part of it is in the view.
	c = cameraFor(b, 3200, 2000)
	assert.True(t, c.visible(2400-10, 2000, 11))
	assert.False(t, c.visible(2400-10, 2000, 9))
	assert.False(t, c.visible(3200, 2500+61, 60))
	assert.True(t, c.visible(3200, 2500+59, 60))
}

// TestParallax: the stars stay put in the classic scene and move slower
// than the world, wrapping around, when the camera moves.
func TestParallax(t *testing.T) {
	classic := sim.Classic().Bounds
	c := cameraFor(classic, 10, 10)
	x, y := parallax(c, classic, 100, 700, 0.5)
	assert.Equal(t, [2]float64{100, 700}, [2]float64{x, y})

	b := sim.Battle().Bounds
	c0 := cameraFor(b, 3200, 2000)
	c1 := cameraFor(b, 3300, 2000)
	x0, _ := parallax(c0, b, 640, 400, 0.5)
	x1, _ := parallax(c1, b, 640, 400, 0.5)
	assert.InDelta(t, -100*Scale*0.5, x1-x0, 1e-9, "half as fast as the world")
	for _, cam := range []camera{{800, 500}, {5600, 3500}, {1234, 2345}} {
		x, y := parallax(cam, b, 5, 795, 0.9)
		assert.True(t, x >= 0 && x < Width && y >= 0 && y < Height, "wrapped into the window: %v,%v", x, y)
	}
}

// TestMinimap: no minimap in the classic scene; in the battle scene one
// with the world's shape in the bottom left corner, clear of every
// panel, mapping the world's corners to its own and the window's view to
// a rectangle inside it.
func TestMinimap(t *testing.T) {
	_, ok := minimapRect(sim.Classic().Bounds)
	assert.False(t, ok, "classic: the whole world is on screen")
	_, ok = minimapRect(sim.Bounds{})
	assert.False(t, ok)

	g, err := newWindow(Options{})
	require.NoError(t, err)
	b := sim.Battle().Bounds
	r, ok := minimapRect(b)
	require.True(t, ok)
	assert.LessOrEqual(t, r.W, float32(minimapMaxW))
	assert.LessOrEqual(t, r.H, float32(minimapMaxH))
	assert.InDelta(t, b.Width/b.Height, float64(r.W/r.H), 1e-3, "the world's shape")
	assert.True(t, r.X >= 0 && r.Y >= 0 && r.Right() <= Width && r.Bottom() <= Height-30, "inside the window, above the help line: %+v", r)

	// The largest panels: a full kill feed with long names, a full score
	// board with the local player below it, the overlay.
	v := player.View{Scene: sim.Battle()}
	for i := range 8 {
		v.Kills = append(v.Kills, player.Kill{Killer: fmt.Sprintf("a-rather-long-name-%d", i), Victim: "another-long-name"})
	}
	for i := range 256 {
		v.Players = append(v.Players, player.Standing{ID: uint32(i + 1), Name: fmt.Sprintf("player-with-a-long-name-%03d", i), Score: 1000 - i, Deaths: 999, Asteroids: 999, Local: i == 200})
	}
	for _, panel := range []plot.Rect{g.killFeedRect(v), g.scoreBoardRect(v), overlayRect()} {
		assert.False(t, overlaps(r, panel), "the minimap %+v covers %+v", r, panel)
	}

	// Corners to corners, and outside points kept inside.
	x, y := minimapPoint(r, b, 0, 0)
	assert.Equal(t, [2]float32{r.X, r.Y}, [2]float32{x, y})
	x, y = minimapPoint(r, b, b.Width, b.Height)
	assert.InDelta(t, r.Right(), x, 1e-3)
	assert.InDelta(t, r.Bottom(), y, 1e-3)
	x, y = minimapPoint(r, b, b.Width/2, b.Height/4)
	assert.InDelta(t, r.X+r.W/2, x, 1e-3)
	assert.InDelta(t, r.Y+r.H/4, y, 1e-3)
	x, y = minimapPoint(r, b, -100, b.Height+100)
	assert.Equal(t, [2]float32{r.X, r.Bottom()}, [2]float32{x, y})

	// The view: a quarter of the world's width and height (one classic
	// arena of 4 by 4), inside the minimap wherever the camera is.
	for _, follow := range [][2]float64{{0, 0}, {3200, 2000}, {6400, 4000}, {4000, 300}} {
		vr := minimapView(r, b, cameraFor(b, follow[0], follow[1]))
		assert.InDelta(t, r.W/4, vr.W, 1e-3)
		assert.InDelta(t, r.H/4, vr.H, 1e-3)
		assert.True(t, vr.X >= r.X-1e-3 && vr.Y >= r.Y-1e-3 && vr.Right() <= r.Right()+1e-3 && vr.Bottom() <= r.Bottom()+1e-3, "view %+v in %+v", vr, r)
	}
	vr := minimapView(r, b, cameraFor(b, 3200, 2000))
	assert.InDelta(t, r.X+r.W*3/8, vr.X, 1e-3, "centered")

	// The mesh: the local player's dot and ring are drawn last.
	var m plot.Mesh
	v.Players[200].Alive = true
	minimapMesh(&m, r, v, cameraFor(b, 3200, 2000), g.plotPal)
	bb := m.Bounds()
	assert.True(t, bb.X >= r.X-4 && bb.Right() <= r.Right()+4 && bb.Y >= r.Y-4 && bb.Bottom() <= r.Bottom()+4, "the minimap draws inside its rectangle: %+v", bb)
}

// TestBoardRows: the score board lists the best ten players, best first,
// and the local player after them with its rank when it is lower; it
// makes do with the ships in view before the view lists the players.
func TestBoardRows(t *testing.T) {
	v := player.View{Scene: sim.Battle()}
	for i := range 256 {
		// Given in no order: the board sorts by score, then fewest deaths.
		v.Players = append(v.Players, player.Standing{ID: uint32(i + 1), Name: fmt.Sprintf("p%d", i), Score: (i * 37) % 256, Deaths: i % 5})
	}
	local := func(score int) {
		for i := range v.Players {
			v.Players[i].Local = v.Players[i].Score == score
		}
	}
	local(3)
	rows := boardRows(v)
	require.Len(t, rows, boardTop10+1)
	for i, r := range rows[:boardTop10] {
		assert.Equal(t, 255-i, r.Score)
		assert.Equal(t, i+1, r.Rank)
		assert.False(t, r.Local)
	}
	assert.True(t, rows[boardTop10].Local)
	assert.Equal(t, 253, rows[boardTop10].Rank)
	assert.Equal(t, fmt.Sprintf("253. %s", rows[boardTop10].Name), boardName(rows[boardTop10]))
	assert.Equal(t, rows[0].Name, boardName(rows[0]))

	local(250) // in the top ten: no extra row
	rows = boardRows(v)
	require.Len(t, rows, boardTop10)
	assert.True(t, rows[5].Local)

	local(-1) // a spectator: the top ten alone
	assert.Len(t, boardRows(v), boardTop10)

	// Ties on score: fewer deaths first, then the view's order.
	v = player.View{Players: []player.Standing{
		{Name: "a", Score: 2, Deaths: 3}, {Name: "b", Score: 2, Deaths: 1}, {Name: "c", Score: 5, Deaths: 9}, {Name: "d", Score: 2, Deaths: 1},
	}}
	var names []string
	for _, r := range boardRows(v) {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"c", "b", "d", "a"}, names)

	// Before the players are known: the ships.
	v = player.View{Ships: []player.Ship{{ID: 1, Name: "me", Score: 1, Local: true, Alive: true}, {ID: 2, Name: "you", Score: 4}}}
	rows = boardRows(v)
	require.Len(t, rows, 2)
	assert.Equal(t, "you", rows[0].Name)
	assert.True(t, rows[1].Local)

	// The numbers: the asteroids only in a scene with asteroids.
	s := player.Standing{Score: 7, Deaths: 2, Asteroids: 11}
	assert.Equal(t, []string{"7      2"}, boardNumbers(s, false))
	assert.Equal(t, []string{"7", "2", "11"}, boardNumbers(s, true))
	for _, rk := range []bool{false, true} {
		assert.Len(t, boardHeader(rk), len(boardColumns(rk)))
		assert.Len(t, boardNumbers(s, rk), len(boardColumns(rk)))
	}
	assert.False(t, rocks(player.View{Scene: sim.Classic()}))
	assert.True(t, rocks(player.View{Scene: sim.Battle()}))
}

// TestScoreBoardRectHoldsTheRows: the board's rectangle, from its rows,
// is as tall as its bounded rows and as wide as their names and numbers.
func TestScoreBoardRectHoldsTheRows(t *testing.T) {
	g, err := newWindow(Options{})
	require.NoError(t, err)
	v := player.View{Scene: sim.Battle()}
	for i := range 256 {
		v.Players = append(v.Players, player.Standing{ID: uint32(i + 1), Name: fmt.Sprintf("p%d", i), Score: 300 - i, Local: i == 255})
	}
	v.Players[255].Name = "a-very-long-local-name"
	r := g.scoreBoardRect(v)
	lineH := g.face.Metrics().HAscent + g.face.Metrics().HDescent
	assert.GreaterOrEqual(t, r.Bottom(), float32(boardTop+11*boardRowH+lineH))
	assert.Less(t, r.Bottom(), float32(boardTop+12*boardRowH+lineH), "11 rows, not 256")
	w, _ := text.Measure("256. a-very-long-local-name", g.face, 0)
	assert.LessOrEqual(t, r.X, float32(boardRight-boardGap(true)-w))
	// The columns do not run into each other nor into the names, with
	// numbers of four digits.
	cols := boardColumns(true)
	big := boardNumbers(player.Standing{Score: 9999, Deaths: 9999, Asteroids: 9999}, true)
	head := boardHeader(true)
	left := boardGap(true)
	for i := range cols {
		nw, _ := text.Measure(big[i], g.face, 0)
		hw, _ := text.Measure(head[i], g.small, 0)
		assert.Less(t, cols[i]+max(nw, hw)+4, left, "column %d", i)
		left = cols[i]
	}
}

// TestRockOutline: an asteroid's outline is its own, the same every time,
// irregular but round enough to stand for its disc.
func TestRockOutline(t *testing.T) {
	shapes := map[string]bool{}
	for id := uint32(1); id <= 200; id++ {
		a := rockOutline(nil, id)
		assert.Equal(t, a, rockOutline(nil, id), "deterministic")
		require.GreaterOrEqual(t, len(a), rockMinSides)
		require.LessOrEqual(t, len(a), rockMaxSides)
		step := 2 * math.Pi / float64(len(a))
		for i, p := range a {
			r := math.Hypot(float64(p.X), float64(p.Y))
			require.True(t, r >= 0.72-1e-6 && r <= 1+1e-6, "id %d: corner at %v", id, r)
			// Corner i is near the i-th of len(a) even angles: the
			// outline goes around once, without folding.
			off := math.Remainder(math.Atan2(float64(p.Y), float64(p.X))-float64(i)*step, 2*math.Pi)
			require.LessOrEqual(t, math.Abs(off), 0.3*step+1e-6, "id %d corner %d", id, i)
		}
		shapes[fmt.Sprint(a)] = true
	}
	assert.Greater(t, len(shapes), 190, "asteroids look different")
}

// TestRockMesh: the mesh of an asteroid covers its disc on screen, and a
// damaged one is darker, with cracks.
func TestRockMesh(t *testing.T) {
	c := cameraFor(sim.Battle().Bounds, 3200, 2000)
	a := player.Asteroid{ID: 7, X: 3300, Y: 1900, Radius: 50, Angle: 1, HP: 4, MaxHP: 4}
	var whole, hit plot.Mesh
	rockMesh(&whole, nil, a, c)
	a.HP = 1
	rockMesh(&hit, nil, a, c)
	sx, sy := c.screen(a.X, a.Y)
	bb := whole.Bounds()
	r := float32(a.Radius * Scale)
	assert.InDelta(t, sx, float64(bb.X+bb.W/2), float64(r)*0.3)
	assert.InDelta(t, sy, float64(bb.Y+bb.H/2), float64(r)*0.3)
	assert.True(t, bb.W >= r*1.4 && bb.W <= 2*r+4, "%v wide for radius %v", bb.W, r)
	assert.Greater(t, len(hit.V), len(whole.V), "cracks")
	assert.Less(t, hit.V[0].C.R, whole.V[0].C.R, "darker")
	for _, i := range whole.I {
		require.Less(t, int(i), len(whole.V))
	}
}

// TestReplicationLine: the overlay's replication line, and the snapshot
// rate measured from the replication's counters.
func TestReplicationLine(t *testing.T) {
	var m netMeter
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		m.sample(t0.Add(time.Duration(i)*100*time.Millisecond), conn.Stats{}, player.Replication{Snapshots: uint64(i * 2), Bytes: uint64(i * 500)})
	}
	snaps, bytes := m.snapshotRate()
	assert.InDelta(t, 20, snaps, 1e-9)
	assert.InDelta(t, 5000, bytes, 1e-9)
	assert.Equal(t, "entities 312   delay 100 ms   snapshots 40.0 kbit/s",
		replicationLine(player.Replication{Entities: 312, Delay: 100 * time.Millisecond}, bytes))
	// A new connection starts its counters again: no negative rate.
	m.sample(t0.Add(3*time.Second), conn.Stats{}, player.Replication{})
	snaps, bytes = m.snapshotRate()
	assert.Zero(t, snaps)
	assert.Zero(t, bytes)
	var empty netMeter
	snaps, bytes = empty.snapshotRate()
	assert.Zero(t, snaps+bytes)

	g, err := newWindow(Options{})
	require.NoError(t, err)
	w, _ := text.Measure(replicationLine(player.Replication{Entities: 99999, Delay: 999 * time.Millisecond}, 999999), g.small, 0)
	assert.Less(t, w, float64(overlayRect().W-24), "fits in the overlay")
}

// frameGame shows a Game's drawing of a fixed view, rendered offscreen.
type frameGame struct {
	g    *Game
	v    player.View
	off  *ebiten.Image
	done chan *image.RGBA
}

func (f *frameGame) Update() error              { return nil }
func (f *frameGame) Layout(int, int) (int, int) { return Width, Height }
func (f *frameGame) Draw(screen *ebiten.Image) {
	if f.off == nil {
		f.off = ebiten.NewImage(Width, Height)
	}
	f.g.drawFrame(f.off, f.v, time.Now())
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	f.off.ReadPixels(img.Pix)
	screen.DrawImage(f.off, nil)
	select {
	case f.done <- img:
	default:
	}
}

// render draws v with g offscreen, in the test window's game loop.
func render(t *testing.T, w *guitest.Window, g *Game, v player.View) *image.RGBA {
	t.Helper()
	f := &frameGame{g: g, v: v, done: make(chan *image.RGBA, 1)}
	defer w.Show(f)()
	select {
	case img := <-f.done:
		return img
	case <-time.After(10 * time.Second):
		t.Fatal("no frame drawn within 10 s")
		return nil
	}
}

// TestDrawBattle renders a battle view: asteroids where the camera puts
// them, ships and bullets, the minimap with the local player, a bounded
// score board; and the world's wall at the window's edge when the camera
// is clamped.
func TestDrawBattle(t *testing.T) {
	w := guitest.Get(t, win)
	g, err := newWindow(Options{})
	require.NoError(t, err)
	g.overlay = false
	v := player.View{Scene: sim.Battle(), CamX: 3200, CamY: 2000}
	cam := cameraFor(bounds(v), v.CamX, v.CamY)
	v.Ships = []player.Ship{
		{ID: 1, X: 3200, Y: 2000, Alive: true, Local: true, Name: "me", Color: 3},
		{ID: 2, X: 3500, Y: 2200, Angle: 2, Alive: true, Thrust: true, Name: "foe", Color: 1},
	}
	v.Bullets = []player.Bullet{{Owner: 77, X: 3300, Y: 2050}}
	for i := range 256 {
		p := player.Standing{ID: uint32(i + 1), Name: fmt.Sprintf("p%d", i), Score: 500 - i, Color: uint8(i % 12),
			X: float64(i%16) * 400, Y: float64(i/16) * 250, Alive: true}
		switch p.ID {
		case 1:
			p.Name, p.Local, p.X, p.Y, p.Color, p.Score = "me", true, 3200, 2000, 3, 1
		case 2:
			p.Name, p.X, p.Y, p.Color = "foe", 3500, 2200, 1
		}
		v.Players = append(v.Players, p)
	}
	// About 150 asteroids in view, one of them big, damaged and apart at
	// a known place.
	big := player.Asteroid{ID: 9999, X: 2700, Y: 1700, Radius: 60, Angle: 0.3, HP: 2, MaxHP: 5}
	v.Asteroids = append(v.Asteroids, big)
	for i := range 150 {
		x := 2450 + float64(i%15)*105
		y := 1550 + float64(i/15)*95
		if math.Hypot(x-big.X, y-big.Y) < 140 || math.Hypot(x-3200, y-2000) < 100 {
			continue
		}
		v.Asteroids = append(v.Asteroids, player.Asteroid{ID: uint32(i + 1), X: x, Y: y, Radius: 18 + float64(i%5)*6, Angle: float64(i), HP: 1 + i%3, MaxHP: 3})
	}
	start := time.Now()
	img := render(t, w, g, v)
	t.Logf("drew %d asteroids in view (frame within %v)", len(v.Asteroids), time.Since(start))
	save(t, img, "arena-battle")

	empty := v
	empty.Asteroids = nil
	bare := render(t, w, g, empty)

	// The big asteroid: rock-colored pixels around its center, none
	// without it.
	bx, by := cam.screen(big.X, big.Y)
	rock := func(img *image.RGBA) int {
		n := 0
		for py := int(by - 30); py <= int(by+30); py++ {
			for px := int(bx - 30); px <= int(bx+30); px++ {
				o := img.PixOffset(px, py)
				r, gg, b := int(img.Pix[o]), int(img.Pix[o+1]), int(img.Pix[o+2])
				if r > 25 && r >= b && gg >= b-4 && r-b < 60 { // grayish brown, not the blue-black sky
					n++
				}
			}
		}
		return n
	}
	assert.Greater(t, rock(img), 61*61*3/4, "the asteroid fills its disc")
	assert.Less(t, rock(bare), 61*61/20, "no asteroid, no rock")

	// The ships in their colors where the camera puts them.
	pal := Palette()
	for _, s := range v.Ships {
		sx, sy := cam.screen(s.X, s.Y)
		assert.Greater(t, near(img, sx, sy, 20, pal[s.Color], 12), 15, "ship %s", s.Name)
	}

	// The minimap: its frame, and the local player's white ring.
	r, ok := minimapRect(bounds(v))
	require.True(t, ok)
	lx, ly := minimapPoint(r, bounds(v), 3200, 2000)
	assert.Greater(t, near(img, float64(lx), float64(ly), 4, color.RGBA{255, 255, 255, 255}, 10), 5, "the local player on the minimap")
	assert.Zero(t, near(bare, float64(lx), float64(ly)+30, 2, color.RGBA{255, 255, 255, 255}, 10), "nothing white elsewhere")
	frame := 0
	for x := int(r.X); x < int(r.Right()); x++ {
		o := img.PixOffset(x, int(r.Y))
		if abs(int(img.Pix[o])-64) < 10 && abs(int(img.Pix[o+2])-115) < 10 {
			frame++
		}
	}
	assert.Greater(t, frame, int(r.W*0.9), "the minimap's frame")

	// The score board: 10 rows and no more (256 players, the local one
	// in the top ten would add none; here it is last).
	br := g.scoreBoardRect(v)
	assert.Less(t, br.Bottom(), float32(boardTop+13*boardRowH))

	// Clamped at the top left corner: the walls at the window's edges.
	v.CamX, v.CamY = 0, 0
	img = render(t, w, g, v)
	wall := 0
	for y := 100; y < Height-100; y++ {
		o := img.PixOffset(0, y)
		if abs(int(img.Pix[o])-64) < 10 && abs(int(img.Pix[o+2])-115) < 10 {
			wall++
		}
	}
	assert.Greater(t, wall, (Height-200)*9/10, "the left wall")
	// The classic scene: no minimap.
	cl := player.View{Ships: []player.Ship{{ID: 1, X: 800, Y: 500, Alive: true, Local: true, Name: "me", Color: 3}}}
	img = render(t, w, g, cl)
	frame = 0
	for x := int(r.X); x < int(r.Right()); x++ {
		o := img.PixOffset(x, int(r.Y))
		if abs(int(img.Pix[o])-64) < 10 && abs(int(img.Pix[o+2])-115) < 10 {
			frame++
		}
	}
	assert.Less(t, frame, 10, "no minimap in the classic scene")
	assert.Greater(t, near(img, 800*Scale, 500*Scale, 20, pal[3], 12), 15, "the classic ship where it always was")
}

// BenchmarkDrawMeshes: the meshes of a battle frame, 150 asteroids and
// the minimap of 256 players, as built each frame.
func BenchmarkDrawMeshes(b *testing.B) {
	c := cameraFor(sim.Battle().Bounds, 3200, 2000)
	var as []player.Asteroid
	for i := range 150 {
		as = append(as, player.Asteroid{ID: uint32(i), X: 2500 + float64(i%15)*100, Y: 1600 + float64(i/15)*90, Radius: 40, HP: 1 + i%3, MaxHP: 3})
	}
	var ps []player.Standing
	for i := range 256 {
		ps = append(ps, player.Standing{X: float64(i * 20), Y: float64(i * 13), Alive: true, Local: i == 3})
	}
	v := player.View{Scene: sim.Battle(), Asteroids: as, Players: ps}
	r, _ := minimapRect(bounds(v))
	pal := []plot.Color{{R: 1, A: 1}}
	var m plot.Mesh
	var pts []plot.Point
	for b.Loop() {
		m.Reset()
		for _, a := range as {
			pts = rockMesh(&m, pts, a, c)
		}
		minimapMesh(&m, r, v, c, pal)
	}
}

// TestDrawBeams renders laser beams: the local ship's white, another's in
// red, each along its line and no further, and the overlay's laser line.
func TestDrawBeams(t *testing.T) {
	w := guitest.Get(t, win)
	g, err := newWindow(Options{})
	require.NoError(t, err)
	g.overlay = false
	at := time.Now().Add(time.Hour) // fully lit, however long the frame takes
	v := player.View{Scene: sim.Classic(), CamX: 800, CamY: 500}
	v.Ships = []player.Ship{{ID: 1, X: 400, Y: 500, Alive: true, Local: true, Name: "me", Color: 3}}
	v.Beams = []player.Beam{
		{X: 400, Y: 500, Angle: 0, Length: 600, Local: true, Hit: true, At: at},
		{X: 1200, Y: 100, Angle: math.Pi / 2, Length: 300, At: at},
	}
	img := render(t, w, g, v)
	save(t, img, "arena-beams")
	cam := cameraFor(bounds(v), v.CamX, v.CamY)
	white, red := color.RGBA{255, 255, 255, 255}, color.RGBA{255, 89, 89, 255}
	for _, d := range []float64{150, 300, 450} {
		x, y := cam.screen(400+d, 500)
		assert.Positive(t, near(img, x, y, 3, white, 30), "the local beam %v along", d)
	}
	x, y := cam.screen(1100, 500) // past its end
	assert.Zero(t, near(img, x, y, 3, white, 30), "the local beam stops at its length")
	for _, d := range []float64{50, 150, 250} {
		x, y := cam.screen(1200, 100+d)
		assert.Positive(t, near(img, x, y, 3, red, 40), "the other beam %v along", d)
	}
	x, y = cam.screen(1200, 500)
	assert.Zero(t, near(img, x, y, 3, red, 40), "the other beam stops at its length")

	assert.Equal(t, "laser (X): no shot yet", laserLine(player.Lasers{}))
	assert.Equal(t, "laser hits 9/10 taken  rewind 287 ms capped",
		laserLine(player.Lasers{Verdicts: 10, Seen: 10, Registered: 9, Rewind: 287 * time.Millisecond, LastCapped: true}))
	wd, _ := text.Measure(laserLine(player.Lasers{Verdicts: 9999, Seen: 9999, Registered: 9999, Rewind: 9999 * time.Millisecond, LastCapped: true}), g.small, 0)
	assert.Less(t, wd, float64(overlayRect().W-24), "fits in the overlay")
}
