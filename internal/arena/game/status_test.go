package game

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// TestPlayWindowOnAnotherGame: a window sent to a server hosting another
// game (here the echo game, which sends every message back) says so and
// offers a retry, instead of "Joining the game ..." forever.
func TestPlayWindowOnAnotherGame(t *testing.T) {
	w := guitest.Get(t, win)
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	addr := serveHandler(t, echo.NewHandler(nil), root)
	out := &syncbuf.Buffer{}
	g, err := New(Options{Server: addr, Key: root.Public(), Name: "lost", IdentTimeout: 500 * time.Millisecond, Out: out})
	require.NoError(t, err)
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()
	failed := false
	for deadline := time.Now().Add(10 * time.Second); !failed && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		w.Between(func() { failed = g.failed() })
	}
	require.True(t, failed, "the window gives up on the server")
	var line, hint string
	w.Between(func() { line, hint = g.statusText(g.Player().View(time.Now())) })
	assert.Equal(t, "The server at "+addr+" hosts another game, not the arena", line)
	assert.Contains(t, hint, "Press R to retry")
	// The terminal says it too, once, and so does the error the window
	// ends with.
	var failure error
	w.Between(func() { failure = g.Err() })
	var f *Failure
	require.ErrorAs(t, failure, &f)
	assert.ErrorIs(t, failure, player.ErrNotArena)
	const said = "the server at %s hosts another game, not the arena (R in the window retries)\n"
	assert.Equal(t, "connecting to "+addr+"\n"+fmt.Sprintf(said, addr), out.String())
	save(t, w.Capture(t), "arena-another-game")
}

// TestPlayWindowUnknownHost: a server name that does not resolve is
// explained, not shown as Go's lookup error.
func TestPlayWindowUnknownHost(t *testing.T) {
	w := guitest.Get(t, win)
	g, err := New(Options{Server: "nohost.invalid:1474", Out: t.Output()})
	require.NoError(t, err)
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()
	var line string
	w.Between(func() { line, _ = g.statusText(player.View{}) })
	assert.True(t, strings.HasPrefix(line, "Cannot find the server nohost.invalid") || strings.HasPrefix(line, "Cannot look up the server nohost.invalid"), line)
	assert.NotContains(t, line, "lookup")
}

// TestLossLine: the overlay gives the connection's state instead of a
// loss figure while there is no connection to measure.
func TestLossLine(t *testing.T) {
	// Every packet of the last seconds unanswered: what a lost server
	// looks like to the meter.
	var m netMeter
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		n := uint64(i * 6)
		m.sample(t0.Add(time.Duration(i)*100*time.Millisecond), conn.Stats{Assembled: n, Timeouts: n}, player.Replication{})
	}
	require.Equal(t, 100.0, m.lossPercent())
	st := conn.Stats{Resent: 4, Dropped: 2}
	for _, tc := range []struct {
		status conn.Status
		want   string
	}{
		{conn.Connected, "loss 100.0% (5 s)   resent 4   dropped 2"},
		{conn.Connecting, "loss -- (connecting)   resent 4   dropped 2"},
		{conn.Disconnecting, "loss -- (disconnecting)   resent 4   dropped 2"},
		{conn.Disconnected, "loss -- (disconnected)   resent 4   dropped 2"},
		{conn.Dropped, "loss -- (connection lost)   resent 4   dropped 2"},
		{0, "loss -- (disconnected)   resent 4   dropped 2"},
	} {
		assert.Equal(t, tc.want, lossLine(tc.status, m.lossPercent(), st), tc.status.String())
	}
	assert.Equal(t, "loss 2.5% (5 s)   resent 0   dropped 0", lossLine(conn.Connected, 2.5, conn.Stats{}))
}

// TestLabelsStayOffTheScoreBoard: wherever a ship is, its name label
// never covers the score board (nor the other panels given); it goes
// below the ship, or is left out when both sides would cover a panel.
func TestLabelsStayOffTheScoreBoard(t *testing.T) {
	board := boardRect(8, boardNameGap, 130, 100, 18)
	feed := plot.Rect{X: 12, Y: 8, W: 260, H: 100}
	over := overlayRect()
	avoid := []plot.Rect{board, feed, over}
	const r, w, h = 12.8, 90, 14
	placed, below, hidden := 0, 0, 0
	for y := 0.0; y <= Height; y += 4 {
		for x := 0.0; x <= Width; x += 4 {
			lx, ly, ok := placeLabel(x, y, r, w, h, avoid)
			if !ok {
				// Only a ship over a panel, or squeezed between two,
				// goes without its label.
				hidden++
				near := slices.ContainsFunc(avoid, func(a plot.Rect) bool {
					return plot.Rect{X: a.X - w/2, Y: a.Y - r - labelGap - h, W: a.W + w, H: a.H + 2*(r+labelGap+h)}.Contains(float32(x), float32(y))
				})
				require.True(t, near, "the label of a ship at (%v, %v), away from the panels, is left out", x, y)
				continue
			}
			placed++
			box := plot.Rect{X: float32(lx - w/2), Y: float32(ly), W: w, H: h}
			for _, a := range avoid {
				require.False(t, overlaps(box, a), "label of a ship at (%v, %v) covers %+v", x, y, a)
			}
			require.Equal(t, x, lx, "centered on its ship")
			if ly > y {
				below++
				require.Equal(t, y+r+labelGap, ly)
			} else {
				require.Equal(t, y-r-labelGap-h, ly)
			}
		}
	}
	t.Logf("labels placed above or below %d times (%d below), left out %d times", placed, below, hidden)
	assert.Positive(t, below, "some labels move below their ship")

	// A ship just under the board: the label goes below the ship.
	x := float64(board.X + board.W/2)
	y := float64(board.Bottom()) + r + 2
	lx, ly, ok := placeLabel(x, y, r, w, h, avoid)
	require.True(t, ok)
	assert.Equal(t, x, lx)
	assert.Greater(t, ly, y, "below the ship")
	// Away from everything, above.
	_, ly, ok = placeLabel(Width/2, Height/2, r, w, h, avoid)
	require.True(t, ok)
	assert.Less(t, ly, float64(Height/2))
}

// TestBoardRect: the score board's rectangle holds what scoreBoard draws:
// the header, every row, the longest name and the widest numbers.
func TestBoardRect(t *testing.T) {
	for _, tc := range []struct {
		rows                   int
		gap, nameW, numW, line float64
	}{{0, boardGap(false), 0, 90, 17}, {1, boardGap(false), 40, 60, 17}, {12, boardGap(false), 140, 120, 17}, {3, boardGap(false), 10, 200, 20}, {11, boardGap(true), 140, 120, 17}} {
		r := boardRect(tc.rows, tc.gap, tc.nameW, tc.numW, tc.line)
		name := fmt.Sprintf("%+v", tc)
		assert.LessOrEqual(t, r.X, float32(boardRight-tc.gap-tc.nameW), name)
		assert.LessOrEqual(t, r.X, float32(boardRight-tc.numW), name)
		assert.GreaterOrEqual(t, r.Right(), float32(boardRight), name)
		assert.LessOrEqual(t, r.Y, float32(boardTop), name)
		assert.GreaterOrEqual(t, r.Bottom(), float32(boardTop+float64(tc.rows)*boardRowH+tc.line), name)
	}
	assert.False(t, overlaps(plot.Rect{}, boardRect(3, boardNameGap, 50, 50, 17)), "an empty rectangle overlaps nothing")
}

// serveHandler runs a server of h on loopback until the test ends.
func serveHandler(t *testing.T, h server.EventHandler, root *conn.PrivateKey) string {
	t.Helper()
	srv, err := server.New(server.Config{Handler: h, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv.Addr().String()
}
