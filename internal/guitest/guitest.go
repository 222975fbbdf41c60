// Package guitest runs tests of Ebitengine games in a real window.
// Ebitengine allows one RunGame per process, on the main goroutine, so
// Main runs the game loop there and the tests on another goroutine; a test
// shows the game it wants with Show and reads the screen with Capture.
// Without an X display (DISPLAY unset) Main starts a virtual one when
// Xvfb is installed (internal/xvfb); with neither, the tests run normally
// and Get skips the ones that need the window:
//
//	var win *guitest.Window
//
//	func TestMain(m *testing.M) { guitest.Main(m, &win) }
//
//	func TestDraws(t *testing.T) {
//		w := guitest.Get(t, win)
//		defer w.Show(myGame)()
//		img := w.Capture(t)
//		...
//	}
package guitest

import (
	"fmt"
	"image"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/xvfb"
)

// Window is the test binary's window, hosting one game at a time.
type Window struct {
	w, h   int
	mu     sync.Mutex
	game   ebiten.Game
	shots  []chan *image.RGBA
	frames atomic.Uint64
	done   atomic.Bool
}

// Main runs the tests. With a display (DISPLAY, or an Xvfb it starts) it
// opens a w x h window (1280 x 800) first, stores it in *win for the
// tests, and runs the game loop until the tests finish; then it exits
// with their status.
func Main(m *testing.M, win **Window) {
	stopX, err := xvfb.Ensure()
	if err != nil {
		fmt.Fprintln(os.Stderr, "guitest:", err)
	}
	if os.Getenv("DISPLAY") == "" {
		os.Exit(m.Run())
	}
	w := &Window{w: 1280, h: 800}
	*win = w
	ebiten.SetWindowSize(w.w, w.h)
	ebiten.SetWindowTitle("Ebitengine tests")
	ebiten.SetScreenClearedEveryFrame(false)
	ebiten.SetRunnableOnUnfocused(true)
	code := make(chan int, 1)
	go func() {
		code <- m.Run()
		w.done.Store(true)
	}()
	if err := ebiten.RunGame(w); err != nil {
		fmt.Fprintln(os.Stderr, "guitest: window:", err)
		stopX()
		os.Exit(1)
	}
	c := <-code
	stopX()
	os.Exit(c)
}

// Get returns the window, or skips the test when there is no display.
func Get(t *testing.T, win *Window) *Window {
	t.Helper()
	// Main reads DISPLAY before the tests start, where go test's result
	// cache does not see it; reading it here again makes a cached result
	// from a run without a display invalid under one, and the reverse.
	if os.Getenv("DISPLAY") == "" || win == nil {
		t.Skip("no DISPLAY and no Xvfb to start: window tests run under an X server (apt-get install xvfb)")
	}
	return win
}

// Show makes g the game in the window until the returned function is
// called. The window calls g's Update, Draw and Layout under its lock.
func (w *Window) Show(g ebiten.Game) func() {
	w.mu.Lock()
	w.game = g
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		w.game = nil
		w.mu.Unlock()
	}
}

// Between runs fn between two frames: the game runs neither Update nor
// Draw meanwhile, so fn may change its state.
func (w *Window) Between(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

// Frames returns how many frames (Updates) the window ran.
func (w *Window) Frames() uint64 { return w.frames.Load() }

// Capture returns the screen as drawn by the next frame.
func (w *Window) Capture(t *testing.T) *image.RGBA {
	t.Helper()
	ch := make(chan *image.RGBA, 1)
	w.mu.Lock()
	w.shots = append(w.shots, ch)
	w.mu.Unlock()
	select {
	case img := <-ch:
		return img
	case <-time.After(10 * time.Second):
		t.Fatal("guitest: no frame drawn within 10 s")
		return nil
	}
}

// Update runs the game's Update; the game ending does not end the window.
func (w *Window) Update() error {
	w.frames.Add(1)
	if w.done.Load() {
		return ebiten.Termination
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.game != nil {
		if err := w.game.Update(); err != nil && err != ebiten.Termination {
			return err
		}
	}
	return nil
}

// Draw runs the game's Draw and serves pending captures.
func (w *Window) Draw(screen *ebiten.Image) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.game != nil {
		w.game.Draw(screen)
	}
	if len(w.shots) > 0 {
		img := image.NewRGBA(screen.Bounds())
		screen.ReadPixels(img.Pix)
		for _, ch := range w.shots {
			ch <- img
		}
		w.shots = nil
	}
}

// Layout returns the game's layout, or the window's size.
func (w *Window) Layout(ow, oh int) (int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.game != nil {
		return w.game.Layout(ow, oh)
	}
	return w.w, w.h
}
