package gui

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/server"
)

// palette holds the monitor's colors.
type palette struct {
	Background, Panel, Grid, Axis, Text, Dim plot.Color
	Messages, Update, Network, Idle          plot.Color
	Ticks, Target, Sent, Received            plot.Color
	RowAlt, Header, Selected                 plot.Color
	Warn, WarnDim, Sim, Ink, OK              plot.Color
	Resent, Timeouts                         plot.Color
	Series                                   []plot.Color // for series by reason
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
		WarnDim:    plot.RGB(92, 44, 38),
		Sim:        plot.RGB(214, 90, 214),
		Ink:        plot.RGB(20, 16, 20),
		OK:         plot.RGB(90, 200, 140),
		Resent:     plot.RGB(230, 159, 0),
		Timeouts:   plot.RGB(255, 90, 90),
		Series: []plot.Color{
			plot.RGB(230, 159, 0), plot.RGB(86, 180, 233), plot.RGB(0, 158, 115), plot.RGB(240, 228, 66),
			plot.RGB(0, 114, 178), plot.RGB(213, 94, 0), plot.RGB(204, 121, 167), plot.RGB(160, 160, 160),
			plot.RGB(255, 90, 90),
		},
	}
}

// label is a piece of text to draw after the triangles.
type label struct {
	s     string
	x, y  float64
	face  *text.GoTextFace
	c     plot.Color
	align text.Align
}

// layer is triangles with text over them. The monitor draws the screen
// in one layer and what pops up over it (a question, the network panel,
// a message) in another.
type layer struct {
	mesh   plot.Mesh
	labels []label
}

// renderer turns a monitor's state into triangle batches plus labels.
type renderer struct {
	pal     palette
	layers  [2]layer
	cur     *layer
	painter paint.Painter
	ready   bool
	headers []plot.Rect // click targets of the table's column headers
	lay     layout
	charW   float64             // advance of a character of the mono face
	dots    []server.WorldPoint // the world map's points in drawing order
	n       int                 // seconds of data of the series plotted
	span    int                 // seconds on the time axis
}

// values returns the last r.n complete seconds of a series, scaled.
func (r *renderer) values(s *history.Series, scale float64) []float64 {
	v := s.Values(nil)
	v = v[len(v)-min(r.n, len(v)):]
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) * scale
	}
	return out
}

func (r *renderer) init(f *faces) {
	if r.ready {
		return
	}
	r.ready = true
	r.pal = defaultPalette()
	r.charW = text.Advance("0123456789", f.mono) / 10
}

func (r *renderer) rect(rc plot.Rect, c plot.Color) { r.cur.mesh.Rect(rc, c) }

func (r *renderer) text(s string, x, y float64, face *text.GoTextFace, c plot.Color, align text.Align) {
	r.cur.labels = append(r.cur.labels, label{s, x, y, face, c, align})
}

// fit shortens s to about w pixels of the mono face.
func (r *renderer) fit(s string, w float32) string {
	n := int(float64(w) / r.charW)
	if len([]rune(s)) <= n || n < 2 {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
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

// render draws the whole monitor into dst and keeps its layout in m.
func (r *renderer) render(dst *ebiten.Image, m *Monitor) {
	f := &m.faces
	r.init(f)
	for i := range r.layers {
		r.layers[i].mesh.Reset()
		r.layers[i].labels = r.layers[i].labels[:0]
	}
	r.cur = &r.layers[0]
	p := &r.pal
	b := dst.Bounds()
	bands := statusBands(&m.status, p)
	h := b.Dy()
	if m.rp != nil {
		h -= barH // the timeline bar goes under the screens
	}
	r.lay = layoutWorld(b.Dx(), h, len(bands), m.worldTiles())
	m.lay = r.lay
	l := &r.lay
	r.rect(plot.Rect{W: l.W, H: float32(b.Dy())}, p.Background)
	r.header(m, f)
	for i, bd := range bands {
		r.band(l.bands[i], bd, f)
	}
	r.headers = r.headers[:0]
	if m.view == viewClient {
		r.clientView(m, f)
	} else {
		r.overview(m, f)
	}
	if m.rp != nil {
		r.timelineBar(m, barRect(b.Dx(), b.Dy()), f)
	}
	r.cur = &r.layers[1]
	if m.confirm != nil {
		r.confirmBox(m.confirm, f)
	} else if m.net.open {
		r.networkPanel(m, f)
	}
	if m.toast.text != "" {
		r.toastBox(&m.toast, f)
	}
	for i := range r.layers {
		ly := &r.layers[i]
		r.painter.Draw(dst, &ly.mesh)
		for _, lb := range ly.labels {
			op := &text.DrawOptions{}
			op.GeoM.Translate(lb.x, lb.y)
			op.ColorScale.ScaleWithColor(toColor(lb.c))
			op.PrimaryAlign = lb.align
			text.Draw(dst, lb.s, lb.face, op)
		}
	}
}

// statusBands returns the bands st calls for: the contact of an attached
// window (dim while it first connects; a warning, its first words in
// capitals, once it cannot reach the server or lost it) and a simulated
// network.
func statusBands(st *status, p *palette) []band {
	var bands []band
	switch lost := st.lost; {
	case lost == "":
	case strings.HasPrefix(lost, "connecting"):
		bands = append(bands, band{lost, p.Dim})
	default:
		for _, head := range []string{"lost contact", "cannot reach"} {
			if strings.HasPrefix(lost, head) {
				lost = strings.ToUpper(head) + lost[len(head):]
			}
		}
		bands = append(bands, band{lost, p.Warn})
	}
	if st.sim != "" {
		bands = append(bands, band{st.sim, p.Sim})
	}
	return bands
}

// band is a warning across the screen under the header.
type band struct {
	text string
	c    plot.Color
}

func (r *renderer) band(rc plot.Rect, b band, f *faces) {
	r.rect(rc, b.c)
	r.text(r.fit(b.text, rc.W-20), float64(rc.X+10), float64(rc.Y+4), f.text, r.pal.Ink, text.AlignStart)
}

// overview draws the plots, the health strip, the log tail and the table.
func (r *renderer) overview(m *Monitor, f *faces) {
	s, h, l := &m.snap, m.hist, &r.lay
	// Plot only the seconds the monitor has watched, on an axis of at
	// least a minute that grows to the 300 seconds kept.
	r.n = h.Seconds()
	r.span = plot.Span(r.n, 60, h.Ticks.Len())
	r.profile(l.plots[plotProfile], h, f)
	r.ticks(l.plots[plotTicks], s, h, f)
	noClients := s.Connections == 0 && s.Stats.Connects == 0
	r.rates(l.plots[plotPackets], "packets per second", "", r.values(&h.PktsOut, 1), r.values(&h.PktsIn, 1), noClients, f)
	r.rates(l.plots[plotBytes], "bytes per second", "B", r.values(&h.BytesOut, 1), r.values(&h.BytesIn, 1), noClients, f)
	if l.world.W > 0 {
		r.worldMap(l.world, m, f)
	}
	r.health(l.health, m, f)
	r.logTail(l.logs, m, f)
	r.tablePanel(m, f)
}

func toColor(c plot.Color) color.Color {
	return color.NRGBA{uint8(c.R*255 + 0.5), uint8(c.G*255 + 0.5), uint8(c.B*255 + 0.5), uint8(c.A*255 + 0.5)}
}

// header draws the server's address, its counters, the keys and how
// fresh the data is.
func (r *renderer) header(m *Monitor, f *faces) {
	p, s := &r.pal, &m.snap
	hr := r.lay.header
	family, host := "IPv4", s.Addr.Addr().Unmap()
	if host.Is6() {
		family = "IPv6"
	}
	where := "Waiting for the server..."
	if s.Addr.IsValid() {
		where = fmt.Sprintf("Listening on %s %s port %d", family, host, s.Addr.Port())
	}
	if m.status.remote != "" {
		where = "Attached to " + m.status.remote + ": " + strings.ToLower(where[:1]) + where[1:]
	}
	if m.rp != nil {
		where = "Replay of " + m.rp.rec.Path() + ": " + strings.ToLower(where[:1]) + where[1:]
	}
	r.text(where, float64(hr.X), float64(hr.Y), f.title, p.Text, text.AlignStart)
	ackPct := 0.0
	if s.Assembled > 0 {
		ackPct = 100 * float64(s.Acked) / float64(s.Assembled)
	}
	summary := fmt.Sprintf("connections %d   handshakes %d   packets assembled %s   acked %s (%.1f%%)   timed out %s   pending acks %d",
		s.Connections, s.Pending, plot.SI(float64(s.Assembled)), plot.SI(float64(s.Acked)), ackPct,
		plot.SI(float64(s.Timeouts)), s.PendingAcks)
	r.text(summary, float64(hr.X), float64(hr.Y+28), f.text, p.Text, text.AlignStart)
	keys := "Esc quit   P screenshot   N network"
	if m.view == viewClient {
		keys = "Esc back   P screenshot   N network"
	}
	r.text(keys, float64(hr.Right()), float64(hr.Y+4), f.small, p.Dim, text.AlignEnd)
	fresh, c := m.status.age, p.Dim
	if !s.Taken.IsZero() {
		fresh = fmt.Sprintf("data of %s   %s", s.Taken.Local().Format("15:04:05"), m.status.age)
		if m.rp != nil {
			fresh = "recorded " + s.Taken.Local().Format("2006-01-02 15:04:05")
		}
	}
	if m.status.stale || m.status.lost != "" {
		c = p.Warn
	}
	if m.status.busy {
		fresh = "working...   " + fresh
	}
	r.text(fresh, float64(hr.Right()), float64(hr.Y+32), f.small, c, text.AlignEnd)
}

// axes draws a panel's background, title, horizontal grid with y labels in
// SI units, and x labels for the seconds of r.span. It returns the scale.
func (r *renderer) axes(pr plot.Rect, title string, max float64, unit string, f *faces) plot.Scale {
	p := &r.pal
	a := plotArea(pr)
	r.rect(pr, p.Panel)
	r.text(title, float64(pr.X+10), float64(pr.Y+6), f.text, p.Text, text.AlignStart)
	sc := plot.Scale{R: a, Max: max}
	for _, v := range plot.Ticks(max, plot.Intervals(max)) {
		y := sc.Y(v)
		r.rect(plot.Rect{X: a.X, Y: y, W: a.W, H: 1}, p.Grid)
		r.text(plot.SI(v)+unit, float64(a.X-6), float64(y-7), f.small, p.Axis, text.AlignEnd)
	}
	step := plot.TickStep(r.span)
	for ago := 0; ago <= r.span-1; ago += step {
		x := sc.X(r.span-1-ago, r.span)
		r.rect(plot.Rect{X: x, Y: a.Bottom(), W: 1, H: 4}, p.Axis)
		s := fmt.Sprintf("-%ds", ago)
		if ago == 0 {
			s = "now"
		}
		r.text(s, float64(x), float64(a.Bottom()+5), f.small, p.Axis, text.AlignCenter)
	}
	return sc
}

// legend draws colored keys in a row under a panel's title.
func (r *renderer) legend(pr plot.Rect, items []string, colors []plot.Color, f *faces) {
	x := pr.X + 12
	y := pr.Y + 28
	for i, it := range items {
		w := float32(text.Advance(it, f.small))
		if x+24+w > pr.Right() && i > 0 {
			break // no room for more
		}
		r.rect(plot.Rect{X: x, Y: y + 3, W: 10, H: 10}, colors[i])
		r.text(it, float64(x+14), float64(y), f.small, r.pal.Text, text.AlignStart)
		x += 16 + w + 14
	}
}

// profile is the stacked area of where each second of the event goroutine
// went, in percent of the second.
func (r *renderer) profile(pr plot.Rect, s *history.History, f *faces) {
	p := &r.pal
	const pct = 1.0 / 10_000 // microseconds per second -> percent
	layers := [][]float64{
		r.values(&s.Messages, pct), r.values(&s.Update, pct),
		r.values(&s.Network, pct), r.values(&s.Idle, pct),
	}
	colors := []plot.Color{p.Messages, p.Update, p.Network, p.Idle}
	sc := r.axes(pr, "time profile (share of each second)", 100, "%", f)
	r.stack(sc, layers, colors)
	last := func(l []float64) string { return fmt.Sprintf("%.1f%%", plot.MeanLast(l, 10)) }
	r.legend(pr, []string{
		"message handling " + last(layers[0]), "update " + last(layers[1]),
		"network " + last(layers[2]), "idle " + last(layers[3]),
	}, colors, f)
}

// stack draws layers as stacked areas.
func (r *renderer) stack(sc plot.Scale, layers [][]float64, colors []plot.Color) {
	if len(layers) == 0 {
		return
	}
	stack := plot.Stack(layers)
	lower := sc.PointsRight(make([]float64, len(stack[0])), r.span)
	for i, up := range stack {
		upper := sc.PointsRight(up, r.span)
		r.cur.mesh.Area(lower, upper, colors[i])
		lower = upper
	}
}

// ticks is the ticks-per-second line with the configured target dashed.
func (r *renderer) ticks(pr plot.Rect, s *server.Snapshot, h *history.History, f *faces) {
	p := &r.pal
	v := r.values(&h.Ticks, 1)
	target := 0.0
	if s.Interval > 0 {
		target = float64(1e9) / float64(s.Interval.Nanoseconds())
	}
	sc := r.axes(pr, "ticks per second", plot.NiceMax(math.Max(plot.Peak(v), target)*1.1), "", f)
	if target > 0 {
		y := sc.Y(target)
		r.cur.mesh.DashedLine(sc.R.X, sc.R.Right(), y, 6, 1, p.Target)
	}
	r.cur.mesh.Polyline(sc.PointsRight(v, r.span), 2, p.Ticks)
	r.legend(pr, []string{
		fmt.Sprintf("ticks/s (last 10 s: %.1f)", plot.MeanLast(v, 10)),
		fmt.Sprintf("target %.0f", target),
	}, []plot.Color{p.Ticks, p.Target}, f)
}

// rates plots a sent and a received series, labelled with their peak and
// their average over the last 10 seconds.
func (r *renderer) rates(pr plot.Rect, title, unit string, vs, vr []float64, noClients bool, f *faces) {
	p := &r.pal
	top := plot.CountMax(math.Max(plot.Peak(vs), plot.Peak(vr)) * 1.1)
	sc := r.axes(pr, title, top, unit, f)
	if noClients {
		a := plotArea(pr)
		r.text("no clients yet", float64(a.X+a.W/2), float64(a.Y+a.H/2-10), f.title, p.Dim, text.AlignCenter)
	}
	// Received is a wider band under the sent line, so both stay visible
	// where they coincide (an echo server sends what it receives).
	r.cur.mesh.Polyline(sc.PointsRight(vr, r.span), 5, p.Received)
	r.cur.mesh.Polyline(sc.PointsRight(vs, r.span), 2, p.Sent)
	format := "%s: peak %s%s, last 10 s %s%s"
	if pr.W < 560 {
		format = "%s %[4]s%[5]s, peak %[2]s%[3]s" // a narrow panel: the recent average first
	}
	r.legend(pr, []string{
		fmt.Sprintf(format, "sent", plot.SI(plot.Peak(vs)), unit, plot.SI(plot.MeanLast(vs, 10)), unit),
		fmt.Sprintf(format, "received", plot.SI(plot.Peak(vr)), unit, plot.SI(plot.MeanLast(vr, 10)), unit),
	}, []plot.Color{p.Sent, p.Received}, f)
}

// scaledColumns returns the table's column widths fitted to width w,
// heads[i] the width column i's header needs (nil: none). Wider than the
// columns' widths, they grow in proportion (up to a limit). Narrower,
// they give up room in three steps, each in proportion: first their room
// beyond what their header and their usual text need, then the room their
// header needs beyond their text (the header is cut), then, when even
// their text does not fit, alike.
func scaledColumns(cols []column, w float32, heads []float32) []float32 {
	least, full, width := make([]float32, len(cols)), make([]float32, len(cols)), make([]float32, len(cols))
	var sumLeast, sumFull, sumWidth float32
	for i, c := range cols {
		least[i] = c.least
		full[i] = c.least
		if i < len(heads) {
			full[i] = max(full[i], heads[i])
		}
		width[i] = max(c.width, full[i])
		sumLeast, sumFull, sumWidth = sumLeast+least[i], sumFull+full[i], sumWidth+width[i]
	}
	out := make([]float32, len(cols))
	for i := range cols {
		switch {
		case w >= sumWidth:
			out[i] = width[i] * min(1.6, w/sumWidth)
		case w >= sumFull:
			out[i] = full[i] + (width[i]-full[i])*(w-sumFull)/(sumWidth-sumFull)
		case w >= sumLeast:
			out[i] = least[i] + (full[i]-least[i])*(w-sumLeast)/(sumFull-sumLeast)
		default:
			out[i] = least[i] * w / sumLeast
		}
		out[i] = float32(int(out[i]))
	}
	return out
}

// headerPad is the room around a header's title: the left inset, and
// the right one of a right-aligned column.
func headerPad(c *column) float32 {
	if c.right {
		return 14
	}
	return 8
}

// columnWidths returns the table's column widths in width w
// (scaledColumns), each header needing its number, title and sort mark.
func (r *renderer) columnWidths(cols []column, w float32, f *faces) []float32 {
	heads := make([]float32, len(cols))
	for i := range cols {
		heads[i] = float32(math.Ceil(text.Advance(fmt.Sprintf("%d %s v", i+1, cols[i].title), f.small))) + headerPad(&cols[i])
	}
	return scaledColumns(cols, w, heads)
}

// headerTitle is the header of column i, titled title, with its sort
// mark, in w pixels of face: its number (the key that sorts by it) and
// title, or when that does not fit, its title alone, cut if need be.
func headerTitle(i int, title, mark string, w float32, face *text.GoTextFace) string {
	if s := fmt.Sprintf("%d %s%s", i+1, title, mark); float32(text.Advance(s, face)) <= w {
		return s
	}
	return fitFace(title+mark, w, face)
}

// fitFace shortens s to w pixels of face, cut with an ellipsis.
func fitFace(s string, w float32, face *text.GoTextFace) string {
	if float32(text.Advance(s, face)) <= w {
		return s
	}
	rs := []rune(s)
	for n := len(rs) - 1; n > 0; n-- {
		if t := string(rs[:n]) + "…"; float32(text.Advance(t, face)) <= w {
			return t
		}
	}
	return ""
}

// tablePanel draws the client table, the highlighted row marked.
func (r *renderer) tablePanel(m *Monitor, f *faces) {
	p, l := &r.pal, &r.lay
	tr := l.table
	r.rect(tr, p.Panel)
	widths := r.columnWidths(m.cols, tr.W-16, f)
	x := tr.X + 8
	hy := tr.Y + 4
	r.rect(plot.Rect{X: tr.X, Y: hy, W: tr.W, H: rowH}, p.Header)
	for i, c := range m.cols {
		cell := plot.Rect{X: x, Y: hy, W: widths[i], H: rowH}
		r.headers = append(r.headers, cell)
		mark := ""
		if i == m.table.sortCol {
			r.rect(cell, p.Selected)
			mark = " ^"
			if m.table.desc {
				mark = " v"
			}
		}
		r.cell(headerTitle(i, c.title, mark, cell.W-headerPad(&c), f.small), cell, c.right, f.small, p.Text)
		x += widths[i]
	}
	rows := m.rows
	switch {
	case len(rows) == 0 && m.redacted && m.snap.Connections > 0:
		r.text(fmt.Sprintf("%d clients: who they are needs the server's token", m.snap.Connections),
			float64(tr.X+tr.W/2), float64(tr.Y+tr.H/2-22), f.title, p.Dim, text.AlignCenter)
		r.text("give this window --admin-token or --admin-read-token (MPGS_ADMIN_TOKEN)",
			float64(tr.X+tr.W/2), float64(tr.Y+tr.H/2+2), f.small, p.Dim, text.AlignCenter)
	case len(rows) == 0:
		r.text("no clients yet", float64(tr.X+tr.W/2), float64(tr.Y+tr.H/2-10), f.title, p.Dim, text.AlignCenter)
	}
	start := plot.Scroll(m.table.offset, len(rows), l.rows)
	end := min(len(rows), start+l.rows)
	for i := start; i < end; i++ {
		row := l.tableRow(i - start)
		switch {
		case rows[i].Token == m.cursor:
			r.rect(row, p.Selected)
		case (i-start)%2 == 1:
			r.rect(row, p.RowAlt)
		}
		x := tr.X + 8
		for j, c := range m.cols {
			r.cell(c.text(&rows[i]), plot.Rect{X: x, Y: row.Y, W: widths[j], H: rowH}, c.right, f.mono, p.Text)
			x += widths[j]
		}
	}
	order := "ascending"
	if m.table.desc {
		order = "descending"
	}
	shown := "no clients"
	if len(rows) > 0 {
		shown = fmt.Sprintf("clients %d-%d of %d", start+1, end, len(rows))
	}
	status := fmt.Sprintf("%s   sorted by %s %s   Up/Down select, Enter or click: close-up, 1-9 or header: sort, R: reverse, wheel: scroll",
		shown, m.cols[m.table.sortCol].title, order)
	if b := browserSummary(&m.snap); b != "" {
		// The browser peers take the place of the keys' reminder.
		status = fmt.Sprintf("%s   sorted by %s %s   %s", shown, m.cols[m.table.sortCol].title, order, b)
	}
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
