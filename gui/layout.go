package gui

import "github.com/mpgs/mpgameserver/internal/plot"

// The monitor's default window size, and the smallest screen it lays
// out: a smaller window shows that size scaled down.
const (
	Width     = 1280
	Height    = 800
	MinWidth  = 960
	MinHeight = 640
)

// Layout geometry.
const (
	margin    = 16
	gap       = 12
	headerH   = 60
	bandH     = 26 // a warning band under the header (lost contact, simulated network)
	healthH   = 96
	rowH      = 20
	tableMin  = 2*rowH + 8 + 8*rowH // the table shows 8 rows before the plots grow
	plotMinH  = 140
	plotMaxH  = 300
	plotLeft  = 58
	plotRight = 14
	plotTop   = 54
	plotBot   = 24
	footerH   = 22
	replH     = 24  // the close-up's replication line, above the keys
	mapShare  = 0.3 // of the width, the world map's beside the plots
	mapMinW   = 240 // the world map's narrowest
	plotMinW  = 280 // a plot's narrowest beside the world map
	mapTop    = 50  // the world map's title and legend, above the world
	mapPad    = 10  // around the world inside its tile
	mapBottom = 8   // under the world inside its tile
)

// screenSize is the monitor's logical screen for a window of w x h
// device-independent pixels: the window itself, at least the minimum.
func screenSize(w, h int) (int, int) { return max(MinWidth, w), max(MinHeight, h) }

// Plot panels of the overview, in order.
const (
	plotProfile = iota
	plotTicks
	plotPackets
	plotBytes
)

// Plot panels of a client's close-up, in order.
const (
	cplotLatency = iota
	cplotPackets
	cplotBytes
	cplotResends
	cplotDrops
	numClientPlots
)

// layout is where everything goes on a screen of a size.
type layout struct {
	W, H   float32
	header plot.Rect
	bands  []plot.Rect
	// The overview.
	plots        [4]plot.Rect
	world        plot.Rect // the world map (zero without one)
	health, logs plot.Rect
	table        plot.Rect
	rows         int // client rows the table shows
	// A client's close-up.
	facts  plot.Rect
	cplots [numClientPlots]plot.Rect
	repl   plot.Rect // the replication line (zero without one)
	footer plot.Rect
}

// worldTiles is what a game that reports its world (server.WorldReporter)
// adds to the screens.
type worldTiles struct {
	worldMap bool // the overview's world map: the world has bounds
	repl     bool // the close-up's replication line: the game reports clients
}

// computeLayout lays out a w x h screen with bands warning bands under
// the header, for a game that reports no world.
func computeLayout(w, h, bands int) layout { return layoutWorld(w, h, bands, worldTiles{}) }

// layoutWorld lays out a w x h screen with bands warning bands under the
// header and the tiles of a game's world wt. Plots grow with the size, up
// to a limit; the table takes the rest of the height, so a taller window
// shows more clients. The world map stands right of the plots, as tall as
// both their rows, and takes its width from them; the table keeps its
// place and its rows.
func layoutWorld(w, h, bands int, wt worldTiles) layout {
	l := layout{W: float32(w), H: float32(h)}
	W, H := float32(w), float32(h)
	l.header = plot.Rect{X: margin, Y: 6, W: W - 2*margin, H: headerH - 6}
	y := float32(headerH)
	for range bands {
		l.bands = append(l.bands, plot.Rect{X: margin, Y: y, W: W - 2*margin, H: bandH})
		y += bandH + 4
	}
	top := y

	// Overview: two rows of two plots, the health strip, the table. The
	// plots take about a quarter of the height each, up to a limit, and
	// leave the table room for a few rows; the table gets the rest.
	fixed := top + gap + healthH + gap + tableMin + margin
	ph := min(float32(int(0.24*H)), float32(int((H-fixed-gap)/2)))
	ph = max(plotMinH, min(plotMaxH, ph))
	pw := (W - 3*margin) / 2
	if wt.worldMap {
		avail := W - 2*margin
		mw := max(mapMinW, min(float32(int(mapShare*avail)), avail-2*margin-2*plotMinW))
		pw = float32(int((avail - mw - 2*margin) / 2))
		x := 3*margin + 2*pw
		l.world = plot.Rect{X: x, Y: top, W: W - margin - x, H: 2*ph + gap}
	}
	l.plots[plotProfile] = plot.Rect{X: margin, Y: top, W: pw, H: ph}
	l.plots[plotTicks] = plot.Rect{X: 2*margin + pw, Y: top, W: pw, H: ph}
	l.plots[plotPackets] = plot.Rect{X: margin, Y: top + ph + gap, W: pw, H: ph}
	l.plots[plotBytes] = plot.Rect{X: 2*margin + pw, Y: top + ph + gap, W: pw, H: ph}
	hy := top + 2*ph + 2*gap
	hw := float32(int((W - 3*margin) * 0.58))
	l.health = plot.Rect{X: margin, Y: hy, W: hw, H: healthH}
	l.logs = plot.Rect{X: 2*margin + hw, Y: hy, W: W - 3*margin - hw, H: healthH}
	ty := hy + healthH + gap
	l.table = plot.Rect{X: margin, Y: ty, W: W - 2*margin, H: H - ty - margin}
	l.rows = max(1, int(l.table.H-2*rowH-8)/rowH)

	// Close-up: the facts and five plots in a 3 x 2 grid, the replication
	// line of a game that reports it, a line of keys.
	l.footer = plot.Rect{X: margin, Y: H - margin - footerH, W: W - 2*margin, H: footerH}
	bottom := l.footer.Y
	if wt.repl {
		l.repl = plot.Rect{X: margin, Y: l.footer.Y - gap - replH, W: W - 2*margin, H: replH}
		bottom = l.repl.Y
	}
	cw := (W - 4*margin) / 3
	ch := float32(int((bottom - gap - top - gap) / 2))
	cell := func(i int) plot.Rect {
		col, row := i%3, i/3
		return plot.Rect{X: margin + float32(col)*(cw+margin), Y: top + float32(row)*(ch+gap), W: cw, H: ch}
	}
	l.facts = cell(0)
	for i := range l.cplots {
		l.cplots[i] = cell(i + 1)
	}
	return l
}

// plotArea returns the data area of a plot panel (inside its axes).
func plotArea(r plot.Rect) plot.Rect {
	return plot.Rect{X: r.X + plotLeft, Y: r.Y + plotTop, W: r.W - plotLeft - plotRight, H: r.H - plotTop - plotBot}
}

// worldArea returns where the world goes in the world map's tile: under
// its title and legend.
func worldArea(r plot.Rect) plot.Rect {
	return plot.Rect{X: r.X + mapPad, Y: r.Y + mapTop, W: r.W - 2*mapPad, H: r.H - mapTop - mapBottom}
}

// tableRow returns the rectangle of the i-th visible row of the table.
func (l *layout) tableRow(i int) plot.Rect {
	return plot.Rect{X: l.table.X, Y: l.table.Y + 4 + rowH + 2 + float32(i)*rowH, W: l.table.W, H: rowH}
}
