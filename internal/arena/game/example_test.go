package game_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/arena/game"
)

// Run plays in a window until it is closed, Esc is pressed or a signal
// arrives. It needs a display, so this example is not run.
func ExampleRun() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := game.Run(ctx, game.Options{Server: "127.0.0.1:1474", Name: "ann", Color: 2})
	if err != nil {
		log.Fatal(err)
	}
}

// New gives the ebiten.Game for a program that runs the window itself.
// It needs a display, so this example is not run.
func ExampleNew() {
	g, err := game.New(game.Options{Server: "127.0.0.1:1474", Name: "ann"})
	if err != nil {
		log.Fatal(err)
	}
	g.SetOverlay(false) // no network overlay (key N toggles it)
	ebiten.SetWindowSize(game.Width, game.Height)
	if err := ebiten.RunGame(g); err != nil {
		log.Fatal(err)
	}
	g.Player().Client().WaitForDisconnect()
}

// Palette holds the players' colors, indexed by the color a player
// picks (wire.Hello's Color).
func ExamplePalette() {
	p := game.Palette()
	fmt.Println(len(p), "colors, the first", p[0])
	// Output:
	// 12 colors, the first {255 99 71 255}
}
