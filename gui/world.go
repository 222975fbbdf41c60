package gui

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/server"
)

// What a game that reports its world (server.WorldReporter) adds to the
// monitor: the table's replication columns (worldColumns), the close-up's
// replication line, and the overview's world map: the game's points, a
// dot each colored by kind, and every reported client's view.

// hasWorld reports whether the game reported a world with bounds.
func hasWorld(w *server.WorldMap) bool {
	return w.MaxX > w.MinX && w.MaxY > w.MinY && !math.IsInf(w.MaxX-w.MinX, 0) && !math.IsInf(w.MaxY-w.MinY, 0)
}

// worldView places a world in a rectangle of the screen: the whole world,
// scaled to fit with its aspect kept, centered. X grows to the right and
// Y down, as on the game's screen.
type worldView struct {
	minX, minY float64
	scale      float64   // pixels per world unit
	at         plot.Rect // the world on the screen
}

// fitWorld returns the view of world w in area (w has bounds: hasWorld).
func fitWorld(w *server.WorldMap, area plot.Rect) worldView {
	ww, wh := w.MaxX-w.MinX, w.MaxY-w.MinY
	s := math.Max(0, math.Min(float64(area.W)/ww, float64(area.H)/wh))
	mw, mh := float32(ww*s), float32(wh*s)
	return worldView{
		minX: w.MinX, minY: w.MinY, scale: s,
		at: plot.Rect{X: area.X + (area.W-mw)/2, Y: area.Y + (area.H-mh)/2, W: mw, H: mh},
	}
}

// point returns where the world's (x, y) is on the screen.
func (v *worldView) point(x, y float64) plot.Point {
	return plot.Point{X: v.at.X + float32((x-v.minX)*v.scale), Y: v.at.Y + float32((y-v.minY)*v.scale)}
}

// inside reports whether the world's (x, y) is within the world.
func (v *worldView) inside(x, y float64) bool {
	p := v.point(x, y)
	return p.X >= v.at.X && p.X <= v.at.Right() && p.Y >= v.at.Y && p.Y <= v.at.Bottom()
}

// area returns the screen rectangle of the world's area centered on
// (x, y), halfW by halfH each way.
func (v *worldView) area(x, y, halfW, halfH float64) plot.Rect {
	p := v.point(x-halfW, y-halfH)
	return plot.Rect{X: p.X, Y: p.Y, W: float32(2 * halfW * v.scale), H: float32(2 * halfH * v.scale)}
}

// clip returns the part of r within b, and whether there is any.
func clip(r, b plot.Rect) (plot.Rect, bool) {
	x0, y0 := max(r.X, b.X), max(r.Y, b.Y)
	x1, y1 := min(r.Right(), b.Right()), min(r.Bottom(), b.Bottom())
	if !(x1 > x0 && y1 > y0) {
		return plot.Rect{}, false
	}
	return plot.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}, true
}

// kindColor is the color of the points of a kind.
func (p *palette) kindColor(kind uint8) plot.Color { return p.Series[int(kind)%len(p.Series)] }

// kindName names a kind of point: the game's name, or its number.
func kindName(kinds []string, kind int) string {
	if kind < len(kinds) && kinds[kind] != "" {
		return kinds[kind]
	}
	return fmt.Sprintf("kind %d", kind)
}

// worldUnits writes a length of the world: whole units, or SI when long.
func worldUnits(v float64) string {
	if v < 1e5 {
		return fmt.Sprintf("%.0f", v)
	}
	return plot.SI(v)
}

// dotSize is the side of a point's dot on the map, in pixels.
const dotSize = 3

// worldMap draws the game's world in tile pr: the world's area; its
// points, at most server.MaxWorldPoints, a small square each in the
// screen's one mesh, those of rare kinds bigger and over the others;
// every reported client's view outlined, the highlighted client's
// brighter and named; a legend of the kinds with their counts. Read
// without a token, the server sends no points nor clients: the tile says
// what it needs.
func (r *renderer) worldMap(pr plot.Rect, m *Monitor, f *faces) {
	p, w := &r.pal, &m.snap.World
	r.rect(pr, p.Panel)
	r.text("world", float64(pr.X+10), float64(pr.Y+6), f.text, p.Text, text.AlignStart)
	if !hasWorld(w) {
		return
	}
	v := fitWorld(w, worldArea(pr))
	r.rect(v.at, p.Background)
	r.cur.mesh.Frame(v.at, 1, p.Grid)
	size := fmt.Sprintf("%s x %s", worldUnits(w.MaxX-w.MinX), worldUnits(w.MaxY-w.MinY))
	if m.redacted && len(w.Points) == 0 {
		r.text(size, float64(pr.Right()-10), float64(pr.Y+9), f.small, p.Dim, text.AlignEnd)
		cx, cy := float64(v.at.X+v.at.W/2), float64(v.at.Y+v.at.H/2)
		r.text("the map needs the admin token", cx, cy-20, f.text, p.Dim, text.AlignCenter)
		r.text("(or the read token: --admin-read-token)", cx, cy+2, f.small, p.Dim, text.AlignCenter)
		return
	}
	pts := w.Points[:min(len(w.Points), server.MaxWorldPoints)]
	var counts [256]int
	r.dots = sortDots(r.dots, pts, &v, &counts)
	for _, pt := range r.dots {
		d := float32(dotSize)
		if counts[pt.Kind]*20 < len(r.dots) {
			d++ // a rare kind (a game's players among its rocks)
		}
		c := v.point(float64(pt.X), float64(pt.Y))
		r.rect(plot.Rect{X: c.X - d/2, Y: c.Y - d/2, W: d, H: d}, p.kindColor(pt.Kind))
	}
	views, sel := 0, -1
	for i := range m.rows {
		pw := &m.rows[i].World
		if !pw.Reported {
			continue
		}
		views++
		if m.rows[i].Token == m.cursor {
			sel = i
			continue // drawn last, over the others
		}
		if a, ok := clip(v.area(pw.X, pw.Y, pw.HalfW, pw.HalfH), v.at); ok {
			r.cur.mesh.Frame(a, 1, p.Axis)
		}
	}
	if sel >= 0 {
		row := &m.rows[sel]
		pw := &row.World
		if a, ok := clip(v.area(pw.X, pw.Y, pw.HalfW, pw.HalfH), v.at); ok {
			r.cur.mesh.Frame(a, 2, p.Text)
			name := row.Label
			if name == "" {
				name = fmt.Sprintf("client %d", row.Token)
			}
			// Above the view, or inside it when the legend is there.
			x, y, align := a.X, a.Y-16, text.AlignStart
			if y < pr.Y+mapTop-6 {
				x, y = a.X+4, a.Y+3
			}
			if x+float32(text.Advance(name, f.small)) > pr.Right()-4 {
				x, align = a.Right()-4, text.AlignEnd
			}
			r.text(name, float64(x), float64(y), f.small, p.Text, align)
		}
	}
	kinds := len(w.Kinds)
	for k := range counts {
		if counts[k] > 0 {
			kinds = max(kinds, k+1)
		}
	}
	var items []string
	var colors []plot.Color
	for k := range min(kinds, len(counts)) {
		items = append(items, fmt.Sprintf("%s %d", kindName(w.Kinds, k), counts[k]))
		colors = append(colors, p.kindColor(uint8(k)))
	}
	if views > 0 {
		items = append(items, fmt.Sprintf("views %d", views))
		colors = append(colors, p.Axis)
	}
	r.legend(pr, items, colors, f)
	if len(pts) >= server.MaxWorldPoints {
		size += fmt.Sprintf(", %d points (a sample)", len(pts))
	}
	r.text(size, float64(pr.Right()-10), float64(pr.Y+9), f.small, p.Dim, text.AlignEnd)
}

// sortDots returns in dst the points of pts within the world of v,
// kinds of more points first, so that the few are drawn over the many;
// counts receives the points of each kind. It takes time in proportion
// to the points.
func sortDots(dst, pts []server.WorldPoint, v *worldView, counts *[256]int) []server.WorldPoint {
	n := 0
	for _, pt := range pts {
		if v.inside(float64(pt.X), float64(pt.Y)) { // not out of the world, nor not a number
			counts[pt.Kind]++
			n++
		}
	}
	var order [256]uint8
	for i := range order {
		order[i] = uint8(i)
	}
	slices.SortStableFunc(order[:], func(a, b uint8) int { return cmp.Compare(counts[b], counts[a]) })
	var at [256]int
	off := 0
	for _, k := range order {
		at[k] = off
		off += counts[k]
	}
	dst = slices.Grow(dst[:0], n)[:n]
	for _, pt := range pts {
		if v.inside(float64(pt.X), float64(pt.Y)) {
			dst[at[pt.Kind]] = pt
			at[pt.Kind]++
		}
	}
	return dst
}

// replicationLine describes in one line what the game replicates to a
// client: the entities in its view, those waiting for room and the
// oldest wait, its last snapshot's bytes of its budget, the memory held
// for it and its view area.
func replicationLine(w *server.PeerWorld) string {
	if !w.Reported {
		return "the game reports nothing on this client"
	}
	wait := fmt.Sprintf("%d waiting", w.Waiting)
	if w.Waiting > 0 {
		wait += fmt.Sprintf(" (oldest %s)", formatWait(w.OldestWait))
	}
	return fmt.Sprintf("%d in view   %s   snapshot %d/%d B   holds %sB   view %.0fx%.0f at %.0f,%.0f",
		w.InView, wait, w.Bytes, w.Budget, plot.SI(float64(w.Memory)), 2*w.HalfW, 2*w.HalfH, w.X, w.Y)
}

// replication draws the close-up's replication line of client c (nil:
// the monitor follows it no more).
func (r *renderer) replication(lr plot.Rect, c *history.Client, f *faces) {
	p := &r.pal
	r.rect(lr, p.Panel)
	r.text("replication", float64(lr.X+10), float64(lr.Y+5), f.small, p.Dim, text.AlignStart)
	line, col := "no data on this client", p.Dim
	if c != nil {
		line = replicationLine(&c.Last.World)
		if c.Last.World.Reported {
			col = p.Text
		}
	}
	const key = 84
	r.text(r.fit(line, lr.W-key-20), float64(lr.X+key), float64(lr.Y+4), f.mono, col, text.AlignStart)
}
