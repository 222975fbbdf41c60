package gui

import (
	"image"
	"image/color"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/gui/plot"
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
