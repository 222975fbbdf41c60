package game

import (
	"math"

	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// The world area the window shows at Scale: one classic arena.
const (
	viewW = Width / Scale
	viewH = Height / Scale
)

// bounds returns the size of v's world: its scene's, or the classic
// scene's before the scene is known.
func bounds(v player.View) sim.Bounds {
	if v.Scene.Width <= 0 || v.Scene.Height <= 0 {
		return sim.Classic().Bounds
	}
	return v.Scene.Bounds
}

// camera maps world points to the window: the world point X, Y is drawn
// at the window's center.
type camera struct {
	X, Y float64
}

// cameraFor returns the camera of a world of bounds b that follows the
// world point (x, y): centered on it, but never showing beyond the walls.
// Along an axis where the world fits in the window (the classic scene),
// the camera stays at the world's center.
func cameraFor(b sim.Bounds, x, y float64) camera {
	return camera{X: follow(x, b.Width, viewW), Y: follow(y, b.Height, viewH)}
}

// follow is cameraFor along one axis: x clamped so that a view of size
// view centered on it stays within [0, world]; world/2 when the view is
// larger than the world.
func follow(x, world, view float64) float64 {
	if world <= view {
		return world / 2
	}
	return min(max(x, view/2), world-view/2)
}

// screen returns where the world point (x, y) is drawn.
func (c camera) screen(x, y float64) (float64, float64) {
	return (x-c.X)*Scale + Width/2, (y-c.Y)*Scale + Height/2
}

// view returns the world rectangle the window shows.
func (c camera) view() (x0, y0, x1, y1 float64) {
	return c.X - viewW/2, c.Y - viewH/2, c.X + viewW/2, c.Y + viewH/2
}

// visible reports whether a disc of radius r (world units) at the world
// point (x, y) shows in the window.
func (c camera) visible(x, y, r float64) bool {
	x0, y0, x1, y1 := c.view()
	return x+r >= x0 && x-r <= x1 && y+r >= y0 && y-r <= y1
}

// parallax returns where a star at screen point (sx, sy) of the classic
// layout is drawn when the camera is at c in a world of bounds b: it
// moves depth times as fast as the world (far stars slower), wrapping
// around the window. With the camera at the world's center (always, in
// the classic scene) the stars stay where they are.
func parallax(c camera, b sim.Bounds, sx, sy, depth float64) (float64, float64) {
	dx := (c.X - b.Width/2) * Scale * depth
	dy := (c.Y - b.Height/2) * Scale * depth
	return wrapTo(sx-dx, Width), wrapTo(sy-dy, Height)
}

// wrapTo returns x modulo n, in [0, n).
func wrapTo(x, n float64) float64 {
	x = math.Mod(x, n)
	if x < 0 {
		x += n
	}
	return x
}

// The minimap: at most minimapMaxW by minimapMaxH, in the bottom left
// corner above the help line, away from the kill feed (top left), the
// score board (top right) and the network overlay (bottom right).
const (
	minimapMaxW   = 200
	minimapMaxH   = 140
	minimapLeft   = 16
	minimapBottom = Height - 34 // the help line is below
)

// minimapRect is where the minimap of a world of bounds b is drawn, the
// world's shape scaled down; ok is false when the world fits in the
// window (the classic scene): there is no minimap then.
func minimapRect(b sim.Bounds) (r plot.Rect, ok bool) {
	if b.Width <= viewW && b.Height <= viewH || b.Width <= 0 || b.Height <= 0 {
		return plot.Rect{}, false
	}
	s := min(minimapMaxW/b.Width, minimapMaxH/b.Height)
	w, h := float32(b.Width*s), float32(b.Height*s)
	return plot.Rect{X: minimapLeft, Y: minimapBottom - h, W: w, H: h}, true
}

// minimapPoint returns where the world point (x, y) of a world of bounds
// b shows on the minimap r, kept inside it.
func minimapPoint(r plot.Rect, b sim.Bounds, x, y float64) (float32, float32) {
	px := r.X + float32(min(max(x/b.Width, 0), 1))*r.W
	py := r.Y + float32(min(max(y/b.Height, 0), 1))*r.H
	return px, py
}

// minimapView returns the rectangle of the minimap r that the window
// shows with camera c.
func minimapView(r plot.Rect, b sim.Bounds, c camera) plot.Rect {
	x0, y0, x1, y1 := c.view()
	ax, ay := minimapPoint(r, b, x0, y0)
	bx, by := minimapPoint(r, b, x1, y1)
	return plot.Rect{X: ax, Y: ay, W: bx - ax, H: by - ay}
}

// minimapMesh appends the minimap of v: the world's outline, the window's
// view, the asteroids in view as faint dots and every live player as a
// dot of its color, the local one larger and ringed in white.
func minimapMesh(m *plot.Mesh, r plot.Rect, v player.View, c camera, pal []plot.Color) {
	b := bounds(v)
	m.Rect(r, plot.Color{R: 0.03, G: 0.04, B: 0.08, A: 0.8})
	for _, a := range v.Asteroids {
		x, y := minimapPoint(r, b, a.X, a.Y)
		m.Rect(plot.Rect{X: x - 0.75, Y: y - 0.75, W: 1.5, H: 1.5}, plot.Color{R: 0.5, G: 0.47, B: 0.44, A: 0.45})
	}
	m.Frame(minimapView(r, b, c), 1, plot.Color{R: 0.75, G: 0.8, B: 0.9, A: 0.55})
	var local *player.Standing
	for i := range v.Players {
		p := &v.Players[i]
		if !p.Alive {
			continue
		}
		if p.Local {
			local = p
			continue // drawn last, over the others
		}
		x, y := minimapPoint(r, b, p.X, p.Y)
		m.Rect(plot.Rect{X: x - 1.5, Y: y - 1.5, W: 3, H: 3}, pal[int(p.Color)%len(pal)])
	}
	if local != nil {
		x, y := minimapPoint(r, b, local.X, local.Y)
		m.Rect(plot.Rect{X: x - 3.5, Y: y - 3.5, W: 7, H: 7}, plot.Color{R: 1, G: 1, B: 1, A: 1})
		m.Rect(plot.Rect{X: x - 2, Y: y - 2, W: 4, H: 4}, pal[int(local.Color)%len(pal)])
	}
	m.Frame(r, 1, plot.Color{R: 0.25, G: 0.3, B: 0.45, A: 1})
}

// rockSides bounds how many corners an asteroid's outline has.
const (
	rockMinSides = 9
	rockMaxSides = 14
)

// rockOutline returns the outline of asteroid id as corners around its
// center, unrotated, for a radius of 1: between rockMinSides and
// rockMaxSides corners at irregular angles and distances (0.72 to 1),
// always the same for the same id. It appends to dst.
func rockOutline(dst []plot.Point, id uint32) []plot.Point {
	h := uint64(id)*0x9E3779B97F4A7C15 + 0xD1B54A32D192ED03
	next := func() float64 { // splitmix64, in [0, 1)
		h += 0x9E3779B97F4A7C15
		z := h
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		z ^= z >> 31
		return float64(z>>11) / (1 << 53)
	}
	n := rockMinSides + int(next()*float64(rockMaxSides-rockMinSides+1))
	step := 2 * math.Pi / float64(n)
	for i := range n {
		a := (float64(i) + (next()-0.5)*0.6) * step
		r := 0.72 + 0.28*next()
		dst = append(dst, plot.Point{X: float32(r * math.Cos(a)), Y: float32(r * math.Sin(a))})
	}
	return dst
}

// rockMesh appends asteroid a, drawn with camera c: its outline (scratch
// space in pts, returned for reuse) scaled to its radius and turned by
// its angle, filled darker at the rim than at the center, with a lighter
// edge; a damaged one is darker and cracked, a crack per hit point lost
// (up to four).
func rockMesh(m *plot.Mesh, pts []plot.Point, a player.Asteroid, c camera) []plot.Point {
	pts = rockOutline(pts[:0], a.ID)
	cx, cy := c.screen(a.X, a.Y)
	r := a.Radius * Scale
	sin, cos := math.Sincos(a.Angle)
	for i, p := range pts {
		x, y := float64(p.X)*r, float64(p.Y)*r
		pts[i] = plot.Point{X: float32(cx + x*cos - y*sin), Y: float32(cy + x*sin + y*cos)}
	}
	lost := 0
	if a.MaxHP > 0 {
		lost = max(0, min(a.MaxHP, a.MaxHP-a.HP))
	}
	// A whole rock is gray-brown; each hit lost darkens it, down to 55%.
	shade := float32(1)
	if lost > 0 {
		shade = 1 - 0.45*float32(lost)/float32(a.MaxHP)
	}
	tone := func(r, g, b float32) plot.Color { return plot.Color{R: r * shade, G: g * shade, B: b * shade, A: 1} }
	center, rim, edge := tone(0.46, 0.42, 0.38), tone(0.27, 0.24, 0.22), tone(0.62, 0.58, 0.53)
	n := uint32(len(m.V))
	m.V = append(m.V, plot.Vertex{X: float32(cx), Y: float32(cy), C: center})
	for _, p := range pts {
		m.V = append(m.V, plot.Vertex{X: p.X, Y: p.Y, C: rim})
	}
	k := uint32(len(pts))
	for i := range k {
		m.I = append(m.I, n, n+1+i, n+1+(i+1)%k)
	}
	w := float32(max(1, min(2, r/20)))
	for i := range pts {
		m.Line(pts[i], pts[(i+1)%len(pts)], w, edge)
	}
	crack := plot.Color{R: 0.08, G: 0.07, B: 0.07, A: 0.9}
	for j := range min(lost, 4) {
		// From near the center out to a corner, with a kink halfway.
		o := pts[(int(a.ID)+j*len(pts)/4+j)%len(pts)]
		mid := plot.Point{
			X: float32(cx) + (o.X-float32(cx))*0.5 + (o.Y-float32(cy))*0.15,
			Y: float32(cy) + (o.Y-float32(cy))*0.5 - (o.X-float32(cx))*0.15,
		}
		start := plot.Point{X: float32(cx) + (o.X-float32(cx))*0.1, Y: float32(cy) + (o.Y-float32(cy))*0.1}
		end := plot.Point{X: float32(cx) + (o.X-float32(cx))*0.9, Y: float32(cy) + (o.Y-float32(cy))*0.9}
		m.Line(start, mid, w, crack)
		m.Line(mid, end, w, crack)
	}
	return pts
}
