package game

import (
	"context"
	"image"
	"image/color"
	"log/slog"
	"math"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
	"github.com/mpgs/mpgameserver/server"
)

var win *guitest.Window

func TestMain(m *testing.M) { guitest.Main(m, &win) }

// arenaServer runs an arena server with n bots until the test ends.
func arenaServer(t *testing.T, bots int) (*server.Server, *conn.PrivateKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: arena.NewHandler(nil, 5), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	bctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = arena.RunBots(bctx, srv.Addr().String(), root.Public(), bots)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Stop()
		<-srv.Done()
	})
	return srv, root
}

// near counts the pixels within r of screen point (x, y) whose color is
// within tol of c.
func near(img *image.RGBA, x, y, r float64, c color.RGBA, tol int) int {
	n := 0
	for py := int(y - r); py <= int(y+r); py++ {
		for px := int(x - r); px <= int(x+r); px++ {
			if !(image.Point{px, py}.In(img.Rect)) || math.Hypot(float64(px)-x, float64(py)-y) > r {
				continue
			}
			o := img.PixOffset(px, py)
			p := img.Pix[o : o+3]
			if abs(int(p[0])-int(c.R)) <= tol && abs(int(p[1])-int(c.G)) <= tol && abs(int(p[2])-int(c.B)) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(x int) int { return max(x, -x) }

func save(t *testing.T, img image.Image, name string) {
	t.Helper()
	dir := os.Getenv("MPGS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path, err := paint.SavePNG(img, dir, name)
	require.NoError(t, err)
	t.Logf("frame saved to %s", path)
}

// TestPlayWindowRendersShipsAndOverlay joins a live arena with two bots in
// the real window and checks the frame: every ship drawn in its player's
// color where the view puts it, and the network overlay with its latency
// graph.
func TestPlayWindowRendersShipsAndOverlay(t *testing.T) {
	w := guitest.Get(t, win)
	srv, root := arenaServer(t, 2)
	g, err := New(Options{Server: srv.Addr().String(), Key: root.Public(), Name: "tester", Color: 3, Out: t.Output()})
	require.NoError(t, err)
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()

	// Play until the three ships are known and a few seconds of latency
	// samples exist.
	var view player.View
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		ready := false
		w.Between(func() {
			view = g.Player().View(time.Now())
			ready = len(view.Ships) == 3 && len(g.latency) > 20
		})
		if ready {
			break
		}
	}
	require.Len(t, view.Ships, 3, "the window should know every ship")

	// Capture a frame in which at least two ships are alive (the bots
	// fight: one may be respawning), and find each ship of the frame in
	// its color. The view moves on between reading it and drawing (on a
	// busy machine by more than a ship's length, and a ship may die in
	// between): a ship counts if it shows near where it was just before
	// the capture or just after, and a frame in which fewer than two ships
	// were alive before and after is captured again.
	pal := Palette()
	var img *image.RGBA
	drawn := 0
	for try := 0; try < 50 && drawn < 2; try++ {
		var before, after player.View
		alive := 0
		w.Between(func() {
			before = g.Player().View(time.Now())
			for _, s := range before.Ships {
				if s.Alive {
					alive++
				}
			}
		})
		if alive < 2 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		img = w.Capture(t)
		w.Between(func() { after = g.Player().View(time.Now()) })
		later := map[string]player.Ship{}
		for _, s := range after.Ships {
			later[s.Name] = s
		}
		drawn = 0
		for _, s := range before.Ships {
			l, ok := later[s.Name]
			if !s.Alive || !ok || !l.Alive {
				continue // dead, or died around the capture
			}
			n := max(near(img, s.X*Scale, s.Y*Scale, 30, pal[s.Color], 12), near(img, l.X*Scale, l.Y*Scale, 30, pal[s.Color], 12))
			t.Logf("try %d: ship %s (color %d) at %.0f,%.0f then %.0f,%.0f: %d pixels of its color",
				try, s.Name, s.Color, s.X*Scale, s.Y*Scale, l.X*Scale, l.Y*Scale, n)
			if n > 15 {
				drawn++
			}
		}
	}
	require.NotNil(t, img, "never two ships alive at once")
	save(t, img, "arena-play")
	assert.GreaterOrEqual(t, drawn, 2, "two ships alive are drawn in their colors")

	// The overlay: its border and a latency line in the graph.
	r := overlayRect()
	frame := color.RGBA{76, 89, 128, 255}
	border := 0
	for x := int(r.X); x < int(r.Right()); x++ {
		o := img.PixOffset(x, int(r.Y))
		if abs(int(img.Pix[o])-int(frame.R)) < 8 && abs(int(img.Pix[o+2])-int(frame.B)) < 8 {
			border++
		}
	}
	assert.Greater(t, border, int(r.W*0.9), "overlay border")
	graph := plot.Rect{X: r.X + 12, Y: r.Y + r.H - 62, W: r.W - 24, H: 50}
	lc := overlayLine()
	line := 0
	for y := int(graph.Y); y < int(graph.Bottom()); y++ {
		for x := int(graph.X); x < int(graph.Right()); x++ {
			o := img.PixOffset(x, y)
			if abs(int(img.Pix[o])-int(lc.R*255)) < 10 && abs(int(img.Pix[o+1])-int(lc.G*255)) < 10 {
				line++
			}
		}
	}
	assert.Greater(t, line, 20, "latency graph")

	// N hides the overlay.
	w.Between(func() { g.SetOverlay(false) })
	img = w.Capture(t)
	border = 0
	for x := int(r.X); x < int(r.Right()); x++ {
		o := img.PixOffset(x, int(r.Y))
		if abs(int(img.Pix[o])-int(frame.R)) < 8 && abs(int(img.Pix[o+2])-int(frame.B)) < 8 {
			border++
		}
	}
	assert.Less(t, border, 10, "overlay hidden")
}

// TestPlayWindowShowsFailure: with no server, the window says so and
// offers a retry instead of hanging.
func TestPlayWindowShowsFailure(t *testing.T) {
	w := guitest.Get(t, win)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	g, err := New(Options{Server: addr, Name: "lonely", HandshakeTimeout: 300 * time.Millisecond, Out: t.Output()})
	require.NoError(t, err)
	require.NoError(t, g.Player().Connect(addr))
	defer g.Player().Client().ForceDisconnect()
	defer w.Show(g)()
	deadline := time.Now().Add(5 * time.Second)
	failed := false
	for !failed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		w.Between(func() { failed = g.failed() })
	}
	require.True(t, failed)
	img := w.Capture(t)
	save(t, img, "arena-failed")
	center := 0
	for y := Height/2 - 40; y < Height/2+30; y++ {
		for x := Width/2 - 300; x < Width/2+300; x++ {
			o := img.PixOffset(x, y)
			if img.Pix[o] > 150 && img.Pix[o+1] > 150 && img.Pix[o+2] > 150 {
				center++
			}
		}
	}
	assert.Greater(t, center, 400, "the failure and the retry hint are written in the middle")
	assert.Equal(t, "No answer from the server at "+addr+": is it running?", failure(g.Player().Client().Err(), addr))
	line, hint := g.statusText(player.View{})
	assert.Equal(t, "No answer from the server at "+addr+": is it running?", line)
	assert.Contains(t, hint, "Press R to retry")
}
