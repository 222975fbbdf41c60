// Command gen draws the arena game's sprites into internal/arena/assets/sprites as PNG.
// They are white or grey so the game can tint them with each player's
// color. Run it from the repository root: go run ./internal/arena/assets/internal/gen
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/vector"
)

func main() {
	out := filepath.Join("internal", "arena", "assets", "sprites")
	for name, img := range map[string]image.Image{
		"ship.png":     ship(),
		"flame.png":    flame(),
		"particle.png": glow(16, 1.0),
		"bullet.png":   glow(12, 1.6),
	} {
		if err := save(filepath.Join(out, name), img); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

func save(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fill rasterizes a polygon (points in pixels) antialiased in c onto dst.
func fill(dst *image.RGBA, pts [][2]float32, c color.Color) {
	b := dst.Bounds()
	r := vector.NewRasterizer(b.Dx(), b.Dy())
	r.MoveTo(pts[0][0], pts[0][1])
	for _, p := range pts[1:] {
		r.LineTo(p[0], p[1])
	}
	r.ClosePath()
	r.Draw(dst, b, image.NewUniform(c), image.Point{})
}

// ship is a 48x48 ship pointing right: a light hull with a darker cockpit
// and wing tips, so tinting keeps some shading.
func ship() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	hull := [][2]float32{{46, 24}, {14, 6}, {4, 4}, {10, 16}, {8, 24}, {10, 32}, {4, 44}, {14, 42}}
	fill(img, hull, color.NRGBA{255, 255, 255, 255})
	inner := [][2]float32{{40, 24}, {16, 12}, {13, 24}, {16, 36}}
	fill(img, inner, color.NRGBA{200, 200, 200, 255})
	cockpit := [][2]float32{{34, 24}, {24, 19}, {21, 24}, {24, 29}}
	fill(img, cockpit, color.NRGBA{90, 90, 110, 255})
	fill(img, [][2]float32{{4, 4}, {14, 6}, {11, 10}}, color.NRGBA{150, 150, 150, 255})
	fill(img, [][2]float32{{4, 44}, {14, 42}, {11, 38}}, color.NRGBA{150, 150, 150, 255})
	return img
}

// flame is a 24x16 exhaust flame pointing left, yellow to red.
func flame() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	fill(img, [][2]float32{{24, 2}, {0, 8}, {24, 14}}, color.NRGBA{255, 90, 30, 220})
	fill(img, [][2]float32{{24, 5}, {9, 8}, {24, 11}}, color.NRGBA{255, 220, 90, 255})
	return img
}

// glow is a soft white disc of size px whose brightness falls off with
// sharpness (higher: a harder core).
func glow(px int, sharpness float64) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	c := float64(px) / 2
	for y := 0; y < px; y++ {
		for x := 0; x < px; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c) / c
			a := math.Max(0, 1-d)
			a = math.Pow(a, 1/sharpness)
			img.SetNRGBA(x, y, color.NRGBA{255, 255, 255, uint8(255 * a)})
		}
	}
	var out image.RGBA
	out.Rect = img.Bounds()
	out.Stride = 4 * px
	out.Pix = make([]byte, 4*px*px)
	draw.Draw(&out, out.Rect, img, image.Point{}, draw.Src)
	return &out
}
