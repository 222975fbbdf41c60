package gui

import (
	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
)

// input is what the monitor reads of the keyboard and mouse in a frame.
// Tests replace Ebitengine's with a script.
type input interface {
	// pressed reports a key pressed in this frame.
	pressed(k ebiten.Key) bool
	// repeated reports a key held long enough to repeat, in this frame.
	repeated(k ebiten.Key) bool
	// click returns where the left button was pressed in this frame.
	click() (x, y int, ok bool)
	// wheel returns the vertical wheel movement of this frame.
	wheel() float64
}

// ebitenInput reads Ebitengine's input state.
type ebitenInput struct{}

func (ebitenInput) pressed(k ebiten.Key) bool { return inpututil.IsKeyJustPressed(k) }

func (ebitenInput) repeated(k ebiten.Key) bool {
	d := inpututil.KeyPressDuration(k)
	return d > 20 && d%3 == 0
}

func (ebitenInput) click() (int, int, bool) {
	if !inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		return 0, 0, false
	}
	x, y := ebiten.CursorPosition()
	return x, y, true
}

func (ebitenInput) wheel() float64 {
	_, dy := ebiten.Wheel()
	return dy
}

// anyPressed reports whether one of keys was pressed or repeats.
func anyPressed(in input, keys ...ebiten.Key) bool {
	for _, k := range keys {
		if in.pressed(k) || in.repeated(k) {
			return true
		}
	}
	return false
}

// Keys of the monitor.
var (
	keysUp    = []ebiten.Key{ebiten.KeyUp, ebiten.KeyK}
	keysDown  = []ebiten.Key{ebiten.KeyDown, ebiten.KeyJ}
	keysPlus  = []ebiten.Key{ebiten.KeyEqual, ebiten.KeyNumpadAdd, ebiten.KeyRight}
	keysMinus = []ebiten.Key{ebiten.KeyMinus, ebiten.KeyNumpadSubtract, ebiten.KeyLeft}
	keysEnter = []ebiten.Key{ebiten.KeyEnter, ebiten.KeyNumpadEnter}
	keysZero  = []ebiten.Key{ebiten.Key0, ebiten.KeyNumpad0}
)
