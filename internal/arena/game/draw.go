package game

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// Colors of the window.
func background() color.RGBA { return color.RGBA{8, 10, 18, 255} }
func dim() color.RGBA        { return color.RGBA{130, 136, 155, 255} }
func white() color.RGBA      { return color.RGBA{235, 238, 245, 255} }

// explode spawns a burst of particles.
func (g *Game) explode(x, y float64) {
	for range 48 {
		a := g.rng.Float64() * 2 * math.Pi
		sp := 60 + g.rng.Float64()*260
		c := color.RGBA{255, uint8(120 + g.rng.IntN(120)), uint8(40 + g.rng.IntN(60)), 255}
		g.particles = append(g.particles, particle{
			x: x, y: y, vx: math.Cos(a) * sp, vy: math.Sin(a) * sp,
			max: 0.5 + g.rng.Float64()*0.6, c: c, size: 0.6 + g.rng.Float64()*0.9,
		})
	}
}

// netMeter keeps the connection's counters of the last five seconds,
// and the replication's, sampled ten times a second: the overlay's loss
// and per-second rates are their differences (the connection and the
// replication keep counters only).
type netMeter struct {
	t   []time.Time
	st  []conn.Stats
	rep []player.Replication
}

func (m *netMeter) sample(now time.Time, st conn.Stats, rep player.Replication) {
	m.t = append(m.t, now)
	m.st = append(m.st, st)
	m.rep = append(m.rep, rep)
	for len(m.t) > 1 && now.Sub(m.t[0]) > 5*time.Second {
		m.t, m.st, m.rep = m.t[1:], m.st[1:], m.rep[1:]
	}
}

// lossPercent returns the share of the packets sent over the window that
// timed out, in percent.
func (m *netMeter) lossPercent() float64 {
	n := len(m.t)
	if n < 2 {
		return 0
	}
	sent := m.st[n-1].Assembled - m.st[0].Assembled
	if sent == 0 {
		return 0
	}
	return 100 * float64(m.st[n-1].Timeouts-m.st[0].Timeouts) / float64(sent)
}

// lastSecond returns the samples i and last about a second apart (or as
// far apart as there are) and the seconds between them; ok is false
// with fewer than two samples.
func (m *netMeter) lastSecond() (i, last int, dt float64, ok bool) {
	n := len(m.t)
	if n < 2 {
		return 0, 0, 0, false
	}
	last = n - 1
	for k := last - 1; k >= 0; k-- {
		if m.t[last].Sub(m.t[k]) >= time.Second {
			i = k
			break
		}
	}
	dt = m.t[last].Sub(m.t[i]).Seconds()
	return i, last, dt, dt > 0
}

// rates returns the packets and bytes per second each way over about the
// last second.
func (m *netMeter) rates() (pktsIn, pktsOut, bytesIn, bytesOut float64) {
	i, last, dt, ok := m.lastSecond()
	if !ok {
		return 0, 0, 0, 0
	}
	a, b := m.st[i], m.st[last]
	per := func(now, then uint64) float64 { return float64(now-then) / dt }
	return per(b.Received, a.Received), per(b.Assembled, a.Assembled), per(b.BytesRecv, a.BytesRecv), per(b.BytesSent, a.BytesSent)
}

// snapshotRate returns the snapshots and the bytes of snapshots received
// per second over about the last second. Counters that went back (a new
// connection) count as no traffic.
func (m *netMeter) snapshotRate() (snapshots, bytes float64) {
	i, last, dt, ok := m.lastSecond()
	if !ok {
		return 0, 0
	}
	a, b := m.rep[i], m.rep[last]
	per := func(now, then uint64) float64 {
		if now < then {
			return 0
		}
		return float64(now-then) / dt
	}
	return per(b.Snapshots, a.Snapshots), per(b.Bytes, a.Bytes)
}

// replicationLine is the overlay's line on the replication: the entities
// known, how far in the past the others are shown, and the snapshots'
// bit rate.
func replicationLine(r player.Replication, bytesPerSecond float64) string {
	return fmt.Sprintf("entities %d   delay %.0f ms   snapshots %.1f kbit/s",
		r.Entities, float64(r.Delay)/float64(time.Millisecond), bytesPerSecond*8/1000)
}

func (g *Game) label(dst *ebiten.Image, s string, x, y float64, face *text.GoTextFace, c color.Color, align text.Align) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(c)
	op.PrimaryAlign = align
	text.Draw(dst, s, face, op)
}

// sprite draws img centered at world position (x, y) as seen by camera
// cam, rotated by angle, scaled, tinted and faded.
func sprite(dst, img *ebiten.Image, cam camera, x, y, angle, scale float64, c color.Color, alpha float32) {
	b := img.Bounds()
	sx, sy := cam.screen(x, y)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-float64(b.Dx())/2, -float64(b.Dy())/2)
	op.GeoM.Scale(scale, scale)
	op.GeoM.Rotate(angle)
	op.GeoM.Translate(sx, sy)
	op.ColorScale.ScaleWithColor(c)
	op.ColorScale.ScaleAlpha(alpha)
	op.Filter = ebiten.FilterLinear
	dst.DrawImage(img, op)
}

// Draw renders the frame.
func (g *Game) Draw(screen *ebiten.Image) {
	now := time.Now()
	if g.rp != nil {
		now = g.rp.r.Now() // the recording's clock
	}
	v := g.p.View(now)
	g.drawFrame(screen, v, now)
	if g.rp != nil {
		g.drawReplay(screen, v)
	} else {
		g.status(screen, v)
		if g.overlay {
			g.networkOverlay(screen, v)
		}
		g.label(screen, "Left/Right or A/D turn   Up/W thrust   Space fire   N network   P screenshot   Esc quit", 12, Height-24, g.small, dim(), text.AlignStart)
	}
	if g.shotReq.Swap(false) || g.shot {
		g.shot = false
		img := image.NewRGBA(screen.Bounds())
		screen.ReadPixels(img.Pix)
		go func() {
			path, err := paint.SavePNG(img, g.opts.ScreenshotDir, "arena")
			if err != nil {
				fmt.Fprintf(g.opts.Out, "screenshot failed: %v\n", err)
				return
			}
			fmt.Fprintf(g.opts.Out, "screenshot saved to %s\n", path)
		}()
	}
}

// drawFrame draws what v shows: the world through the camera (stars,
// walls, asteroids, particles, bullets, ships and their names), then the
// minimap, the score board and the kill feed.
func (g *Game) drawFrame(screen *ebiten.Image, v player.View, now time.Time) {
	screen.Fill(background())
	b := bounds(v)
	cam := cameraFor(b, v.CamX, v.CamY)
	m := &g.mesh // reused: a field of asteroids is many vertices
	m.Reset()
	for _, s := range g.starPts {
		x, y := parallax(cam, b, float64(s[0]), float64(s[1]), 0.15+0.35*float64(s[2]))
		c := float32(0.35 * s[2])
		m.Rect(plot.Rect{X: float32(x), Y: float32(y), W: 1.5, H: 1.5}, plot.Color{R: c, G: c, B: c * 1.2, A: 1})
	}
	x0, y0 := cam.screen(0, 0)
	m.Frame(plot.Rect{X: float32(x0), Y: float32(y0), W: float32(b.Width * Scale), H: float32(b.Height * Scale)}, 2, plot.Color{R: 0.25, G: 0.3, B: 0.45, A: 1})
	for _, a := range v.Asteroids {
		if cam.visible(a.X, a.Y, a.Radius) {
			g.rockPts = rockMesh(m, g.rockPts, a, cam)
		}
	}
	g.painter.Draw(screen, m)

	for _, p := range g.particles {
		if !cam.visible(p.x, p.y, 10) {
			continue
		}
		f := float32(1 - p.life/p.max)
		sprite(screen, g.spark, cam, p.x, p.y, 0, p.size, p.c, f)
	}
	for _, bl := range v.Bullets {
		if cam.visible(bl.X, bl.Y, 4) {
			sprite(screen, g.bullet, cam, bl.X, bl.Y, 0, 1, g.color(v, bl.Owner), 1)
		}
	}
	g.drawBeams(screen, v, cam, now)
	shipScale := 2.6 * sim.ShipRadius * Scale / 48
	// Name labels stay off the score board, the kill feed, the minimap
	// and the overlay: over them a label would garble both.
	avoid := []plot.Rect{g.scoreBoardRect(v), g.killFeedRect(v)}
	mini, showMini := minimapRect(b)
	if showMini {
		avoid = append(avoid, mini)
	}
	switch {
	case g.rp != nil:
		avoid = append(avoid, replayBarRect())
		if g.overlay {
			avoid = append(avoid, replayOverlayRect())
		}
	case g.overlay:
		avoid = append(avoid, overlayRect())
	}
	for _, s := range v.Ships {
		if !s.Alive || !cam.visible(s.X, s.Y, 3*sim.ShipRadius) {
			continue
		}
		c := g.pal[s.Color%uint8(len(g.pal))]
		if s.Thrust {
			fx := s.X - math.Cos(s.Angle)*sim.ShipRadius*1.25
			fy := s.Y - math.Sin(s.Angle)*sim.ShipRadius*1.25
			sprite(screen, g.flame, cam, fx, fy, s.Angle, shipScale*0.9, color.White, 0.9)
		}
		sprite(screen, g.ship, cam, s.X, s.Y, s.Angle, shipScale, c, 1)
		sx, sy := cam.screen(s.X, s.Y)
		if s.Shield {
			// Spawn protection: a ring that pulses, so it catches the eye.
			a := float32(0.45 + 0.35*math.Sin(float64(now.UnixMilli()%1000)/1000*2*math.Pi))
			var sm plot.Mesh
			ringMesh(&sm, float32(sx), float32(sy), float32(sim.ShipRadius*Scale*1.5), plot.Color{R: 0.6, G: 0.85, B: 1, A: a})
			g.painter.Draw(screen, &sm)
		}
		name := s.Name
		if s.Local {
			name = "> " + name + " <"
		}
		w, h := text.Measure(name, g.small, 0)
		if x, y, ok := placeLabel(sx, sy, sim.ShipRadius*Scale, w, h, avoid); ok {
			g.label(screen, name, x, y, g.small, c, text.AlignCenter)
		}
	}
	if showMini {
		m.Reset()
		minimapMesh(m, mini, v, cam, g.plotPal)
		g.painter.Draw(screen, m)
	}
	g.scoreBoard(screen, v)
	g.killFeed(screen, v)
}

// ringMesh appends a circle outline made of short segments.
func ringMesh(m *plot.Mesh, cx, cy, r float32, c plot.Color) {
	const n = 28
	var pts []plot.Point
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		pts = append(pts, plot.Point{X: cx + r*float32(math.Cos(a)), Y: cy + r*float32(math.Sin(a))})
	}
	m.Polyline(pts, 2, c)
}

// color returns the color of ship id's owner.
func (g *Game) color(v player.View, id uint32) color.RGBA {
	for _, s := range v.Ships {
		if s.ID == id {
			return g.pal[s.Color%uint8(len(g.pal))]
		}
	}
	for _, p := range v.Players { // a ship out of view shot this bullet
		if p.ID == id {
			return g.pal[p.Color%uint8(len(g.pal))]
		}
	}
	return white()
}

// The score board's layout: rows right-aligned at boardRight, from
// boardTop down, boardRowH apart, each name ending boardNameGap left of
// its numbers.
const (
	boardRight   = Width - 16
	boardTop     = 12
	boardRowH    = 20
	boardNameGap = 110 // 160 with the rocks column (boardGap)
	feedLeft     = 16
	feedTop      = 12
	feedRowH     = 18
	labelGap     = 6 // between a ship and its name
)

// boardTop10 is how many of the best players the score board lists; the
// local player, when lower, comes after them with its rank.
const boardTop10 = 10

// boardRow is a line of the score board: a player and its rank (1 for
// the best).
type boardRow struct {
	Rank int
	player.Standing
}

// standings returns every player of v, best first: by score, then fewest
// deaths, ties in the view's order. Before the view lists the players it
// makes do with the ships in view.
func standings(v player.View) []player.Standing {
	var ps []player.Standing
	if len(v.Players) > 0 {
		ps = slices.Clone(v.Players)
	} else {
		for _, s := range v.Ships {
			ps = append(ps, player.Standing{ID: s.ID, Name: s.Name, Color: s.Color, Score: s.Score, Deaths: s.Deaths,
				X: s.X, Y: s.Y, Alive: s.Alive, Local: s.Local})
		}
	}
	slices.SortStableFunc(ps, func(a, b player.Standing) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Deaths, b.Deaths)
	})
	return ps
}

// boardRows returns the rows of v's score board: the best boardTop10
// players, and the local player after them when it is lower.
func boardRows(v player.View) []boardRow {
	ps := standings(v)
	var rows []boardRow
	for i, p := range ps {
		if i < boardTop10 {
			rows = append(rows, boardRow{Rank: i + 1, Standing: p})
		} else if p.Local {
			rows = append(rows, boardRow{Rank: i + 1, Standing: p})
			break
		}
	}
	return rows
}

// rocks reports whether v's score board counts the asteroids destroyed:
// in a scene with asteroids.
func rocks(v player.View) bool { return v.Scene.Asteroids > 0 }

// boardName is the name a row shows: the player's, after its rank when
// it is below the top of the board.
func boardName(r boardRow) string {
	if r.Rank > boardTop10 {
		return fmt.Sprintf("%d. %s", r.Rank, r.Name)
	}
	return r.Name
}

func (g *Game) scoreBoard(dst *ebiten.Image, v player.View) {
	rk := rocks(v)
	if rk {
		g.backdrop(dst, g.scoreBoardRect(v))
	}
	cols := boardColumns(rk)
	x, y := float64(boardRight), float64(boardTop)
	for i, h := range boardHeader(rk) {
		g.label(dst, h, x-cols[i], y, g.small, dim(), text.AlignEnd)
	}
	for _, r := range boardRows(v) {
		y += boardRowH
		c := g.pal[r.Color%uint8(len(g.pal))]
		for i, n := range boardNumbers(r.Standing, rk) {
			g.label(dst, n, x-cols[i], y, g.face, c, text.AlignEnd)
		}
		g.label(dst, boardName(r), x-boardGap(rk), y, g.face, c, text.AlignEnd)
	}
}

// boardGap is how far left of boardRight the names end: room for the
// numbers, wider with the rocks column.
func boardGap(rocks bool) float64 {
	if rocks {
		return boardNameGap + 50
	}
	return boardNameGap
}

// boardColumns returns how far left of boardRight each column of numbers
// ends. The classic board has one, score and deaths in a line; with
// rocks, score, deaths and rocks are columns of their own.
func boardColumns(rocks bool) []float64 {
	if rocks {
		return []float64{116, 58, 0}
	}
	return []float64{0}
}

// boardHeader is the score board's header, a cell over each column of
// numbers (boardColumns).
func boardHeader(rocks bool) []string {
	if rocks {
		return []string{"score", "deaths", "rocks"}
	}
	return []string{"score   deaths"}
}

// boardNumbers is a row's numbers, a cell for each column
// (boardColumns): score and deaths, and the asteroids destroyed when
// rocks.
func boardNumbers(s player.Standing, rocks bool) []string {
	if rocks {
		return []string{fmt.Sprint(s.Score), fmt.Sprint(s.Deaths), fmt.Sprint(s.Asteroids)}
	}
	return []string{fmt.Sprintf("%d      %d", s.Score, s.Deaths)}
}

// scoreBoardRect is where the score board of v is drawn.
func (g *Game) scoreBoardRect(v player.View) plot.Rect {
	rk := rocks(v)
	cols := boardColumns(rk)
	rows := boardRows(v)
	nameW, numW := 0.0, 0.0
	for i, h := range boardHeader(rk) {
		w, _ := text.Measure(h, g.small, 0)
		numW = max(numW, cols[i]+w)
	}
	for _, r := range rows {
		w, _ := text.Measure(boardName(r), g.face, 0)
		nameW = max(nameW, w)
		for i, n := range boardNumbers(r.Standing, rk) {
			w, _ = text.Measure(n, g.face, 0)
			numW = max(numW, cols[i]+w)
		}
	}
	m := g.face.Metrics()
	return boardRect(len(rows), boardGap(rk), nameW, numW, m.HAscent+m.HDescent)
}

// boardRect is the rectangle a score board of rows rows covers, with
// names ending gap left of boardRight and nameW wide at most, numbers
// (and header) numW wide at most and lines lineH high, plus a margin.
func boardRect(rows int, gap, nameW, numW, lineH float64) plot.Rect {
	const margin = 4
	left := min(boardRight-gap-nameW, boardRight-numW) - margin
	bottom := boardTop + float64(rows)*boardRowH + lineH + margin
	return plot.Rect{X: float32(left), Y: boardTop - margin, W: float32(boardRight + margin - left), H: float32(bottom - (boardTop - margin))}
}

// backdrop darkens r under a panel, so that it reads over a field of
// asteroids.
func (g *Game) backdrop(dst *ebiten.Image, r plot.Rect) {
	var m plot.Mesh
	m.Rect(r, plot.Color{R: 0.03, G: 0.04, B: 0.08, A: 0.85})
	g.painter.Draw(dst, &m)
}

func (g *Game) killFeed(dst *ebiten.Image, v player.View) {
	if rocks(v) && len(v.Kills) > 0 {
		g.backdrop(dst, g.killFeedRect(v))
	}
	y := float64(feedTop)
	for _, k := range v.Kills {
		g.label(dst, killLine(k), feedLeft, y, g.small, white(), text.AlignStart)
		y += feedRowH
	}
}

func killLine(k player.Kill) string { return fmt.Sprintf("%s destroyed %s", k.Killer, k.Victim) }

// killFeedRect is where the kill feed of v is drawn (empty without kills).
func (g *Game) killFeedRect(v player.View) plot.Rect {
	if len(v.Kills) == 0 {
		return plot.Rect{}
	}
	w := 0.0
	for _, k := range v.Kills {
		kw, _ := text.Measure(killLine(k), g.small, 0)
		w = max(w, kw)
	}
	m := g.small.Metrics()
	return plot.Rect{X: feedLeft - 4, Y: feedTop - 4, W: float32(w + 8), H: float32(float64(len(v.Kills)-1)*feedRowH + m.HAscent + m.HDescent + 8)}
}

// placeLabel returns where to draw the top center of a w by h label for a
// ship of radius r at screen point (x, y): above the ship, or below it
// when above would cover one of the rectangles in avoid; ok is false when
// both would (the score board names every ship anyway).
func placeLabel(x, y, r, w, h float64, avoid []plot.Rect) (lx, ly float64, ok bool) {
	for _, top := range [...]float64{y - r - labelGap - h, y + r + labelGap} {
		box := plot.Rect{X: float32(x - w/2), Y: float32(top), W: float32(w), H: float32(h)}
		if !slices.ContainsFunc(avoid, func(a plot.Rect) bool { return overlaps(box, a) }) {
			return x, top, true
		}
	}
	return 0, 0, false
}

// overlaps reports whether two rectangles share some area; an empty one
// overlaps nothing.
func overlaps(a, b plot.Rect) bool {
	if a.W <= 0 || a.H <= 0 || b.W <= 0 || b.H <= 0 {
		return false
	}
	return a.X < b.Right() && b.X < a.Right() && a.Y < b.Bottom() && b.Y < a.Bottom()
}

// status shows the connection state in the middle of the screen when the
// game is not simply running.
func (g *Game) status(dst *ebiten.Image, v player.View) {
	line, hint := g.statusText(v)
	switch {
	case line == "" && len(v.Ships) > 0 && !v.Ships[0].Alive && v.Ships[0].Local:
		g.label(dst, "Destroyed. Respawning ...", Width/2, Height/2+60, g.face, white(), text.AlignCenter)
		return
	case line == "":
		return
	}
	// A long reason (with advice) takes several lines, none wider than
	// the window.
	lines := wrap(line, g.bold, Width-80)
	const lineH = 26
	y := float64(Height/2-30) - float64(len(lines)-1)*lineH/2
	for i, l := range lines {
		g.label(dst, l, Width/2, y+float64(i)*lineH, g.bold, white(), text.AlignCenter)
	}
	if hint != "" {
		g.label(dst, hint, Width/2, y+float64(len(lines)-1)*lineH+34, g.face, dim(), text.AlignCenter)
	}
}

// wrap cuts s at spaces into lines no wider than width in face (a word
// wider than that is a line of its own).
func wrap(s string, face text.Face, width float64) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		next := w
		if cur != "" {
			next = cur + " " + w
		}
		if cur != "" {
			if wide, _ := text.Measure(next, face, 0); wide > width {
				lines = append(lines, cur)
				next = w
			}
		}
		cur = next
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// statusText is what the middle of the screen says: nothing while the
// game simply runs, the state while connecting and joining, and why when
// the game could not start or ended.
func (g *Game) statusText(v player.View) (line, hint string) {
	const retry = "Press R to retry, Esc to quit"
	c := g.p.Client()
	rc, reconnecting := g.p.Reconnecting()
	switch {
	case g.failed():
		return failure(g.reason(), g.opts.Server), retry
	case reconnecting:
		return reconnectingText(rc, g.opts.Server)
	case c.Status() == conn.Connecting:
		return fmt.Sprintf("Connecting to %s ...", g.opts.Server), ""
	case !g.p.InGame() || len(v.Ships) == 0:
		return "Joining the game ...", ""
	}
	return "", ""
}

// reconnectingText is what the middle of the screen says while the player
// reconnects: why in a few words, and the attempt.
func reconnectingText(rc player.Reconnecting, server string) (line, hint string) {
	line = fmt.Sprintf("Reconnecting to %s ...", server)
	if why := rc.Why(); why != "" {
		line = fmt.Sprintf("Reconnecting: %s ...", why)
	}
	switch {
	case rc.Trying:
		hint = fmt.Sprintf("Attempt %d", rc.Attempt)
	case rc.Attempt > 0:
		hint = fmt.Sprintf("Attempt %d failed (%s); attempt %d in a moment", rc.Attempt, player.Reason(rc.Failed), rc.Attempt+1)
	default:
		hint = "Attempt 1 in a moment"
	}
	return line, hint + "   Esc to quit"
}

// failure explains why a connection ended or could not start, for a
// player: player.Explain's sentence, as a sentence on its own.
func failure(err error, server string) string {
	s := player.Explain(err, server)
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// networkOverlay draws the connection's numbers, the replication's of v
// and a latency graph.
func (g *Game) networkOverlay(dst *ebiten.Image, v player.View) {
	c := g.p.Client()
	st := c.Stats()
	r := overlayRect()
	var m plot.Mesh
	m.Rect(r, plot.Color{R: 0.05, G: 0.07, B: 0.12, A: 0.88})
	m.Frame(r, 1, plot.Color{R: 0.3, G: 0.35, B: 0.5, A: 1})
	graph := plot.Rect{X: r.X + 12, Y: r.Y + r.H - 62, W: r.W - 24, H: 50}
	m.Rect(graph, plot.Color{R: 0.1, G: 0.12, B: 0.2, A: 1})
	top := plot.NiceMax(plot.Peak(g.latency) * 1.2)
	sc := plot.Scale{R: graph, Max: top}
	m.Polyline(sc.PointsRight(g.latency, 150), 2, overlayLine())
	g.painter.Draw(dst, &m)

	x, y := float64(r.X+12), float64(r.Y+8)
	g.label(dst, "network (N hides)", x, y, g.face, white(), text.AlignStart)
	pin, pout, bin, bout := g.net.rates()
	_, snapBytes := g.net.snapshotRate()
	lines := []string{
		fmt.Sprintf("latency %.1f ms one way   status %s", float64(c.Latency())/float64(time.Millisecond), c.Status()),
		fmt.Sprintf("packets/s in %.0f   out %.0f", pin, pout),
		fmt.Sprintf("bytes/s in %sB   out %sB", plot.SI(bin), plot.SI(bout)),
		lossLine(c.Status(), g.net.lossPercent(), st),
		replicationLine(v.Replication, snapBytes),
		laserLine(v.Lasers),
		fmt.Sprintf("frames/s %.0f   updates/s %.0f", ebiten.ActualFPS(), ebiten.ActualTPS()),
	}
	for _, l := range lines {
		y += 20
		g.label(dst, l, x, y, g.small, dim(), text.AlignStart)
	}
	g.label(dst, fmt.Sprintf("latency, last 15 s (max %s ms)", plot.SI(top)), float64(graph.X), float64(graph.Y-16), g.small, dim(), text.AlignStart)
}

// lossLine is the overlay's line on losses. The loss is measured over a
// connection: while there is none it would read 100% (every packet of
// the handshake or of the last seconds unanswered), so the line gives the
// connection's state instead.
func lossLine(st conn.Status, lossPercent float64, s conn.Stats) string {
	var loss string
	switch st {
	case conn.Connected:
		loss = fmt.Sprintf("loss %.1f%% (5 s)", lossPercent)
	case conn.Connecting:
		loss = "loss -- (connecting)"
	case conn.Disconnecting:
		loss = "loss -- (disconnecting)"
	case conn.Dropped:
		loss = "loss -- (connection lost)"
	default:
		loss = "loss -- (disconnected)"
	}
	return fmt.Sprintf("%s   resent %d   dropped %d", loss, s.Resent, s.Dropped)
}

// overlayRect is where the network overlay is drawn.
func overlayRect() plot.Rect { return plot.Rect{X: Width - 340, Y: Height - 276, W: 324, H: 246} }

// overlayLine is the latency graph's color.
func overlayLine() plot.Color { return plot.RGB(120, 220, 120) }

// drawBeams draws the laser beams of v, fading over player.BeamTime: the
// local ship's white, others' in their ship's color.
func (g *Game) drawBeams(dst *ebiten.Image, v player.View, cam camera, now time.Time) {
	if len(v.Beams) == 0 {
		return
	}
	var m plot.Mesh
	for _, b := range v.Beams {
		f := float32(min(1, 1-now.Sub(b.At).Seconds()/player.BeamTime.Seconds()))
		if f <= 0 {
			continue
		}
		x0, y0 := cam.screen(b.X, b.Y)
		x1, y1 := cam.screen(b.X+math.Cos(b.Angle)*b.Length, b.Y+math.Sin(b.Angle)*b.Length)
		c := plot.Color{R: 1, G: 1, B: 1, A: f}
		if !b.Local {
			c = plot.Color{R: 1, G: 0.35, B: 0.35, A: f}
		}
		m.Line(plot.Point{X: float32(x0), Y: float32(y0)}, plot.Point{X: float32(x1), Y: float32(y1)}, 1+2*f, c)
		if b.Hit {
			m.Rect(plot.Rect{X: float32(x1) - 4, Y: float32(y1) - 4, W: 8, H: 8}, c)
		}
	}
	g.painter.Draw(dst, &m)
}

// laserLine is the overlay's line on the local laser: the server's
// verdicts on the hits this screen showed, and how far back it judged
// the last shot (lag compensation).
func laserLine(l player.Lasers) string {
	if l.Verdicts == 0 {
		return "laser (X): no shot yet"
	}
	capped := ""
	if l.LastCapped {
		capped = " capped"
	}
	return fmt.Sprintf("laser hits %d/%d taken  rewind %d ms%s", l.Registered, l.Seen, l.Rewind.Milliseconds(), capped)
}
