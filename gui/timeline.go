package gui

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/gui/internal/history"
	"github.com/mpgs/mpgameserver/gui/internal/timeline"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// The timeline of a replay: the monitor shows the snapshot under its
// cursor, and its history is made again, on each jump, from the
// snapshots before the cursor. Its resolution is the snapshots': a
// second.

// Speeds of playback: 0.25x to 16x, a power of two apart.
const (
	speedSlowest = -2 // 2^-2 = 0.25x
	speedFastest = 4  // 2^4 = 16x
)

// forwardSnaps is how many snapshots the cursor may move on at once
// (playing fast) for the history to take them in one by one rather than
// being made again.
const forwardSnaps = 4

// gapSkip is the longest stretch without snapshots that playback plays
// through; a longer one (the server was down, a restart) is jumped.
const gapSkip = 5 * time.Second

// stepShift is how far Shift+Left/Right step.
const stepShift = 10 * time.Second

// replayUI is the state of a replay's timeline.
type replayUI struct {
	src     *Replay
	rec     *timeline.Recording
	playing bool
	speed   int       // log2 of the speed
	head    time.Time // the playhead, in recording time
	last    time.Time // this machine's time of the previous Update
	shown   int       // the snapshot the history took in last (-1: none)
	gen     uint64    // jumps: series loaded for an older one are dropped
	drag    bool      // the cursor follows the pointer on the bar
	pending time.Time // a seek past what is indexed, waiting for the index

	// what the bar shows of the index, refreshed as it grows
	seenLen  int
	seenDone bool
	marks    []markView

	loads      chan clientSeries
	loadedFor  loadKey
	cancelLoad context.CancelFunc

	// the bar of the latest render: where clicks go, and the times at
	// the ends of its track
	bar, track plot.Rect
	from, to   time.Time
}

// markView is a marker and the snapshots that show its first and last
// moments.
type markView struct {
	timeline.Marker
	from, to int
}

// loadKey is a client's series loaded for the history made at a jump.
type loadKey struct {
	token uint32
	gen   uint64
}

// clientSeries is a client's series over the two minutes before snapshot
// at, loaded in the background.
type clientSeries struct {
	key     loadKey
	at      int
	clients *history.Clients
	err     error
}

func newReplayUI(r *Replay) *replayUI {
	return &replayUI{src: r, rec: r.rec, shown: -1, loads: make(chan clientSeries, 1)}
}

// speedOf returns the playback speed of a step.
func speedOf(step int) float64 { return math.Ldexp(1, step) }

// formatSpeed writes a speed: "0.25×", "1×", "16×".
func formatSpeed(step int) string { return fmt.Sprintf("%g×", speedOf(step)) }

// replayInput is what a replay reads of the input beyond input: whether
// Shift is held, and where the left button is held (for dragging).
type replayInput interface {
	shift() bool
	held() (x, y int, ok bool)
}

func (ebitenInput) shift() bool { return ebiten.IsKeyPressed(ebiten.KeyShift) }

func (ebitenInput) held() (int, int, bool) {
	if !ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
		return 0, 0, false
	}
	x, y := ebiten.CursorPosition()
	return x, y, true
}

func shiftHeld(in input) bool {
	r, ok := in.(replayInput)
	return ok && r.shift()
}

// cursorAt returns the snapshot under the cursor (-1: none yet).
func (rp *replayUI) cursorAt() int {
	i, _ := rp.src.shown()
	return i
}

// timelineInput handles the timeline's keys and the pointer on its bar
// (in the overview and the close-up, when no question or panel is open):
// Space plays and pauses, Left/Right step a second (Shift: 10 s), [ ]
// (or - +) change the speed, M (Shift+M) goes to the next (previous)
// marker, a click or a drag on the bar moves the cursor there.
func (m *Monitor) timelineInput(now time.Time) {
	rp, in := m.rp, m.in
	snaps := rp.rec.Snaps()
	i := rp.cursorAt()
	switch {
	case justPressed(in, ebiten.KeySpace):
		if !rp.playing && i >= 0 && i == len(snaps)-1 && rp.indexDone() && len(snaps) > 1 {
			m.seekIndex(now, 0) // at the end: play from the start
		}
		rp.playing = !rp.playing && len(snaps) > 0
		m.dirty = true
	case anyPressed(in, ebiten.KeyRight):
		rp.playing = false
		if shiftHeld(in) && i >= 0 {
			m.seekTime(now, snaps[i].Taken().Add(stepShift))
		} else {
			m.seekIndex(now, i+1)
		}
		m.dirty = true
	case anyPressed(in, ebiten.KeyLeft):
		rp.playing = false
		if shiftHeld(in) && i >= 0 {
			m.seekTime(now, snaps[i].Taken().Add(-stepShift))
		} else {
			m.seekIndex(now, i-1)
		}
		m.dirty = true
	case anyPressed(in, ebiten.KeyBracketRight, ebiten.KeyEqual, ebiten.KeyNumpadAdd):
		rp.speed = min(speedFastest, rp.speed+1)
		m.dirty = true
	case anyPressed(in, ebiten.KeyBracketLeft, ebiten.KeyMinus, ebiten.KeyNumpadSubtract):
		rp.speed = max(speedSlowest, rp.speed-1)
		m.dirty = true
	case anyPressed(in, ebiten.KeyM):
		m.jumpMarker(now, !shiftHeld(in))
	}
	if x, y, ok := in.click(); ok && rp.bar.W > 0 && rp.bar.Contains(float32(x), float32(y)) {
		rp.drag, rp.playing = true, false
		m.seekTime(now, rp.barTime(float32(x)))
		m.dirty = true
	} else if rp.drag {
		x, held := 0, false
		if h, ok := in.(replayInput); ok {
			x, _, held = h.held()
		}
		if held {
			m.seekTime(now, rp.barTime(float32(x)))
		} else {
			rp.drag = false
		}
	}
}

// indexDone reports whether the index pass ended.
func (rp *replayUI) indexDone() bool {
	done, _, _, _ := rp.rec.Progress()
	return done
}

// seekIndex moves the cursor to snapshot i (within those indexed).
func (m *Monitor) seekIndex(now time.Time, i int) {
	rp := m.rp
	n := rp.rec.Len()
	if n == 0 {
		return
	}
	i = max(0, min(n-1, i))
	rp.pending = time.Time{}
	if err := rp.src.seek(i); err != nil {
		m.say(now, fmt.Sprintf("cannot read the recording: %v", err), true)
		return
	}
	snaps := rp.rec.Snaps()
	rp.head = snaps[i].Taken()
}

// seekTime moves the cursor to the last snapshot taken at or before t
// (the first one if none was). Past what is indexed, it goes as far as
// the index and on when the index gets there.
func (m *Monitor) seekTime(now time.Time, t time.Time) {
	rp := m.rp
	snaps := rp.rec.Snaps()
	if len(snaps) == 0 {
		rp.pending = t
		return
	}
	if t.After(snaps[len(snaps)-1].Taken()) && !rp.indexDone() {
		m.seekIndex(now, len(snaps)-1)
		rp.pending = t
		return
	}
	m.seekIndex(now, max(0, rp.rec.Find(t)))
}

// jumpMarker moves the cursor to the next marker whose first moment is
// after the cursor's snapshot (or the previous one before it).
func (m *Monitor) jumpMarker(now time.Time, next bool) {
	rp := m.rp
	i := rp.cursorAt()
	rp.playing = false
	marks := rp.marks
	if next {
		for _, mk := range marks {
			if mk.from > i && mk.from < rp.rec.Len() {
				m.seekIndex(now, mk.from)
				m.dirty = true
				return
			}
		}
		m.say(now, "no marker after this moment", false)
		return
	}
	for k := len(marks) - 1; k >= 0; k-- {
		if marks[k].from < i {
			m.seekIndex(now, marks[k].from)
			m.dirty = true
			return
		}
	}
	m.say(now, "no marker before this moment", false)
}

// replayStep moves a replay on, once an Update: the first snapshot once
// indexed, a seek waiting for the index, playback, the markers as the
// index grows, the close-up's client series.
func (m *Monitor) replayStep(now time.Time) {
	rp := m.rp
	dt := now.Sub(rp.last)
	if rp.last.IsZero() || dt < 0 {
		dt = 0
	}
	dt = min(dt, time.Second) // a window that slept does not leap
	rp.last = now
	m.refreshMarks()
	snaps := rp.rec.Snaps()
	i := rp.cursorAt()
	switch {
	case len(snaps) == 0:
		return
	case i < 0 && rp.pending.IsZero():
		m.seekIndex(now, 0)
	case !rp.pending.IsZero():
		if !rp.pending.After(snaps[len(snaps)-1].Taken()) || rp.indexDone() {
			m.seekTime(now, rp.pending)
		}
	}
	i = rp.cursorAt()
	if rp.playing && i >= 0 {
		rp.head = rp.head.Add(time.Duration(float64(dt) * speedOf(rp.speed)))
		if i+1 < len(snaps) && snaps[i+1].Taken().Sub(snaps[i].Taken()) > gapSkip && rp.head.After(snaps[i].Taken().Add(time.Second)) {
			rp.head = snaps[i+1].Taken() // a gap in the recording
		}
		j := max(i, rp.rec.Find(rp.head))
		if j != i {
			if err := rp.src.seek(j); err != nil {
				rp.playing = false
				m.say(now, fmt.Sprintf("cannot read the recording: %v", err), true)
			}
		}
		if j == len(snaps)-1 && rp.indexDone() {
			rp.playing = false // the end
			rp.head = snaps[j].Taken()
			m.dirty = true
		} else if j == len(snaps)-1 && rp.head.After(snaps[j].Taken()) {
			rp.head = snaps[j].Taken() // wait for the index
		}
	}
	m.takeClientSeries()
}

// replayDue returns when the next frame is needed for the replay to go
// on (zero: none): the next snapshot while playing, the index's progress
// while it grows.
func (m *Monitor) replayDue(now time.Time) time.Time {
	rp := m.rp
	var due time.Time
	if !rp.indexDone() {
		due = now.Add(200 * time.Millisecond)
	}
	if rp.playing {
		snaps := rp.rec.Snaps()
		i := rp.cursorAt()
		t := now.Add(100 * time.Millisecond)
		if i >= 0 && i+1 < len(snaps) {
			ahead := snaps[i+1].Taken().Sub(rp.head)
			t = now.Add(max(0, min(time.Second, time.Duration(float64(ahead)/speedOf(rp.speed)))))
		}
		if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	return due
}

// refreshMarks takes in the markers found since, and redraws the bar
// while the index grows.
func (m *Monitor) refreshMarks() {
	rp := m.rp
	n, done := rp.rec.Len(), rp.indexDone()
	if n == rp.seenLen && done == rp.seenDone {
		return
	}
	rp.seenLen, rp.seenDone = n, done
	ms := rp.rec.Markers()
	rp.marks = rp.marks[:0]
	for _, mk := range ms {
		rp.marks = append(rp.marks, markView{Marker: mk, from: rp.rec.FindAfter(mk.At), to: rp.rec.FindAfter(mk.Until)})
	}
	m.dirty = true
}

// marksAt returns the markers the snapshot i shows (its second is within
// their run): those that begin there first, then the shorter runs.
func (rp *replayUI) marksAt(i int) []markView {
	var out []markView
	for _, mk := range rp.marks {
		if mk.from <= i && i <= mk.to {
			out = append(out, mk)
		}
	}
	slices.SortStableFunc(out, func(a, b markView) int {
		if (a.from == i) != (b.from == i) {
			if a.from == i {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.to-a.from, b.to-b.from)
	})
	return out
}

// refreshReplay takes in the snapshot under the cursor: one a little
// after the one shown goes into the history as live ones do; any other
// makes the history again from the snapshots before it (the five minutes
// the plots show: their per-second figures, and the one before whole for
// the table's rates).
func (m *Monitor) refreshReplay() {
	rp := m.rp
	v := m.src.SnapshotVersion()
	if v == m.version && m.loaded {
		return
	}
	m.version, m.loaded = v, true
	m.changedAt = m.now()
	i, doc := rp.src.shown()
	if doc == nil {
		m.src.Snapshot(&m.snap)
		return
	}
	if rp.shown >= 0 && i > rp.shown && i-rp.shown <= forwardSnaps {
		for k := rp.shown + 1; k < i; k++ {
			d, err := rp.src.load(k)
			if err != nil {
				m.rebuild(i)
				break
			}
			m.hist.Add(&d.Snapshot)
			m.clients.Add(&d.Snapshot)
		}
		m.hist.Add(&doc.Snapshot)
		m.clients.Add(&doc.Snapshot)
	} else {
		m.rebuild(i)
	}
	rp.shown = i
	m.src.Snapshot(&m.snap)
	m.rows = append(m.rows[:0], m.hist.Rows...)
	m.setWorldColumns(anyReported(m.rows))
	sortRows(m.rows, m.cols, m.table)
	m.logs = m.src.Logs()
	m.readNetwork()
	m.dirty = true
}

// pinned returns the client the close-up shows (0: none).
func (m *Monitor) pinned() uint32 {
	if m.view == viewClient {
		return m.selected
	}
	return 0
}

// rebuild makes the history of snapshot i again: the per-second figures
// of the snapshots of the historySeconds before it, then the one before
// it and it whole (the table's rates, each client's latest row). The
// close-up's client gets its two minutes in the background
// (loadClientSeries).
func (m *Monitor) rebuild(i int) {
	rp := m.rp
	snaps := rp.rec.Snaps()
	cut := snaps[i].Taken().Add(-historySeconds * time.Second)
	lo := sort.Search(i, func(k int) bool { return snaps[k].Taken().After(cut) })
	h := history.New(historySeconds)
	c := history.NewClients(history.ClientBins, history.MaxClients)
	c.Pin(m.pinned())
	for k := lo; k < i-1; k++ {
		h.Add(&snaps[k].Figures)
	}
	if i-1 >= lo {
		if d, err := rp.src.load(i - 1); err == nil {
			h.Add(&d.Snapshot)
			c.Add(&d.Snapshot)
		} else {
			h.Add(&snaps[i-1].Figures)
		}
	}
	if d, err := rp.src.load(i); err == nil {
		h.Add(&d.Snapshot)
		c.Add(&d.Snapshot)
	}
	m.hist, m.clients = h, c
	rp.gen++
}

// loadClientSeries starts loading the close-up client's series over the
// two minutes before the snapshot shown, when they were not loaded since
// the last jump. They come back to takeClientSeries.
func (m *Monitor) loadClientSeries() {
	rp := m.rp
	key := loadKey{token: m.pinned(), gen: rp.gen}
	if key.token == 0 || rp.shown < 0 || key == rp.loadedFor {
		return
	}
	rp.loadedFor = key
	if rp.cancelLoad != nil {
		rp.cancelLoad()
	}
	ctx, cancel := context.WithCancel(context.Background())
	rp.cancelLoad = cancel
	rec, at := rp.rec, rp.shown
	go func() {
		res := clientSeries{key: key, at: at}
		res.clients, res.err = clientSeriesAt(ctx, rec, key.token, at)
		if ctx.Err() != nil {
			return
		}
		select {
		case <-rp.loads: // an older result nobody took
		default:
		}
		rp.loads <- res
		ebiten.ScheduleFrame()
	}()
}

// clientSeriesAt returns the series of the client of token over the
// history.ClientBins seconds up to snapshot at, read with a cursor of its
// own.
func clientSeriesAt(ctx context.Context, rec *timeline.Recording, token uint32, at int) (*history.Clients, error) {
	c := rec.NewCursor()
	defer c.Close()
	snaps := rec.Snaps()
	cut := snaps[at].Taken().Add(-history.ClientBins * time.Second)
	lo := sort.Search(at, func(k int) bool { return snaps[k].Taken().After(cut) })
	cs := history.NewClients(history.ClientBins, history.MaxClients)
	cs.Pin(token)
	for k := lo; k <= at; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := c.Load(k)
		if err != nil {
			return nil, err
		}
		cs.Add(&d.Snapshot)
	}
	return cs, nil
}

// takeClientSeries takes in a client's series loaded in the background
// when they are still wanted, with the snapshots shown since.
func (m *Monitor) takeClientSeries() {
	rp := m.rp
	m.loadClientSeries()
	var res clientSeries
	select {
	case res = <-rp.loads:
	default:
		return
	}
	if res.key != rp.loadedFor || res.key != (loadKey{m.pinned(), rp.gen}) {
		return
	}
	if res.err != nil {
		m.say(m.now(), fmt.Sprintf("cannot read the client's series: %v", res.err), true)
		return
	}
	for k := res.at + 1; k <= rp.shown; k++ {
		d, err := rp.src.load(k)
		if err != nil {
			return
		}
		res.clients.Add(&d.Snapshot)
	}
	m.clients = res.clients
	m.dirty = true
}
