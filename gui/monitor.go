// Package gui is the server monitor: an Ebitengine window that shows a
// server's health every second and acts on it, the Go counterpart of the
// Python GuiServer and more. It reads an admin.Source: a server in this
// process (admin.Local, what Server hosts) or one started elsewhere with
// `mpgameserver serve --http` and attached over HTTP (admin.Remote, what
// Attached shows). Both take the same path through the monitor.
//
// The overview draws a header (address, connections, packets assembled,
// acked, timed out, pending acks, how fresh the data is), four plots
// over the last 300 seconds (where the event goroutine's time went, ticks
// per second, packets per second and bytes per second each way), a health
// strip (datagrams dropped per second by reason, handler panics, refused
// handshakes, late and stalled ticks, the worst highlighted) beside the
// server's latest warnings and errors, and a sortable, scrollable table of
// clients. A game that reports its world (server.WorldReporter) adds what
// its replication sends each client to the table (entities in view, the
// last snapshot's bytes of its budget, entities waiting for room) and to
// the close-up (a line of every figure), and a map of its world beside
// the plots: its entities by kind and every client's view, the
// highlighted one's named. A client's close-up plots its own latency,
// traffic, resends and timeouts and drops over its last two minutes, with
// its facts, and lets you disconnect it or block its address. The network
// panel applies simulated loss, latency, jitter, duplication and
// reordering (a server started with --netsim), to every client or one;
// while any is on, a band says so on every screen. An attached window
// says when it lost contact with the server and picks up again when it
// returns.
//
// A replay (Replay, in a Replayed window: `mpgameserver gui --replay
// DIR`) shows a flight recording of a server (`serve --record DIR`) in the
// same monitor: every panel shows the snapshot under the cursor of a
// timeline bar along the bottom, the plots the five minutes before it,
// made again from the recording at each jump. The bar shows the
// recording's span, what is indexed of it, the cursor and markers of
// trouble (stalls, late ticks, handler panics, drops by reason, clients
// that timed out or left, a client's latency spikes, records the
// recording lost), and names the marker under the cursor. Its resolution
// is the snapshots': a second. A replay takes no actions: D, B and the
// network panel's Enter say so.
//
// The window reads only the snapshots the server publishes once a second,
// so drawing never slows the ticks. It redraws only when a new snapshot
// arrives or what it shows changes (input, contact, an action's result),
// draws everything but the text in one batch of triangles, and lays
// itself out to the window's size.
//
// Keys, overview: Up/Down (or a click) select a client, Enter (or the
// click) shows it up close, 1-9 or a click on a column header sorts the
// table, R reverses the order, the wheel, Page Up/Down, Home and End
// scroll, N opens the network panel, P saves a screenshot, Esc quits (an
// in-process server stops gracefully). Close-up: D disconnects the client,
// B blocks its address (each asks Y/N first), Up/Down go to the next
// client, N opens the network panel for it, Esc goes back. Network panel:
// Up/Down pick a field, +/- (or Left/Right) change it, Enter applies, 0
// resets to a perfect link, T switches between all clients and the
// selected one, Esc closes. A replay's timeline, in the overview and the
// close-up: Space plays and pauses (at the end, plays from the start),
// Left/Right step a second (Shift+Left/Right ten seconds), [ and ] (or -
// and +) slow down and speed up (0.25× to 16×), M goes to the next marker
// and Shift+M to the previous one, a click or a drag on the bar goes
// there.
package gui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// historySeconds is how far back the plots go: five minutes, as the
// reference's.
const historySeconds = 300

// Source is what the monitor reads and acts through: admin.Local for a
// server in this process, admin.Remote for one attached over HTTP.
type Source = admin.Source

// contacter is a Source reached over a network (admin.Remote): the
// monitor shows how its polling goes.
type contacter interface {
	Contact() admin.Contact
}

// view is what the monitor shows.
type view int

const (
	viewOverview view = iota
	viewClient
)

// Monitor is the monitor window's game: Update reads input and new
// snapshots, Draw renders them when something changed.
type Monitor struct {
	src     Source
	remote  contacter // nil for a server in this process
	rp      *replayUI // a replay's timeline (nil for a server)
	in      input
	out     io.Writer
	shotDir string
	done    <-chan struct{}
	now     func() time.Time

	snap    server.Snapshot
	hist    *history.History
	clients *history.Clients
	rows    []history.Row
	logs    []admin.LogLine
	network admin.Network
	simText string // networkSummary(&network)
	actions bool
	// redacted: the source reads the server without a token, which shows
	// counters but not who plays (admin.Remote.Redacted)
	redacted bool
	version  uint64
	loaded   bool
	// changedAt is when the latest new snapshot came in.
	changedAt time.Time

	cols     []column
	worldCol bool // cols end with worldColumns
	table    tableState
	view     view
	cursor   uint32 // the highlighted row's client (0: none)
	selected uint32 // the close-up's client
	confirm  *confirmation
	net      netPanel
	toast    toast
	results  chan actionResult
	busy     int // actions under way
	status   status

	lay      layout // of the latest render: click targets, page size
	drawnW   int
	drawnH   int
	dirty    bool
	stop     atomic.Bool
	redraws  atomic.Uint64
	deadline atomic.Int64 // Unix ns when the screen's text goes out of date (0: never)

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

// NewMonitor returns a monitor of src: admin.NewLocal(srv, tail, sim) for
// a server in this process, admin.Attach(url, token, nil) for one
// elsewhere (run its Run too). Screenshots (key P) are written to
// DefaultScreenshotDir and their paths printed to standard output unless
// SetScreenshots says otherwise.
func NewMonitor(src Source) (*Monitor, error) {
	f, err := newFaces()
	if err != nil {
		return nil, err
	}
	m := &Monitor{
		src: src, in: ebitenInput{}, out: os.Stdout, shotDir: DefaultScreenshotDir, now: time.Now,
		cols: columns(), dirty: true, faces: f,
		hist: history.New(historySeconds), clients: history.NewClients(history.ClientBins, history.MaxClients),
		results: make(chan actionResult, 16), lay: computeLayout(Width, Height, 0),
	}
	if c, ok := src.(contacter); ok {
		m.remote = c
	}
	if r, ok := src.(*Replay); ok {
		m.rp = newReplayUI(r)
	}
	return m, nil
}

// DefaultScreenshotDir is where screenshots go unless SetScreenshots says
// otherwise: a directory of the current one, made on the first.
const DefaultScreenshotDir = "screenshots"

// SetScreenshots sets the directory key P saves screenshots in (made when
// missing) and where their paths are printed.
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

// wakeKey is what, changing, needs a frame: a new snapshot, or the
// contact with a remote server.
type wakeKey struct {
	version  uint64
	failures int
	lost     bool
	last     time.Time
}

func (m *Monitor) wakeKey() wakeKey {
	k := wakeKey{version: m.src.SnapshotVersion()}
	if m.remote != nil {
		c := m.remote.Contact()
		k.failures, k.lost, k.last = c.Failures, c.Err != nil, c.Last
	}
	return k
}

// wake schedules a frame whenever a new snapshot is published, the
// contact with a remote server changes, the text on screen goes out of
// date (an age, a message that expires, a replay playing), a screenshot
// waits or the server stops, for the FPS mode that runs frames only on
// demand. It returns when quit is closed.
func (m *Monitor) wake(quit <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var last wakeKey
	for {
		select {
		case <-quit:
			return
		case <-m.done:
			ebiten.ScheduleFrame()
			return
		case <-t.C:
			k := m.wakeKey()
			d := m.deadline.Load()
			m.shotMu.Lock()
			shots := len(m.shots)
			m.shotMu.Unlock()
			// A screenshot asked for while a frame ran may have lost its
			// ScheduleFrame: ask again until a Draw takes it.
			if k != last || (d != 0 && time.Now().UnixNano() >= d) || shots > 0 {
				last = k
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

// Layout lays the monitor out to the window: its screen is the window's
// size, at least MinWidth x MinHeight (a smaller window shows that scaled
// down).
func (m *Monitor) Layout(outsideWidth, outsideHeight int) (int, int) {
	w, h := screenSize(outsideWidth, outsideHeight)
	if m.rp != nil {
		h = max(h, MinHeight+barH) // the timeline bar under the screens
	}
	return w, h
}

// Update handles input, picks up a new snapshot and the results of
// actions, and notes whether the screen must change.
func (m *Monitor) Update() error {
	if m.stop.Load() {
		return ebiten.Termination
	}
	if m.done != nil {
		select {
		case <-m.done:
			return ebiten.Termination
		default:
		}
	}
	if f, ok := m.in.(interface{ frame() }); ok {
		f.frame() // a test's scripted input moves on
	}
	now := m.now()
	m.takeResults(now)
	if m.in.pressed(ebiten.KeyP) && m.confirm == nil {
		m.SaveScreenshot()
	}
	if quit := m.handleInput(now); quit {
		return ebiten.Termination
	}
	if m.rp != nil {
		m.replayStep(now)
	}
	m.refresh()
	m.refreshStatus(now)
	return nil
}

// refresh takes in a new snapshot, once a second: the series, each
// client's, the table's rows, the log tail, the network's conditions.
func (m *Monitor) refresh() {
	if m.rp != nil {
		m.refreshReplay()
		return
	}
	v := m.src.SnapshotVersion()
	if v == m.version && m.loaded {
		return
	}
	m.version, m.loaded = v, true
	m.changedAt = m.now()
	m.src.Snapshot(&m.snap)
	m.hist.Add(&m.snap)
	m.clients.Add(&m.snap)
	m.rows = append(m.rows[:0], m.hist.Rows...)
	m.setWorldColumns(anyReported(m.rows))
	sortRows(m.rows, m.cols, m.table)
	m.logs = m.src.Logs()
	m.readNetwork()
	m.dirty = true
}

// setWorldColumns shows or hides the table's columns of a game's
// replication (worldColumns, after the others). Sorted by one of them
// when they go, the table sorts by the first column again.
func (m *Monitor) setWorldColumns(on bool) {
	if on == m.worldCol {
		return
	}
	m.worldCol = on
	m.cols = columns()
	if on {
		m.cols = append(m.cols, worldColumns()...)
	}
	if m.table.sortCol >= len(m.cols) {
		m.table.sortCol, m.table.desc = 0, m.cols[0].right
	}
}

// worldTiles returns the tiles the game's world adds: the map when its
// world has bounds, the replication line when it reports its clients.
func (m *Monitor) worldTiles() worldTiles {
	return worldTiles{worldMap: hasWorld(&m.snap.World), repl: m.worldCol}
}

// readNetwork reads what may change without a new snapshot: the
// simulated network and whether actions are allowed.
func (m *Monitor) readNetwork() {
	m.network = m.src.Network()
	m.actions = m.src.Actions()
	if r, ok := m.src.(interface{ Redacted() bool }); ok {
		m.redacted = r.Redacted()
	}
	m.simText = networkSummary(&m.network)
}

// handleInput applies the keys and clicks of this frame to whatever is
// on top: a confirmation, the network panel, a close-up or the overview.
// It reports whether the monitor should close.
func (m *Monitor) handleInput(now time.Time) bool {
	if m.rp != nil && m.confirm == nil && !m.net.open {
		m.timelineInput(now)
	}
	switch {
	case m.confirm != nil:
		m.confirmInput(now)
	case m.net.open:
		m.netInput(now)
	case m.view == viewClient:
		m.clientInput(now)
	default:
		return m.overviewInput(now)
	}
	return false
}

// overviewInput handles the overview's keys: selecting, sorting and
// scrolling the table, opening a close-up or the network panel, quitting.
func (m *Monitor) overviewInput(now time.Time) bool {
	in := m.in
	if in.pressed(ebiten.KeyEscape) {
		return true
	}
	st := m.table
	for i := range min(len(m.cols), 9) {
		if in.pressed(ebiten.Key1 + ebiten.Key(i)) {
			st = m.sortBy(st, i)
		}
	}
	if in.pressed(ebiten.KeyR) {
		st.desc = !st.desc
	}
	if st != m.table {
		m.table = st
		sortRows(m.rows, m.cols, m.table)
		m.dirty = true
	}
	if x, y, ok := in.click(); ok {
		if i, ok := m.r.headerAt(float32(x), float32(y)); ok {
			m.table = m.sortBy(m.table, i)
			sortRows(m.rows, m.cols, m.table)
			m.dirty = true
		} else if i, ok := m.rowAt(float32(x), float32(y)); ok {
			m.setCursor(i)
			m.openClient(m.rows[i].Token)
			return false
		}
	}
	page := m.lay.rows
	switch {
	case anyPressed(in, keysDown...):
		m.moveCursor(1)
	case anyPressed(in, keysUp...):
		m.moveCursor(-1)
	case in.pressed(ebiten.KeyPageDown):
		m.moveCursor(page)
	case in.pressed(ebiten.KeyPageUp):
		m.moveCursor(-page)
	case in.pressed(ebiten.KeyHome):
		m.moveCursor(-len(m.rows))
	case in.pressed(ebiten.KeyEnd):
		m.moveCursor(len(m.rows))
	}
	if dy := in.wheel(); dy != 0 {
		if off := plot.Scroll(m.table.offset-int(dy*3), len(m.rows), page); off != m.table.offset {
			m.table.offset = off
			m.dirty = true
		}
	}
	if justPressed(in, keysEnter...) && m.cursorIndex() >= 0 {
		m.openClient(m.cursor)
		return false
	}
	if in.pressed(ebiten.KeyN) {
		m.openNetwork(0)
	}
	if i := m.cursorIndex(); i >= 0 {
		m.actionKeys(now, &m.rows[i].PeerSnapshot)
	}
	// Rows may have come or gone: keep the scroll within them.
	if off := plot.Scroll(m.table.offset, len(m.rows), page); off != m.table.offset {
		m.table.offset = off
		m.dirty = true
	}
	return false
}

// justPressed reports whether one of keys was pressed in this frame
// (not repeating).
func justPressed(in input, keys ...ebiten.Key) bool {
	for _, k := range keys {
		if in.pressed(k) {
			return true
		}
	}
	return false
}

// clientInput handles the close-up's keys.
func (m *Monitor) clientInput(now time.Time) {
	in := m.in
	switch {
	case in.pressed(ebiten.KeyEscape):
		m.view = viewOverview
		m.clients.Pin(0)
		m.dirty = true
		return
	case anyPressed(in, keysDown...):
		if m.moveCursor(1) {
			m.openClient(m.cursor)
		}
	case anyPressed(in, keysUp...):
		if m.moveCursor(-1) {
			m.openClient(m.cursor)
		}
	case in.pressed(ebiten.KeyN):
		m.openNetwork(m.selected)
		return
	}
	if c := m.clients.Get(m.selected); c != nil && !c.Gone {
		m.actionKeys(now, &c.Last)
	} else if in.pressed(ebiten.KeyD) || in.pressed(ebiten.KeyB) {
		m.say(now, "the client is gone", true)
	}
}

// cursorIndex returns the row of the highlighted client, or -1.
func (m *Monitor) cursorIndex() int {
	if m.cursor == 0 {
		return -1
	}
	for i := range m.rows {
		if m.rows[i].Token == m.cursor {
			return i
		}
	}
	return -1
}

// setCursor highlights row i and scrolls the table to show it.
func (m *Monitor) setCursor(i int) {
	if i < 0 || i >= len(m.rows) {
		return
	}
	m.cursor = m.rows[i].Token
	page := max(1, m.lay.rows)
	if i < m.table.offset {
		m.table.offset = i
	} else if i >= m.table.offset+page {
		m.table.offset = i - page + 1
	}
	m.table.offset = plot.Scroll(m.table.offset, len(m.rows), page)
	m.dirty = true
}

// moveCursor moves the highlight by delta rows (from the first row shown
// when nothing was highlighted). It reports whether a row is highlighted.
func (m *Monitor) moveCursor(delta int) bool {
	if len(m.rows) == 0 {
		return false
	}
	i := m.cursorIndex()
	if i < 0 {
		i = m.table.offset
		if delta < 0 {
			i = min(len(m.rows)-1, m.table.offset+m.lay.rows-1)
		}
	} else {
		i += delta
	}
	m.setCursor(max(0, min(len(m.rows)-1, i)))
	return true
}

// rowAt returns the row of the table under (x, y).
func (m *Monitor) rowAt(x, y float32) (int, bool) {
	start := plot.Scroll(m.table.offset, len(m.rows), m.lay.rows)
	for i := 0; i < m.lay.rows && start+i < len(m.rows); i++ {
		if m.lay.tableRow(i).Contains(x, y) {
			return start + i, true
		}
	}
	return 0, false
}

// openClient shows the client of token up close.
func (m *Monitor) openClient(token uint32) {
	m.view, m.selected, m.cursor = viewClient, token, token
	m.clients.Pin(token)
	m.dirty = true
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

// status is the text that depends on time and contact rather than on the
// snapshot: the warning bands and how fresh the data is.
type status struct {
	lost   string // lost contact, or never had it ("" when in contact)
	sim    string // the simulated network's conditions ("" when perfect)
	age    string // how old the data is
	stale  bool
	toast  bool
	busy   bool
	remote string
}

// staleAfter is how long without a new snapshot before the monitor says
// so: one comes a second, polled a second apart.
const staleAfter = 3 * time.Second

// refreshStatus recomputes the status; a change redraws. It sets when
// the waker must next schedule a frame for the text to stay true. Ages are
// on this machine's clock: since a new snapshot came in, and, attached,
// since the server last answered.
func (m *Monitor) refreshStatus(now time.Time) {
	st := status{sim: m.simText, busy: m.busy > 0}
	var next time.Time
	fresh := m.changedAt
	if m.remote != nil {
		c := m.remote.Contact()
		st.remote = c.URL
		switch {
		case c.Err != nil && c.Last.IsZero():
			st.lost = fmt.Sprintf("cannot reach %s: retrying (%v)", c.URL, c.Err)
		case c.Err != nil:
			st.lost = fmt.Sprintf("lost contact with %s: reconnecting (%v); last data %s ago", c.URL, c.Err, roundAge(now.Sub(c.Last)))
		case c.Last.IsZero():
			st.lost = fmt.Sprintf("connecting to %s ...", c.URL)
		}
		if c.Last.IsZero() {
			fresh = time.Time{}
		}
	}
	switch age := now.Sub(fresh); {
	case m.rp != nil && m.snap.Taken.IsZero():
		st.age = "no snapshot yet"
	case m.rp != nil:
		st.age = "replay" // recorded: never stale
	case fresh.IsZero() || m.snap.Taken.IsZero():
		st.age = "no data yet"
	case age > staleAfter:
		st.age = fmt.Sprintf("no new data for %s", roundAge(age))
		st.stale = true
	default:
		st.age = "live"
	}
	if st.stale || st.lost != "" {
		next = now.Add(time.Second)
	}
	if m.toast.text != "" {
		if !now.Before(m.toast.until) {
			m.toast.text = ""
			m.dirty = true
		} else {
			st.toast = true
			if next.IsZero() || m.toast.until.Before(next) {
				next = m.toast.until
			}
		}
	}
	if st != m.status {
		m.status = st
		m.dirty = true
	}
	if m.rp != nil {
		if t := m.replayDue(now); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if next.IsZero() {
		m.deadline.Store(0)
	} else {
		m.deadline.Store(next.UnixNano())
	}
}

// roundAge writes an age in whole seconds, minutes past two minutes.
func roundAge(d time.Duration) string {
	if d < 2*time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return d.Truncate(time.Second).String()
}

// Draw renders the monitor when its data, its size or what the user
// chose changed, and hands the screen to pending screenshot requests.
func (m *Monitor) Draw(screen *ebiten.Image) {
	b := screen.Bounds()
	if b.Dx() != m.drawnW || b.Dy() != m.drawnH {
		m.dirty = true // a new size; the screen image is new too
	}
	m.shotMu.Lock()
	shots := m.shots
	m.shots = nil
	m.shotMu.Unlock()
	if !m.dirty && len(shots) == 0 {
		return // the screen keeps the last frame (SetScreenClearedEveryFrame(false))
	}
	if m.dirty {
		m.drawnW, m.drawnH = b.Dx(), b.Dy()
		m.r.render(screen, m)
		m.dirty = false
		m.redraws.Add(1)
	}
	if len(shots) > 0 {
		img := image.NewRGBA(b)
		screen.ReadPixels(img.Pix)
		for _, ch := range shots {
			ch <- img
		}
	}
}

// SaveScreenshot captures the next frame and writes it as a PNG in the
// background, then prints the file's path, as key P does. Safe from any
// goroutine.
func (m *Monitor) SaveScreenshot() {
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

// actionTimeout bounds an action (an HTTP request to a remote server).
const actionTimeout = 10 * time.Second

// run starts an action in the background; its result comes back to
// Update as a message.
func (m *Monitor) run(done string, fn func(ctx context.Context) error) {
	m.busy++
	m.dirty = true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		err := fn(ctx)
		cancel()
		m.results <- actionResult{done: done, err: err}
		ebiten.ScheduleFrame()
	}()
}

// actionResult is what an action came to.
type actionResult struct {
	done string // what it did, said when it worked
	err  error
}

// takeResults shows the results of actions that ended.
func (m *Monitor) takeResults(now time.Time) {
	for {
		select {
		case r := <-m.results:
			m.busy--
			if r.err != nil {
				m.say(now, fmt.Sprintf("failed: %s: %v", r.done, r.err), true)
			} else {
				m.say(now, r.done, false)
			}
			m.readNetwork()
			m.dirty = true
		default:
			return
		}
	}
}

// toast is a message shown for a few seconds.
type toast struct {
	text  string
	err   bool
	until time.Time
}

// say shows a message for a few seconds (errors longer).
func (m *Monitor) say(now time.Time, s string, isErr bool) {
	d := 4 * time.Second
	if isErr {
		d = 8 * time.Second
	}
	m.toast = toast{text: s, err: isErr, until: now.Add(d)}
	m.dirty = true
}

// addrOf returns the address to block for a client.
func addrOf(p *server.PeerSnapshot) netip.Addr { return p.Addr.Addr().Unmap() }
