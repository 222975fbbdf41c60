package gui

import (
	"fmt"
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/gui/paint"
	"github.com/mpgs/mpgameserver/gui/plot"
)

// palette holds the monitor's colors.
type palette struct {
	Background, Panel, Grid, Axis, Text, Dim plot.Color
	Messages, Update, Network, Idle          plot.Color
	Ticks, Target, Sent, Received            plot.Color
	RowAlt, Header, Selected                 plot.Color
	Warn                                     plot.Color
}

// defaultPalette returns the monitor's colors: a dark theme whose series
// colors stay apart for color-blind readers.
func defaultPalette() palette {
	return palette{
		Background: plot.RGB(17, 19, 25),
		Panel:      plot.RGB(27, 30, 39),
		Grid:       plot.RGB(45, 50, 62),
		Axis:       plot.RGB(140, 146, 163),
		Text:       plot.RGB(228, 231, 240),
		Dim:        plot.RGB(120, 126, 142),
		Messages:   plot.RGB(86, 180, 233),
		Update:     plot.RGB(230, 159, 0),
		Network:    plot.RGB(0, 170, 120),
		Idle:       plot.RGB(72, 78, 98),
		Ticks:      plot.RGB(120, 220, 120),
		Target:     plot.RGB(200, 200, 200),
		Sent:       plot.RGB(240, 110, 80),
		Received:   plot.RGB(90, 170, 255),
		RowAlt:     plot.RGB(33, 37, 48),
		Header:     plot.RGB(40, 45, 58),
		Selected:   plot.RGB(60, 70, 96),
		Warn:       plot.RGB(255, 120, 90),
	}
}

// panelID names the monitor's panels.
type panelID int

// The monitor's panels.
const (
	panelHeader panelID = iota
	panelProfile
	panelTicks
	panelPackets
	panelBytes
	panelTable
)

// Layout geometry.
const (
	margin    = 16
	headerH   = 60
	panelH    = 236
	tableY    = headerH + 2*panelH + 3*12
	rowH      = 20
	plotLeft  = 58
	plotRight = 14
	plotTop   = 54
	plotBot   = 24
)

// panelRect returns where a panel is drawn, in the monitor's logical
// coordinates.
func panelRect(id panelID) plot.Rect {
	w := float32(Width-3*margin) / 2
	switch id {
	case panelHeader:
		return plot.Rect{X: margin, Y: 6, W: Width - 2*margin, H: headerH - 6}
	case panelProfile:
		return plot.Rect{X: margin, Y: headerH, W: w, H: panelH}
	case panelTicks:
		return plot.Rect{X: 2*margin + w, Y: headerH, W: w, H: panelH}
	case panelPackets:
		return plot.Rect{X: margin, Y: headerH + panelH + 12, W: w, H: panelH}
	case panelBytes:
		return plot.Rect{X: 2*margin + w, Y: headerH + panelH + 12, W: w, H: panelH}
	case panelTable:
		return plot.Rect{X: margin, Y: tableY, W: Width - 2*margin, H: Height - tableY - margin}
	}
	return plot.Rect{}
}

// plotArea returns the data area of a plot panel (inside its axes).
func plotArea(id panelID) plot.Rect {
	r := panelRect(id)
	return plot.Rect{X: r.X + plotLeft, Y: r.Y + plotTop, W: r.W - plotLeft - plotRight, H: r.H - plotTop - plotBot}
}

// label is a piece of text to draw after the triangles.
type label struct {
	s     string
	x, y  float64
	face  *text.GoTextFace
	c     plot.Color
	align text.Align
}

// renderer turns a monitor's state into one triangle batch plus labels.
type renderer struct {
	pal         palette
	mesh        plot.Mesh
	painter     paint.Painter
	labels      []label
	ready       bool
	visibleRows int
	headers     []plot.Rect // click targets of the table's column headers
	n           int         // seconds of data in the current snapshot
	span        int         // seconds on the time axis
}

// recent returns the last n complete seconds of a series, scaled.
func (r *renderer) recent(s *history.Series, scale float64) []float64 {
	v := s.Values(nil)
	v = v[len(v)-min(r.n, len(v)):]
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) * scale
	}
	return out
}

func (r *renderer) init() {
	if r.ready {
		return
	}
	r.ready = true
	r.pal = defaultPalette()
	r.visibleRows = int(panelRect(panelTable).H-2*rowH-8) / rowH
}

func (r *renderer) text(s string, x, y float64, face *text.GoTextFace, c plot.Color, align text.Align) {
	r.labels = append(r.labels, label{s, x, y, face, c, align})
}

// headerAt returns the table column whose header contains (x, y).
func (r *renderer) headerAt(x, y float32) (int, bool) {
	for i, h := range r.headers {
		if h.Contains(x, y) {
			return i, true
		}
	}
	return 0, false
}

// render draws the whole monitor into dst.
func (r *renderer) render(dst *ebiten.Image, m *Monitor) {
	r.init()
	r.mesh.Reset()
	r.labels = r.labels[:0]
	p := &r.pal
	r.mesh.Rect(plot.Rect{W: Width, H: Height}, p.Background)

	s, h := &m.snap, m.hist
	f := &m.faces
	// Plot only the seconds the monitor has watched, on an axis of at
	// least a minute that grows to the 300 seconds kept.
	r.n = h.Seconds()
	r.span = plot.Span(r.n, 60, h.Ticks.Len())
	r.header(s, f)
	r.profile(h, f)
	r.ticks(s, h, f)
	noClients := s.Connections == 0 && s.Stats.Connects == 0
	r.rates(panelPackets, "packets per second", "", r.recent(&h.PktsOut, 1), r.recent(&h.PktsIn, 1), noClients, f)
	r.rates(panelBytes, "bytes per second", "B", r.recent(&h.BytesOut, 1), r.recent(&h.BytesIn, 1), noClients, f)
	r.tablePanel(m, f)

	r.flush(dst)
	for _, l := range r.labels {
		op := &text.DrawOptions{}
		op.GeoM.Translate(l.x, l.y)
		op.ColorScale.ScaleWithColor(toColor(l.c))
		op.PrimaryAlign = l.align
		text.Draw(dst, l.s, l.face, op)
	}
}

func toColor(c plot.Color) color.Color {
	return color.NRGBA{uint8(c.R*255 + 0.5), uint8(c.G*255 + 0.5), uint8(c.B*255 + 0.5), uint8(c.A*255 + 0.5)}
}

// flush draws the mesh in one call.
func (r *renderer) flush(dst *ebiten.Image) { r.painter.Draw(dst, &r.mesh) }

func (r *renderer) header(s *server.Snapshot, f *faces) {
	p := &r.pal
	hr := panelRect(panelHeader)
	family, host := "IPv4", s.Addr.Addr().Unmap()
	if host.Is6() {
		family = "IPv6"
	}
	title := "Waiting for the server..."
	if s.Addr.IsValid() {
		title = fmt.Sprintf("Listening on %s %s port %d", family, host, s.Addr.Port())
	}
	r.text(title, float64(hr.X), float64(hr.Y), f.title, p.Text, text.AlignStart)
	ackPct := 0.0
	if s.Assembled > 0 {
		ackPct = 100 * float64(s.Acked) / float64(s.Assembled)
	}
	summary := fmt.Sprintf("connections %d   handshakes %d   packets assembled %s   acked %s (%.1f%%)   timed out %s   pending acks %d",
		s.Connections, s.Pending, plot.SI(float64(s.Assembled)), plot.SI(float64(s.Acked)), ackPct,
		plot.SI(float64(s.Timeouts)), s.PendingAcks)
	r.text(summary, float64(hr.X), float64(hr.Y+28), f.text, p.Text, text.AlignStart)
	r.text("Esc quit   P screenshot", float64(hr.Right()), float64(hr.Y+6), f.small, p.Dim, text.AlignEnd)
	drops, any := dropSummary(s, 3)
	c := p.Dim
	if any {
		c = p.Warn
	}
	r.text(drops, float64(hr.Right()), float64(hr.Y+24), f.small, c, text.AlignEnd)
}

// axes draws a panel's background, title, horizontal grid with y labels in
// SI units, and x labels for the last 300 seconds. It returns the scale.
func (r *renderer) axes(id panelID, title string, max float64, unit string, f *faces) plot.Scale {
	p := &r.pal
	pr := panelRect(id)
	a := plotArea(id)
	r.mesh.Rect(pr, p.Panel)
	r.text(title, float64(pr.X+10), float64(pr.Y+6), f.text, p.Text, text.AlignStart)
	sc := plot.Scale{R: a, Max: max}
	for _, v := range plot.Ticks(max, plot.Intervals(max)) {
		y := sc.Y(v)
		r.mesh.Rect(plot.Rect{X: a.X, Y: y, W: a.W, H: 1}, p.Grid)
		r.text(plot.SI(v)+unit, float64(a.X-6), float64(y-7), f.small, p.Axis, text.AlignEnd)
	}
	step := plot.TickStep(r.span)
	for ago := 0; ago <= r.span-1; ago += step {
		x := sc.X(r.span-1-ago, r.span)
		r.mesh.Rect(plot.Rect{X: x, Y: a.Bottom(), W: 1, H: 4}, p.Axis)
		s := fmt.Sprintf("-%ds", ago)
		if ago == 0 {
			s = "now"
		}
		r.text(s, float64(x), float64(a.Bottom()+5), f.small, p.Axis, text.AlignCenter)
	}
	return sc
}

// legend draws colored keys in a row under a panel's title.
func (r *renderer) legend(id panelID, items []string, colors []plot.Color, f *faces) {
	pr := panelRect(id)
	x := pr.X + 12
	y := pr.Y + 28
	for i, it := range items {
		r.mesh.Rect(plot.Rect{X: x, Y: y + 3, W: 10, H: 10}, colors[i])
		r.text(it, float64(x+14), float64(y), f.small, r.pal.Text, text.AlignStart)
		x += 16 + float32(text.Advance(it, f.small)) + 14
	}
}

// profile is the stacked area of where each second of the event goroutine
// went, in percent of the second.
func (r *renderer) profile(s *history.History, f *faces) {
	p := &r.pal
	const pct = 1.0 / 10_000 // microseconds per second -> percent
	layers := [][]float64{
		r.recent(&s.Messages, pct), r.recent(&s.Update, pct),
		r.recent(&s.Network, pct), r.recent(&s.Idle, pct),
	}
	colors := []plot.Color{p.Messages, p.Update, p.Network, p.Idle}
	sc := r.axes(panelProfile, "time profile (share of each second)", 100, "%", f)
	stack := plot.Stack(layers)
	lower := sc.PointsRight(make([]float64, len(stack[0])), r.span)
	for i, up := range stack {
		upper := sc.PointsRight(up, r.span)
		r.mesh.Area(lower, upper, colors[i])
		lower = upper
	}
	last := func(l []float64) string { return fmt.Sprintf("%.1f%%", plot.MeanLast(l, 10)) }
	r.legend(panelProfile, []string{
		"message handling " + last(layers[0]), "update " + last(layers[1]),
		"network " + last(layers[2]), "idle " + last(layers[3]),
	}, colors, f)
}

// ticks is the ticks-per-second line with the configured target dashed.
func (r *renderer) ticks(s *server.Snapshot, h *history.History, f *faces) {
	p := &r.pal
	v := r.recent(&h.Ticks, 1)
	target := 0.0
	if s.Interval > 0 {
		target = float64(1e9) / float64(s.Interval.Nanoseconds())
	}
	sc := r.axes(panelTicks, "ticks per second", plot.NiceMax(math.Max(plot.Peak(v), target)*1.1), "", f)
	if target > 0 {
		y := sc.Y(target)
		r.mesh.DashedLine(sc.R.X, sc.R.Right(), y, 6, 1, p.Target)
	}
	r.mesh.Polyline(sc.PointsRight(v, r.span), 2, p.Ticks)
	r.legend(panelTicks, []string{
		fmt.Sprintf("ticks/s (last 10 s: %.1f)", plot.MeanLast(v, 10)),
		fmt.Sprintf("target %.0f", target),
	}, []plot.Color{p.Ticks, p.Target}, f)
}

// rates plots a sent and a received series, labelled with their peak and
// their average over the last 10 seconds.
func (r *renderer) rates(id panelID, title, unit string, vs, vr []float64, noClients bool, f *faces) {
	p := &r.pal
	top := plot.NiceMax(math.Max(plot.Peak(vs), plot.Peak(vr)) * 1.1)
	sc := r.axes(id, title, top, unit, f)
	if noClients {
		a := plotArea(id)
		r.text("no clients yet", float64(a.X+a.W/2), float64(a.Y+a.H/2-10), f.title, p.Dim, text.AlignCenter)
	}
	// Received is a wider band under the sent line, so both stay visible
	// where they coincide (an echo server sends what it receives).
	r.mesh.Polyline(sc.PointsRight(vr, r.span), 5, p.Received)
	r.mesh.Polyline(sc.PointsRight(vs, r.span), 2, p.Sent)
	r.legend(id, []string{
		fmt.Sprintf("sent: peak %s%s, last 10 s %s%s", plot.SI(plot.Peak(vs)), unit, plot.SI(plot.MeanLast(vs, 10)), unit),
		fmt.Sprintf("received: peak %s%s, last 10 s %s%s", plot.SI(plot.Peak(vr)), unit, plot.SI(plot.MeanLast(vr, 10)), unit),
	}, []plot.Color{p.Sent, p.Received}, f)
}

// tablePanel draws the client table.
func (r *renderer) tablePanel(m *Monitor, f *faces) {
	p := &r.pal
	tr := panelRect(panelTable)
	r.mesh.Rect(tr, p.Panel)
	r.headers = r.headers[:0]
	x := tr.X + 8
	hy := tr.Y + 4
	r.mesh.Rect(plot.Rect{X: tr.X, Y: hy, W: tr.W, H: rowH}, p.Header)
	for i, c := range m.cols {
		cell := plot.Rect{X: x, Y: hy, W: c.width, H: rowH}
		r.headers = append(r.headers, cell)
		title := fmt.Sprintf("%d %s", i+1, c.title)
		if i == m.table.sortCol {
			r.mesh.Rect(cell, p.Selected)
			if m.table.desc {
				title += " v"
			} else {
				title += " ^"
			}
		}
		r.cell(title, cell, c.right, f.small, p.Text)
		x += c.width
	}
	rows := m.rows
	if len(rows) == 0 {
		r.text("no clients yet", float64(tr.X+tr.W/2), float64(tr.Y+tr.H/2-10), f.title, p.Dim, text.AlignCenter)
	}
	start := plot.Scroll(m.table.offset, len(rows), r.visibleRows)
	end := min(len(rows), start+r.visibleRows)
	y := hy + rowH + 2
	for i := start; i < end; i++ {
		if (i-start)%2 == 1 {
			r.mesh.Rect(plot.Rect{X: tr.X, Y: y, W: tr.W, H: rowH}, p.RowAlt)
		}
		x := tr.X + 8
		for _, c := range m.cols {
			r.cell(c.text(&rows[i]), plot.Rect{X: x, Y: y, W: c.width, H: rowH}, c.right, f.mono, p.Text)
			x += c.width
		}
		y += rowH
	}
	order := "ascending"
	if m.table.desc {
		order = "descending"
	}
	shown := "no clients"
	if len(rows) > 0 {
		shown = fmt.Sprintf("clients %d-%d of %d", start+1, end, len(rows))
	}
	status := fmt.Sprintf("%s   sorted by %s %s   1-9 or click: sort, R: reverse, wheel/arrows: scroll",
		shown, m.cols[m.table.sortCol].title, order)
	r.text(status, float64(tr.X+8), float64(tr.Bottom()-rowH+2), f.small, p.Dim, text.AlignStart)
}

// cell draws text in a table cell, right-aligned for numbers.
func (r *renderer) cell(s string, c plot.Rect, right bool, face *text.GoTextFace, col plot.Color) {
	if right {
		r.text(s, float64(c.Right()-10), float64(c.Y+2), face, col, text.AlignEnd)
		return
	}
	r.text(s, float64(c.X+4), float64(c.Y+2), face, col, text.AlignStart)
}
