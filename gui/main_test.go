package gui

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"
)

// host is the game the test binary runs: Ebitengine allows one RunGame per
// process, so TestMain runs this loop on the main goroutine, the tests run
// on another, and a test installs the game it wants in the real window.
type host struct {
	mu     sync.Mutex
	game   ebiten.Game
	frames atomic.Uint64
	done   atomic.Bool
}

// window is the running host, or nil when there is no display.
var window *host

// show makes g the game in the window until the returned function is
// called.
func (h *host) show(g ebiten.Game) func() {
	h.mu.Lock()
	h.game = g
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.game = nil
		h.mu.Unlock()
	}
}

// between runs fn between two frames: the game is not running Update or
// Draw meanwhile, so fn may change its state.
func (h *host) between(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn()
}

// The host holds its lock while the game runs, so the game's state only
// changes between frames.

func (h *host) Update() error {
	h.frames.Add(1)
	if h.done.Load() {
		return ebiten.Termination
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.game != nil {
		if err := h.game.Update(); err != nil && err != ebiten.Termination {
			return err
		}
	}
	return nil
}

func (h *host) Draw(screen *ebiten.Image) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.game != nil {
		h.game.Draw(screen)
	}
}

func (h *host) Layout(w, hgt int) (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.game != nil {
		return h.game.Layout(w, hgt)
	}
	return Width, Height
}

// needWindow skips a test when there is no X display.
func needWindow(t *testing.T) *host {
	t.Helper()
	if window == nil {
		t.Skip("no DISPLAY: window tests run under Xvfb (xvfb-run -a go test ./gui/)")
	}
	return window
}

func TestMain(m *testing.M) {
	if os.Getenv("DISPLAY") == "" {
		os.Exit(m.Run())
	}
	window = &host{}
	ebiten.SetWindowSize(Width, Height)
	ebiten.SetWindowTitle("mpgameserver gui tests")
	ebiten.SetScreenClearedEveryFrame(false)
	ebiten.SetRunnableOnUnfocused(true)
	code := make(chan int, 1)
	go func() {
		code <- m.Run()
		window.done.Store(true)
	}()
	if err := ebiten.RunGame(window); err != nil {
		fmt.Fprintln(os.Stderr, "window:", err)
		os.Exit(1)
	}
	os.Exit(<-code)
}
