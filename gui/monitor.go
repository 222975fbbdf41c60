// Package gui is the server monitor: an Ebitengine window that hosts a UDP
// server (engine/server) and shows its health every second, the Go
// counterpart of the Python GuiServer and more.
//
// The window draws a header (listening address, connections, packets
// assembled, acked, timed out, pending acks), four plots over the last 300
// seconds (where the event goroutine's time went, ticks per second,
// packets per second and bytes per second each way) and a sortable,
// scrollable table of clients. The server runs on its own goroutine; the
// window only reads the snapshot the server publishes once a second, so
// drawing never slows the ticks. It redraws only when a new snapshot
// arrives or the user changes the table, and draws everything but the text
// in one batch of triangles.
//
// Keys: Esc quits (the server stops gracefully), P saves a screenshot,
// 1-9 or a click on a column header sorts the table, R reverses the order,
// the wheel, arrows, Page Up/Down, Home and End scroll it.
package gui

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/mpgs/mpgameserver/engine/server"
	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/gui/paint"
	"github.com/mpgs/mpgameserver/gui/plot"
)

// The monitor's logical size; the window scales it.
const (
	Width  = 1280
	Height = 800
)

// historySeconds is how far back the plots go: five minutes, as the
// reference's.
const historySeconds = 300

// Source is what the monitor reads: a server's published snapshots.
// *server.Server is one.
type Source interface {
	Snapshot(*server.Snapshot)
	SnapshotVersion() uint64
}

// Monitor is the monitor window's game: Update reads input and new
// snapshots, Draw renders them when something changed.
type Monitor struct {
	src     Source
	out     io.Writer
	shotDir string
	done    <-chan struct{}

	snap    server.Snapshot
	hist    *history.History
	rows    []history.Row
	version uint64
	loaded  bool
	cols    []column
	table   tableState
	dirty   bool
	stop    atomic.Bool
	redraws atomic.Uint64

	shotMu sync.Mutex
	shots  []chan *image.RGBA

	faces faces
	r     renderer
}

type faces struct {
	title, text, small, mono *text.GoTextFace
}

func newFaces() (faces, error) {
	reg, err := text.NewGoTextFaceSource(bytes.NewReader(goregular.TTF))
	if err != nil {
		return faces{}, fmt.Errorf("gui: font: %w", err)
	}
	mono, err := text.NewGoTextFaceSource(bytes.NewReader(gomono.TTF))
	if err != nil {
		return faces{}, fmt.Errorf("gui: font: %w", err)
	}
	return faces{
		title: &text.GoTextFace{Source: reg, Size: 20},
		text:  &text.GoTextFace{Source: reg, Size: 15},
		small: &text.GoTextFace{Source: reg, Size: 12},
		mono:  &text.GoTextFace{Source: mono, Size: 13},
	}, nil
}

// NewMonitor returns a monitor of src. Screenshots (key P) are written to
// the current directory and their paths printed to standard output unless
// SetScreenshots says otherwise.
func NewMonitor(src Source) (*Monitor, error) {
	f, err := newFaces()
	if err != nil {
		return nil, err
	}
	return &Monitor{src: src, out: os.Stdout, shotDir: ".", cols: columns(), dirty: true, faces: f, hist: history.New(historySeconds)}, nil
}

// SetScreenshots sets where key P saves screenshots and where their paths
// are printed.
func (m *Monitor) SetScreenshots(dir string, out io.Writer) {
	m.shotDir, m.out = dir, out
}

// SetDone makes the monitor close when done is closed (the server
// stopped on its own).
func (m *Monitor) SetDone(done <-chan struct{}) { m.done = done }

// RequestStop makes the next Update end the game, as Esc does. It is safe
// from any goroutine (a signal handler).
func (m *Monitor) RequestStop() {
	m.stop.Store(true)
	ebiten.ScheduleFrame()
}

// wake schedules a frame whenever a new snapshot is published or the
// server stops, for the FPS mode that runs frames only on demand. It
// returns when quit is closed.
func (m *Monitor) wake(quit <-chan struct{}, version func() uint64) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-quit:
			return
		case <-m.done:
			ebiten.ScheduleFrame()
			return
		case <-t.C:
			if v := version(); v != last {
				last = v
				ebiten.ScheduleFrame()
			}
		}
	}
}

// Screenshot asks the next Draw to copy the screen; the image arrives on
// the returned channel. Safe from any goroutine.
func (m *Monitor) Screenshot() <-chan *image.RGBA {
	ch := make(chan *image.RGBA, 1)
	m.shotMu.Lock()
	m.shots = append(m.shots, ch)
	m.shotMu.Unlock()
	ebiten.ScheduleFrame()
	return ch
}

// Layout returns the monitor's fixed logical size.
func (m *Monitor) Layout(int, int) (int, int) { return Width, Height }

// Update handles input and picks up a new snapshot.
func (m *Monitor) Update() error {
	if m.stop.Load() || inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		return ebiten.Termination
	}
	if m.done != nil {
		select {
		case <-m.done:
			return ebiten.Termination
		default:
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyP) {
		m.saveScreenshot()
	}
	m.handleTableInput()
	if v := m.src.SnapshotVersion(); v != m.version || !m.loaded {
		m.version, m.loaded = v, true
		m.src.Snapshot(&m.snap)
		m.hist.Add(&m.snap)
		m.rows = append(m.rows[:0], m.hist.Rows...)
		sortRows(m.rows, m.cols, m.table)
		m.dirty = true
	}
	return nil
}

// handleTableInput applies sorting and scrolling keys and clicks.
func (m *Monitor) handleTableInput() {
	st := m.table
	for i := range min(len(m.cols), 9) {
		if inpututil.IsKeyJustPressed(ebiten.Key1 + ebiten.Key(i)) {
			st = m.sortBy(st, i)
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyR) {
		st.desc = !st.desc
	}
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		x, y := ebiten.CursorPosition()
		if i, ok := m.r.headerAt(float32(x), float32(y)); ok {
			st = m.sortBy(st, i)
		}
	}
	page := m.r.visibleRows
	switch {
	case inpututil.IsKeyJustPressed(ebiten.KeyDown) || repeating(ebiten.KeyDown):
		st.offset++
	case inpututil.IsKeyJustPressed(ebiten.KeyUp) || repeating(ebiten.KeyUp):
		st.offset--
	case inpututil.IsKeyJustPressed(ebiten.KeyPageDown):
		st.offset += page
	case inpututil.IsKeyJustPressed(ebiten.KeyPageUp):
		st.offset -= page
	case inpututil.IsKeyJustPressed(ebiten.KeyHome):
		st.offset = 0
	case inpututil.IsKeyJustPressed(ebiten.KeyEnd):
		st.offset = len(m.rows)
	}
	if _, dy := ebiten.Wheel(); dy != 0 {
		st.offset -= int(dy * 3)
	}
	st.offset = plot.Scroll(st.offset, len(m.rows), page)
	if st != m.table {
		sortAgain := st.sortCol != m.table.sortCol || st.desc != m.table.desc
		m.table = st
		if sortAgain {
			sortRows(m.rows, m.cols, m.table)
		}
		m.dirty = true
	}
}

// sortBy selects column i; selecting the sorted column again reverses it.
// Numbers sort largest first, the address smallest first.
func (m *Monitor) sortBy(st tableState, i int) tableState {
	if st.sortCol == i {
		st.desc = !st.desc
		return st
	}
	st.sortCol, st.desc = i, m.cols[i].right
	return st
}

// repeating reports a held key after a short delay, for scrolling.
func repeating(k ebiten.Key) bool {
	d := inpututil.KeyPressDuration(k)
	return d > 20 && d%3 == 0
}

// Draw renders the monitor when its data or the table changed, and hands
// the screen to pending screenshot requests.
func (m *Monitor) Draw(screen *ebiten.Image) {
	if !m.loaded {
		return // no snapshot yet (Draw may come before the first Update)
	}
	m.shotMu.Lock()
	shots := m.shots
	m.shots = nil
	m.shotMu.Unlock()
	if !m.dirty && len(shots) == 0 {
		return // the screen keeps the last frame (SetScreenClearedEveryFrame(false))
	}
	if m.dirty {
		m.r.render(screen, m)
		m.dirty = false
		m.redraws.Add(1)
	}
	if len(shots) > 0 {
		b := screen.Bounds()
		img := image.NewRGBA(b)
		screen.ReadPixels(img.Pix)
		for _, ch := range shots {
			ch <- img
		}
	}
}

// saveScreenshot captures the next frame and writes it as a PNG in the
// background, then prints the file's path.
func (m *Monitor) saveScreenshot() {
	ch := m.Screenshot()
	dir, out := m.shotDir, m.out
	go func() {
		img := <-ch
		path, err := paint.SavePNG(img, dir, "monitor")
		if err != nil {
			fmt.Fprintf(out, "screenshot failed: %v\n", err)
			return
		}
		fmt.Fprintf(out, "screenshot saved to %s\n", path)
	}()
}
