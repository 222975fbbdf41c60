package plot

import "math"

// Color is a straight-alpha RGBA color with components in 0..1.
type Color struct{ R, G, B, A float32 }

// RGB returns the opaque color of 8-bit components.
func RGB(r, g, b uint8) Color {
	return Color{float32(r) / 255, float32(g) / 255, float32(b) / 255, 1}
}

// Vertex is a colored vertex.
type Vertex struct {
	X, Y float32
	C    Color
}

// A Mesh accumulates colored triangles: rectangles, thick lines and filled
// areas. A renderer draws a whole mesh in one call, which is what keeps the
// monitor cheap.
type Mesh struct {
	V []Vertex
	I []uint32
}

// Reset empties the mesh, keeping its storage.
func (m *Mesh) Reset() { m.V, m.I = m.V[:0], m.I[:0] }

// quad appends the quadrilateral a, b, c, d (in order around it).
func (m *Mesh) quad(a, b, c, d Point, ca, cb, cc, cd Color) {
	n := uint32(len(m.V))
	m.V = append(m.V, Vertex{a.X, a.Y, ca}, Vertex{b.X, b.Y, cb}, Vertex{c.X, c.Y, cc}, Vertex{d.X, d.Y, cd})
	m.I = append(m.I, n, n+1, n+2, n, n+2, n+3)
}

// Rect appends a filled rectangle.
func (m *Mesh) Rect(r Rect, c Color) {
	m.quad(Point{r.X, r.Y}, Point{r.X + r.W, r.Y}, Point{r.X + r.W, r.Y + r.H}, Point{r.X, r.Y + r.H}, c, c, c, c)
}

// Frame appends the outline of a rectangle, width w inside it.
func (m *Mesh) Frame(r Rect, w float32, c Color) {
	m.Rect(Rect{r.X, r.Y, r.W, w}, c)
	m.Rect(Rect{r.X, r.Y + r.H - w, r.W, w}, c)
	m.Rect(Rect{r.X, r.Y, w, r.H}, c)
	m.Rect(Rect{r.X + r.W - w, r.Y, w, r.H}, c)
}

// Line appends a segment of width w as a quad (no antialiasing, no joins:
// cheap, and fine at the monitor's widths).
func (m *Mesh) Line(a, b Point, w float32, c Color) {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	m.quad(Point{a.X + nx, a.Y + ny}, Point{b.X + nx, b.Y + ny}, Point{b.X - nx, b.Y - ny}, Point{a.X - nx, a.Y - ny}, c, c, c, c)
}

// Polyline appends the segments joining consecutive points.
func (m *Mesh) Polyline(p []Point, w float32, c Color) {
	if len(p) == 1 {
		// One sample (a series' first second) is a dot, not nothing.
		d := max(2*w, 4)
		m.Rect(Rect{X: p[0].X - d/2, Y: p[0].Y - d/2, W: d, H: d}, c)
		return
	}
	for i := 1; i < len(p); i++ {
		m.Line(p[i-1], p[i], w, c)
	}
}

// DashedLine appends a horizontal dashed line at y from x0 to x1.
func (m *Mesh) DashedLine(x0, x1, y, dash, w float32, c Color) {
	for x := x0; x < x1; x += 2 * dash {
		m.Rect(Rect{x, y - w/2, float32(math.Min(float64(dash), float64(x1-x))), w}, c)
	}
}

// Area appends the region between two polylines with the same x
// positions, lower below upper, as one quad per interval.
func (m *Mesh) Area(lower, upper []Point, c Color) {
	n := min(len(lower), len(upper))
	for i := 1; i < n; i++ {
		m.quad(upper[i-1], upper[i], lower[i], lower[i-1], c, c, c, c)
	}
}

// Bounds returns the bounding rectangle of the mesh's vertices.
func (m *Mesh) Bounds() Rect {
	if len(m.V) == 0 {
		return Rect{}
	}
	x0, y0, x1, y1 := m.V[0].X, m.V[0].Y, m.V[0].X, m.V[0].Y
	for _, v := range m.V {
		x0, y0 = min(x0, v.X), min(y0, v.Y)
		x1, y1 = max(x1, v.X), max(y1, v.Y)
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}
