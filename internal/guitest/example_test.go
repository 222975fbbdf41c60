package guitest_test

import (
	"image/color"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/guitest"
)

// win is the test binary's window. The package under test's TestMain
// hands the main goroutine to it:
//
//	func TestMain(m *testing.M) { guitest.Main(m, &win) }
var win *guitest.Window

// fill is a game that paints its screen one color.
type fill struct{ c color.RGBA }

func (f fill) Update() error              { return nil }
func (f fill) Draw(screen *ebiten.Image)  { screen.Fill(f.c) }
func (f fill) Layout(w, h int) (int, int) { return w, h }

// A window test gets the window (Get skips the test without a display),
// shows its game in it and checks the screen a frame drew. The test
// needs the window, so this example is not run; run such tests with
// xvfb-run -a go test.
func ExampleGet() {
	testFill := func(t *testing.T) {
		w := guitest.Get(t, win)
		defer w.Show(fill{color.RGBA{255, 0, 0, 255}})()
		img := w.Capture(t)
		if got := img.RGBAAt(10, 10); got != (color.RGBA{255, 0, 0, 255}) {
			t.Errorf("pixel (10, 10) = %v, want red", got)
		}
	}
	_ = testFill // a Test function of the package under test
}
