// Package assets holds the files the programs embed: the arena game's
// sprites (drawn by ./internal/gen, white so they can be tinted). The
// documentation's screenshots live beside them in docs/ (not embedded). Loaders return (value, error); nothing is
// decoded until asked for.
package assets

import (
	"embed"
	"fmt"
	"image"
	"image/png"
)

//go:embed sprites/*.png
var sprites embed.FS

// Sprite names.
const (
	Ship     = "ship"     // 48x48, pointing right
	Flame    = "flame"    // 24x16, pointing left
	Particle = "particle" // 16x16 soft dot
	Bullet   = "bullet"   // 12x12 glowing dot
)

// Sprite decodes the sprite with the given name.
func Sprite(name string) (image.Image, error) {
	f, err := sprites.Open("sprites/" + name + ".png")
	if err != nil {
		return nil, fmt.Errorf("assets: sprite %q: %w", name, err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("assets: sprite %q: %w", name, err)
	}
	return img, nil
}
