package assets_test

import (
	"fmt"

	"github.com/mpgs/mpgameserver/internal/arena/assets"
)

// Sprite decodes an embedded sprite by name; the names are the package's
// constants. The sprites are white, for the game to tint in each
// player's color.
func ExampleSprite() {
	for _, name := range []string{assets.Ship, assets.Flame, assets.Particle, assets.Bullet} {
		img, err := assets.Sprite(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		b := img.Bounds()
		fmt.Printf("%s: %dx%d\n", name, b.Dx(), b.Dy())
	}
	_, err := assets.Sprite("nope")
	fmt.Println(err)
	// Output:
	// ship: 48x48
	// flame: 24x16
	// particle: 16x16
	// bullet: 12x12
	// assets: sprite "nope": open sprites/nope.png: file does not exist
}
