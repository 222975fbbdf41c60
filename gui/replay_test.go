package gui

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/gui/internal/timeline"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/internal/replaytest"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

var recStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// recSec is the Taken of the snapshot of second k of recordTwoMinutes.
func recSec(k int) time.Time { return recStart.Add(time.Duration(k) * time.Second) }

// connsAt is how many clients recordTwoMinutes' snapshot k has.
func connsAt(k int) int {
	if k <= 60 {
		return k
	}
	return 120 - k
}

// recordTwoMinutes writes two minutes of a server ticking 10 times a
// second, its snapshot once a second (snapshot k-1 of second k, taken at
// recSec(k)): a client joins each second for a minute (tokens 1001 up),
// then one leaves each second, the oldest first; two ticks stall at second
// 90, 300 stale datagrams are dropped at 100; client 1060 (the last to
// join) sees its latency jump from 20 to 500 ms at 110.
func recordTwoMinutes(t testing.TB, dir string) {
	t.Helper()
	s, err := replaytest.New(dir, replaytest.Config(), recStart, 10)
	require.NoError(t, err)
	s.Messages = 2
	s.Logs = []admin.LogLine{{Time: recStart, Level: "WARN", Msg: "recorded warning", Attrs: "addr=192.0.2.9:1"}}
	s.Snap.World = server.WorldMap{MaxX: 6000, MaxY: 4000, Kinds: []string{"ship", "rock"}}
	for i := range 200 {
		s.Snap.World.Points = append(s.Snap.World.Points, server.WorldPoint{X: float32(30 * i), Y: float32(20 * i), Kind: uint8(i % 2)})
	}
	for k := 1; k <= 120; k++ {
		switch {
		case k <= 60:
			s.AddPeers(uint32(1000+k), 1)
		default:
			s.Ticks(3)
			s.Disconnect(uint32(1000+k-60), server.LeftClientClosed)
		}
		switch k {
		case 90:
			s.Snap.Stats.Stalls += 2
		case 100:
			s.Snap.Drops.Stale += 300
		case 110:
			s.Peer(1060).Latency = 500 * time.Millisecond
		case 111:
			s.Peer(1060).Latency = 20 * time.Millisecond
		}
		require.Equal(t, recSec(k), s.Second())
	}
	require.NoError(t, s.Close())
}

// openReplay opens the recording at dir and waits until it is indexed.
func openReplay(t testing.TB, dir string) *Replay {
	t.Helper()
	r, err := OpenReplay(dir)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	select {
	case <-r.Indexed():
	case <-time.After(60 * time.Second):
		t.Fatal("the recording was never indexed")
	}
	return r
}

// replayScript is scripted input with Shift and a held button.
type replayScript struct {
	*script
	mu       sync.Mutex
	shiftOn  bool
	holdX    int
	holdY    int
	holdDown bool
}

func (s *replayScript) shift() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shiftOn
}

func (s *replayScript) held() (int, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdX, s.holdY, s.holdDown
}

func (s *replayScript) setShift(on bool) {
	s.mu.Lock()
	s.shiftOn = on
	s.mu.Unlock()
}

func (s *replayScript) hold(x, y int, down bool) {
	s.mu.Lock()
	s.holdX, s.holdY, s.holdDown = x, y, down
	s.mu.Unlock()
}

// replayMonitor returns a monitor of the replay r with scripted input, a
// clock of its own (advance it with the returned function) and the bar
// placed as a 1280 x 800 window draws it.
func replayMonitor(t testing.TB, r *Replay) (*Monitor, *replayScript, func(time.Duration)) {
	t.Helper()
	m, err := NewMonitor(r)
	require.NoError(t, err)
	require.NotNil(t, m.rp)
	in := &replayScript{script: &script{}}
	m.in = in
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	m.rp.place(barRect(Width, Height))
	return m, in, func(d time.Duration) { now = now.Add(d) }
}

// cursor returns the snapshot the monitor shows, checked against what
// it took in.
func cursor(t testing.TB, m *Monitor) int {
	t.Helper()
	i := m.rp.cursorAt()
	require.Equal(t, i, m.rp.shown, "the history took in the snapshot shown")
	return i
}

// TestReplaySourceTakesNoActions: a replay is a Source that refuses
// every action, and describes its recording.
func TestReplaySourceTakesNoActions(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	var src Source = r
	assert.False(t, src.Actions())
	ctx := context.Background()
	assert.ErrorIs(t, src.Disconnect(ctx, 1001), ErrReplay)
	assert.ErrorIs(t, src.Block(ctx, netip.MustParseAddr("192.0.2.1")), ErrReplay)
	assert.ErrorIs(t, src.SetConditions(ctx, 0, admin.Conditions{Loss: 0.5}), ErrReplay)
	assert.Zero(t, src.SnapshotVersion(), "nothing shown before the monitor moves the cursor")
	assert.Contains(t, r.Summary(), "120 snapshots from ")
	assert.Contains(t, r.Summary(), ", 4 markers")
	assert.Equal(t, dir, r.Path())

	_, err := OpenReplay(t.TempDir())
	assert.ErrorContains(t, err, "holds no recording files")
}

// TestReplayMonitorSeeks drives a replay's monitor: it opens at the first
// snapshot, paused; the keys step it; a click on the bar jumps; the
// history is made again from the snapshots before the cursor at each
// jump, never carried across one.
func TestReplayMonitorSeeks(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, in, _ := replayMonitor(t, r)
	require.NoError(t, m.Update())
	require.Equal(t, 0, cursor(t, m), "opens at the first snapshot")
	assert.False(t, m.rp.playing, "paused")
	assert.Equal(t, 1, m.snap.Connections)
	assert.Equal(t, recSec(1), m.snap.Taken.UTC())
	assert.Equal(t, "replay", m.status.age)
	assert.Equal(t, []admin.LogLine{{Time: recStart, Level: "WARN", Msg: "recorded warning"}}, stripMono(m.logs), "the log tail of then, without the hashed attributes")
	assert.Zero(t, m.deadline.Load(), "paused and indexed: no frames needed")

	step(t, m, in.script, ebiten.KeyRight)
	require.Equal(t, 1, cursor(t, m))
	assert.Equal(t, 2, m.snap.Connections)
	assert.Equal(t, 2, m.hist.Seconds(), "one more second")
	require.Len(t, m.rows, 2)
	assert.Equal(t, "-", addrText(m.rows[0].Addr), "a recording that hashed addresses shows none")

	// A click on the bar: the snapshot at that time, and the five
	// minutes before it (here all 80 seconds) made again.
	tr := m.rp.track
	x := tr.X + tr.W*float32(recSec(80).Sub(m.rp.from))/float32(m.rp.to.Sub(m.rp.from))
	in.push(event{click: true, x: int(x + 0.5), y: int(tr.Y)})
	require.NoError(t, m.Update())
	i := cursor(t, m)
	require.InDelta(t, 79, i, 1, "the snapshot of second 80, within a pixel")
	k := i + 1 // the second of snapshot i
	assert.Equal(t, connsAt(k), m.snap.Connections)
	assert.Equal(t, k, m.hist.Seconds(), "every second up to the cursor")
	for _, j := range []int{1, 30, 60, k - 1, k} {
		assert.EqualValues(t, connsAt(j), m.hist.Clients.At(recSec(j-1).Unix()), "clients plotted at second %d", j)
	}
	require.Len(t, m.rows, connsAt(k))
	assert.EqualValues(t, 30, m.rows[0].PktsIn, "the table's rates: against the snapshot before")

	// Left goes back a second: the history is made again and holds
	// nothing after the cursor.
	step(t, m, in.script, ebiten.KeyLeft)
	require.Equal(t, i-1, cursor(t, m))
	assert.Equal(t, k-1, m.hist.Seconds())
	assert.Zero(t, m.hist.Clients.At(recSec(k-1).Unix()), "the second left behind is not in the history")
	assert.Equal(t, recSec(k-1).Unix()-1, m.hist.Last())

	// Shift+Right: ten seconds on; Shift+Left back.
	in.setShift(true)
	step(t, m, in.script, ebiten.KeyRight)
	assert.Equal(t, i+9, cursor(t, m))
	step(t, m, in.script, ebiten.KeyLeft)
	assert.Equal(t, i-1, cursor(t, m))
	in.setShift(false)

	// A history of more than five minutes keeps five: far enough in a
	// long recording it holds 300 seconds (here: all 119 up to the end).
	step(t, m, in.script, ebiten.KeyRight)
	in.push(event{click: true, x: int(tr.Right() + 5), y: int(tr.Y)})
	require.NoError(t, m.Update())
	assert.Equal(t, 119, cursor(t, m), "a click past the track's end: the last snapshot")
	assert.Equal(t, 120, m.hist.Seconds())
}

// stripMono returns logs as the monitor holds them, for comparison.
func stripMono(l []admin.LogLine) []admin.LogLine {
	out := make([]admin.LogLine, len(l))
	for i := range l {
		out[i] = l[i]
		out[i].Time = out[i].Time.UTC()
	}
	return out
}

// TestReplayDragAndPlay: dragging on the bar moves the cursor with the
// pointer; Space plays at the chosen speed on the monitor's own clock,
// pausing at the end; Space there plays from the start.
func TestReplayDragAndPlay(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, in, advance := replayMonitor(t, r)
	require.NoError(t, m.Update())
	tr := m.rp.track
	xOf := func(k int) int {
		return int(tr.X + tr.W*float32(recSec(k).Sub(m.rp.from))/float32(m.rp.to.Sub(m.rp.from)) + 0.5)
	}
	in.hold(xOf(20), int(tr.Y), true)
	in.push(event{click: true, x: xOf(20), y: int(tr.Y)})
	require.NoError(t, m.Update())
	assert.InDelta(t, 19, cursor(t, m), 1)
	for _, k := range []int{30, 45, 10} {
		in.hold(xOf(k), int(tr.Y)+40, true) // off the bar: the drag goes on
		require.NoError(t, m.Update())
		assert.InDelta(t, k-1, cursor(t, m), 1, "dragged to second %d", k)
	}
	in.hold(0, 0, false)
	require.NoError(t, m.Update())
	in.hold(xOf(100), int(tr.Y), true) // not pressed on the bar: no drag
	require.NoError(t, m.Update())
	in.hold(0, 0, false)
	assert.InDelta(t, 9, cursor(t, m), 1, "released: the cursor stays")

	// Go to snapshot 10, play at 1x: a second of the monitor's clock is
	// a snapshot.
	for cursor(t, m) > 10 {
		step(t, m, in.script, ebiten.KeyLeft)
	}
	for cursor(t, m) < 10 {
		step(t, m, in.script, ebiten.KeyRight)
	}
	step(t, m, in.script, ebiten.KeySpace)
	require.True(t, m.rp.playing)
	assert.NotZero(t, m.deadline.Load(), "playing: the waker brings the next frame")
	for want := 11; want <= 13; want++ {
		advance(time.Second)
		require.NoError(t, m.Update())
		assert.Equal(t, want, cursor(t, m))
	}
	advance(400 * time.Millisecond)
	require.NoError(t, m.Update())
	assert.Equal(t, 13, cursor(t, m), "not yet a second")
	seconds := m.hist.Seconds()
	// 4x: a second is four snapshots, taken in one by one.
	step(t, m, in.script, ebiten.KeyBracketRight, ebiten.KeyEqual)
	assert.Equal(t, "4×", formatSpeed(m.rp.speed))
	advance(time.Second)
	require.NoError(t, m.Update())
	assert.Equal(t, 17, cursor(t, m), "13.4 + 4 s")
	assert.Equal(t, seconds+4, m.hist.Seconds(), "taken in, not made again")
	// The slowest and fastest speeds stop there.
	step(t, m, in.script, ebiten.KeyMinus, ebiten.KeyMinus, ebiten.KeyBracketLeft, ebiten.KeyBracketLeft, ebiten.KeyMinus)
	assert.Equal(t, "0.25×", formatSpeed(m.rp.speed))
	for range 8 {
		step(t, m, in.script, ebiten.KeyBracketRight)
	}
	assert.Equal(t, "16×", formatSpeed(m.rp.speed))
	// 16x to the end, where it pauses.
	for range 8 {
		advance(time.Second)
		require.NoError(t, m.Update())
	}
	assert.Equal(t, 119, cursor(t, m))
	assert.False(t, m.rp.playing, "paused at the end")
	step(t, m, in.script, ebiten.KeySpace)
	assert.Equal(t, 0, cursor(t, m), "Space at the end plays from the start")
	assert.True(t, m.rp.playing)
	step(t, m, in.script, ebiten.KeySpace)
	assert.False(t, m.rp.playing)
}

// TestReplayMarkers: M and Shift+M go from marker to marker; the bar
// names the one under the cursor.
func TestReplayMarkers(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, in, _ := replayMonitor(t, r)
	require.NoError(t, m.Update())
	kinds := func() []timeline.Kind {
		var k []timeline.Kind
		for _, mk := range m.rp.marks {
			k = append(k, mk.Kind)
		}
		return k
	}
	require.Equal(t, []timeline.Kind{timeline.Disconnect, timeline.Stall, timeline.Drop, timeline.LatencySpike}, kinds())

	// The clients leaving one a second from 61 make one run.
	step(t, m, in.script, ebiten.KeyM)
	assert.Equal(t, 60, cursor(t, m), "snapshot of second 61")
	here := m.rp.marksAt(60)
	require.Len(t, here, 1)
	assert.Equal(t, "60 clients left (closed by the client) over 60 s", here[0].String())
	step(t, m, in.script, ebiten.KeyM)
	assert.Equal(t, 89, cursor(t, m))
	here = m.rp.marksAt(89)
	require.Len(t, here, 2)
	assert.Equal(t, "2 stalled ticks", here[0].String(), "the marker that begins here first")
	step(t, m, in.script, ebiten.KeyM)
	assert.Equal(t, 99, cursor(t, m))
	assert.Equal(t, "300 datagrams dropped: stale", m.rp.marksAt(99)[0].String())
	step(t, m, in.script, ebiten.KeyM)
	assert.Equal(t, 109, cursor(t, m))
	assert.Equal(t, "client 1060 latency 500 ms (its usual 20 ms)", m.rp.marksAt(109)[0].String())
	step(t, m, in.script, ebiten.KeyM)
	assert.Equal(t, 109, cursor(t, m), "no marker after")
	assert.Equal(t, "no marker after this moment", m.toast.text)
	in.setShift(true)
	step(t, m, in.script, ebiten.KeyM, ebiten.KeyM)
	assert.Equal(t, 89, cursor(t, m), "Shift+M: back two")
	in.setShift(false)
}

// TestReplaySeekWaitsForIndex: a click past what is indexed goes as far
// as the index, and on to the time clicked once the index gets there.
func TestReplaySeekWaitsForIndex(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	rec, err := timeline.Open(dir)
	require.NoError(t, err)
	r := &Replay{rec: rec, cancel: func() {}, indexed: make(chan struct{}), cur: rec.NewCursor(), at: -1}
	defer r.cur.Close()
	m, in, _ := replayMonitor(t, r)
	require.NoError(t, m.Update())
	assert.Equal(t, -1, cursor(t, m), "nothing indexed: nothing shown")
	assert.Equal(t, "no snapshot yet", m.status.age)
	assert.NotZero(t, m.deadline.Load(), "indexing: the bar is redrawn as it grows")
	tr := m.rp.track
	x := tr.X + tr.W*float32(recSec(80).Sub(m.rp.from))/float32(m.rp.to.Sub(m.rp.from))
	in.push(event{click: true, x: int(x + 0.5), y: int(tr.Y)})
	require.NoError(t, m.Update())
	assert.Equal(t, -1, cursor(t, m))
	assert.False(t, m.rp.pending.IsZero(), "waiting for the index")

	require.NoError(t, rec.Index(context.Background()))
	close(r.indexed)
	require.NoError(t, m.Update())
	assert.InDelta(t, 79, cursor(t, m), 1, "the index got there: the cursor too")
	assert.True(t, m.rp.pending.IsZero())
	assert.Equal(t, cursor(t, m)+1, m.hist.Seconds())
}

// TestReplayRefusesActions: D and B (overview and close-up) and the
// network panel's Enter are refused with the replay's message; the
// monitor's own keys still work.
func TestReplayRefusesActions(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, in, _ := replayMonitor(t, r)
	require.NoError(t, m.Update())
	for cursor(t, m) < 4 {
		step(t, m, in.script, ebiten.KeyRight)
	}
	require.Len(t, m.rows, 5)
	step(t, m, in.script, ebiten.KeyDown, ebiten.KeyD)
	assert.Nil(t, m.confirm)
	assert.Equal(t, ErrReplay.Error(), m.toast.text)
	assert.True(t, m.toast.err)
	// Sorting by latency, reversed: the monitor's keys.
	step(t, m, in.script, ebiten.Key4, ebiten.KeyR)
	assert.Equal(t, 3, m.table.sortCol)
	assert.False(t, m.table.desc)
	assert.EqualValues(t, 1001, m.rows[0].Token, "ascending latency, ties by token")
	step(t, m, in.script, ebiten.KeyEnd, ebiten.KeyEnter)
	require.Equal(t, viewClient, m.view)
	step(t, m, in.script, ebiten.KeyB)
	assert.Nil(t, m.confirm)
	step(t, m, in.script, ebiten.KeyN)
	require.True(t, m.net.open)
	step(t, m, in.script, ebiten.KeyEqual, ebiten.KeyEnter)
	assert.Equal(t, ErrReplay.Error(), m.toast.text)
	step(t, m, in.script, ebiten.KeyLeft)
	assert.Equal(t, 4, cursor(t, m), "Left belongs to the open network panel")
	step(t, m, in.script, ebiten.KeyEscape)
	assert.False(t, m.net.open)
	step(t, m, in.script, ebiten.KeyRight)
	assert.Equal(t, 5, cursor(t, m), "in the close-up, the timeline's keys work")
	assert.Equal(t, viewClient, m.view)
}

// TestReplayCloseUpSeries: the close-up of a client after a jump gets
// its two minutes before the cursor, loaded in the background.
func TestReplayCloseUpSeries(t *testing.T) {
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, in, _ := replayMonitor(t, r)
	require.NoError(t, m.Update())
	tr := m.rp.track
	x := tr.X + tr.W*float32(recSec(100).Sub(m.rp.from))/float32(m.rp.to.Sub(m.rp.from))
	in.push(event{click: true, x: int(x + 0.5), y: int(tr.Y)})
	require.NoError(t, m.Update())
	at := cursor(t, m)
	step(t, m, in.script, ebiten.Key3, ebiten.KeyDown, ebiten.KeyEnter) // by token, largest first: the last to join
	require.Equal(t, viewClient, m.view)
	require.EqualValues(t, 1060, m.selected)
	updateUntil(t, m, in.script, func() bool {
		c := m.clients.Get(1060)
		return c != nil && c.Seconds() > 30
	}, "the client's series were never loaded")
	c := m.clients.Get(1060)
	assert.Equal(t, history2min(at), c.Seconds(), "its two minutes (it joined at 60)")
	assert.Equal(t, at, cursor(t, m))
	assert.EqualValues(t, 30, c.PktsIn.At(recSec(at).Unix()), "per second")
	assert.Equal(t, recSec(60).UTC(), c.FirstSeen.UTC(), "seen first in the snapshot it joined")

	// Stepping on adds to them; a jump back loads them again.
	step(t, m, in.script, ebiten.KeyRight)
	assert.Equal(t, history2min(at)+1, m.clients.Get(1060).Seconds())
	in.setShift(true)
	step(t, m, in.script, ebiten.KeyLeft)
	in.setShift(false)
	updateUntil(t, m, in.script, func() bool {
		c := m.clients.Get(1060)
		return c != nil && c.Seconds() == history2min(at-9)
	}, "the client's series were never loaded again")
}

// history2min is how many seconds of series the close-up of client 1060
// (joined at second 60, snapshot 59) has at snapshot at.
func history2min(at int) int { return at - 59 }

// TestReplayWindowDraws shows a replay in the real window: the header
// says it is one, the plots and the table are filled, the bar shows the
// cursor and the markers; the keys move the cursor through the window.
func TestReplayWindowDraws(t *testing.T) {
	w := guitest.Get(t, win)
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, err := NewMonitor(r)
	require.NoError(t, err)
	s := scripted(m)
	defer w.Show(m)()
	require.Eventually(t, inWindow(w, func() bool { return m.loaded && m.rp.shown == 0 && m.rp.bar.W > 0 }),
		10*time.Second, 10*time.Millisecond, "the replay never showed its first snapshot")
	// To the drops at second 100, by markers.
	press(t, w, s, ebiten.KeyM, ebiten.KeyM, ebiten.KeyM)
	w.Between(func() { require.Equal(t, 99, m.rp.shown) })
	img := capture(t, m)
	savePNG(t, img, "monitor-replay")
	pal := defaultPalette()
	var bar, track plot.Rect
	var xCur float32
	var l layout
	w.Between(func() {
		bar, track, l = m.rp.bar, m.rp.track, m.lay
		xCur = m.rp.barX(recSec(100))
		assert.Equal(t, connsAt(100), m.snap.Connections)
	})
	assert.Equal(t, float32(Height-barH), bar.Y, "the bar at the bottom")
	assert.Less(t, l.table.Bottom(), bar.Y, "the table above it")
	assert.Greater(t, bright(img, l.header), 800, "header text")
	assert.Greater(t, bright(img, l.tableRow(0)), 100, "table rows")
	assert.Greater(t, count(img, plotArea(l.plots[plotPackets]), pal.Sent, 2), 100, "the packets plotted")
	assert.Greater(t, count(img, plotArea(l.plots[plotTicks]), pal.Ticks, 2), 100, "the ticks plotted")
	assert.Greater(t, count(img, bar, pal.Panel, 2), int(bar.W*bar.H)/3, "the bar's panel")
	cur := plot.Rect{X: xCur - 1, Y: track.Y - 10, W: 3, H: track.H + 20}
	assert.Greater(t, bright(img, cur), 30, "the cursor on the track")
	assert.Greater(t, count(img, bar, pal.markColor(timeline.Stall), 2), 20, "the stall's marker")
	assert.Greater(t, count(img, bar, pal.markColor(timeline.LatencySpike), 2), 20, "the latency spike's marker")
	assert.Greater(t, count(img, plot.Rect{X: bar.X, Y: bar.Y, W: bar.W, H: 24}, pal.markColor(timeline.Drop), 2), 20,
		"the drops named in their color (their marker is under the cursor)")
	assert.Greater(t, bright(img, plot.Rect{X: bar.X, Y: bar.Y, W: bar.W, H: 24}), 300, "the first line's text")

	assert.Greater(t, l.world.W, float32(0), "the world map")
	assert.Greater(t, count(img, l.world, pal.kindColor(0), 2), 100, "the world's points")

	press(t, w, s, ebiten.KeyLeft, ebiten.KeyLeft)
	w.Between(func() { assert.Equal(t, 97, m.rp.shown) })

	// A client up close: its facts, its series loaded, the bar still.
	press(t, w, s, ebiten.KeyDown, ebiten.KeyEnter)
	require.Eventually(t, inWindow(w, func() bool {
		c := m.clients.Get(m.selected)
		return m.view == viewClient && c != nil && c.Seconds() > 30
	}), 10*time.Second, 10*time.Millisecond, "the client's series never came")
	img = capture(t, m)
	savePNG(t, img, "monitor-replay-client")
	w.Between(func() { l = m.lay })
	assert.Greater(t, bright(img, l.facts), 800, "the client's facts")
	assert.Greater(t, count(img, plotArea(l.cplots[cplotLatency]), pal.Ticks, 2), 100, "its latency plotted")
	assert.Greater(t, count(img, bar, pal.Panel, 2), int(bar.W*bar.H)/3, "the bar")
}

// TestReplayRedrawsOnlyOnChange: a paused replay draws nothing new; a
// step draws once.
func TestReplayRedrawsOnlyOnChange(t *testing.T) {
	w := guitest.Get(t, win)
	dir := t.TempDir()
	recordTwoMinutes(t, dir)
	r := openReplay(t, dir)
	m, err := NewMonitor(r)
	require.NoError(t, err)
	s := scripted(m)
	defer w.Show(m)()
	require.Eventually(t, inWindow(w, func() bool { return m.loaded && m.rp.shown == 0 }), 10*time.Second, 10*time.Millisecond)
	settle(t, w, s)
	before := m.redraws.Load()
	f := w.Frames()
	require.Eventually(t, func() bool { return w.Frames() > f+5 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, before, m.redraws.Load(), "paused: no redraw")
	press(t, w, s, ebiten.KeyRight)
	assert.Greater(t, m.redraws.Load(), before)
}

// BenchmarkReplaySeek moves the monitor's cursor anywhere in a 30-minute
// recording of 64 or 256 clients, as a click on the bar does: the
// snapshot read, the five minutes of history before it made again (their
// figures, and the snapshot before read whole), the table sorted.
//
//	go test -run '^$' -bench Replay -benchtime 20x ./gui/
func BenchmarkReplaySeek(b *testing.B) {
	for _, peers := range []int{64, 256} {
		b.Run(fmt.Sprintf("clients=%d", peers), func(b *testing.B) {
			r := longReplay(b, peers)
			m, _, _ := replayMonitor(b, r)
			if err := m.Update(); err != nil {
				b.Fatal(err)
			}
			n := r.rec.Len()
			k := 0
			var worst time.Duration
			for b.Loop() {
				k = (k + 797) % n // far from the last: never cached
				t := time.Now()
				m.seekIndex(t, k)
				m.refresh()
				worst = max(worst, time.Since(t))
				if m.rp.shown != k || len(m.rows) != peers {
					b.Fatalf("at %d: shown %d with %d rows", k, m.rp.shown, len(m.rows))
				}
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}

// BenchmarkReplayClientSeries loads a client's two minutes before a
// snapshot of a 30-minute recording of 64 clients: what the close-up
// does in the background after a jump.
func BenchmarkReplayClientSeries(b *testing.B) {
	r := longReplay(b, 64)
	k := 0
	for b.Loop() {
		k = (k + 797) % r.rec.Len()
		if _, err := clientSeriesAt(context.Background(), r.rec, 40, max(k, 200)); err != nil {
			b.Fatal(err)
		}
	}
}

// longReplay writes a 30-minute recording of peers clients and opens it
// indexed, logging how long each took.
func longReplay(b *testing.B, peers int) *Replay {
	b.Helper()
	dir := b.TempDir()
	t0 := time.Now()
	if _, err := replaytest.WriteLong(dir, 30*time.Minute, peers); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote the recording in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	r := openReplay(b, dir)
	b.Logf("indexed in %v: %s", time.Since(t0).Round(time.Millisecond), r.Summary())
	return r
}
