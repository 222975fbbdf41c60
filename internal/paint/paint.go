// Package paint draws with Ebitengine what the monitor and the games
// share: plot meshes in one batch of triangles (Painter), and frames saved
// as PNG files (SavePNG).
package paint

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/plot"
)

// A Painter draws plot meshes onto Ebitengine images in one
// DrawTriangles32 call each. The zero value is ready to use; a Painter is
// not safe for concurrent use.
type Painter struct {
	white *ebiten.Image
	verts []ebiten.Vertex
}

// Draw draws m onto dst.
func (p *Painter) Draw(dst *ebiten.Image, m *plot.Mesh) {
	if len(m.I) == 0 {
		return
	}
	if p.white == nil {
		img := ebiten.NewImage(3, 3)
		img.Fill(color.White)
		p.white = img.SubImage(image.Rect(1, 1, 2, 2)).(*ebiten.Image)
	}
	p.verts = p.verts[:0]
	for _, v := range m.V {
		p.verts = append(p.verts, ebiten.Vertex{
			DstX: v.X, DstY: v.Y, SrcX: 1.5, SrcY: 1.5,
			ColorR: v.C.R, ColorG: v.C.G, ColorB: v.C.B, ColorA: v.C.A,
		})
	}
	dst.DrawTriangles32(p.verts, m.I, p.white, nil)
}

// SavePNG writes img into dir as <prefix>-<time>.png and returns the
// file's absolute path.
func SavePNG(img image.Image, dir, prefix string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.png", prefix, time.Now().Format("20060102-150405.000")))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path, nil
	}
	return abs, nil
}
