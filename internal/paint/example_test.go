package paint_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/paint"
	"github.com/mpgs/mpgameserver/internal/plot"
)

// chart is a game that draws a plot: the mesh is built from the data with
// package plot, and a Painter draws it in one call.
type chart struct {
	data    []float64
	mesh    plot.Mesh
	painter paint.Painter
}

func (c *chart) Update() error { return nil }

func (c *chart) Draw(screen *ebiten.Image) {
	area := plot.Rect{X: 10, Y: 10, W: 300, H: 200}
	s := plot.Scale{R: area, Max: plot.NiceMax(plot.Peak(c.data))}
	c.mesh.Reset()
	c.mesh.Rect(area, plot.RGB(24, 26, 34))
	c.mesh.Area(s.Points(make([]float64, len(c.data))), s.Points(c.data), plot.RGB(40, 90, 60))
	c.mesh.Polyline(s.Points(c.data), 2, plot.RGB(90, 220, 130))
	c.painter.Draw(screen, &c.mesh)
}

func (c *chart) Layout(int, int) (int, int) { return 320, 220 }

// A Painter draws plot meshes onto Ebitengine images. It needs a window
// (a display), so this example is not run.
func ExamplePainter() {
	ebiten.SetWindowTitle("chart")
	if err := ebiten.RunGame(&chart{data: []float64{3, 7, 4, 9, 6, 8}}); err != nil {
		log.Fatal(err)
	}
}

// SavePNG writes an image, such as a captured screen, into a directory
// (made when missing) under a name made of a prefix and the time.
func ExampleSavePNG() {
	dir, err := os.MkdirTemp("", "shots")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.SetRGBA(0, 0, color.RGBA{255, 0, 0, 255})
	path, err := paint.SavePNG(img, filepath.Join(dir, "screenshots"), "monitor")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(filepath.Dir(path)), strings.HasPrefix(filepath.Base(path), "monitor-"), filepath.Ext(path))

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Bounds().Size(), back.At(0, 0), back.At(1, 0))
	// Output:
	// screenshots true .png
	// (64,32) {255 0 0 255} {255 255 255 255}
}
