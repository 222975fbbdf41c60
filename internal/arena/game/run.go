package game

import (
	"context"
	"fmt"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// Run opens the window and plays until it is closed, Esc is pressed or
// ctx is done (SIGINT and SIGTERM in the command); then the client
// disconnects gracefully. When the game had failed by then (nothing
// answered, the server went away or hosts another game) it returns the
// *Failure the window showed.
func Run(ctx context.Context, opts Options) error {
	g, err := New(opts)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, g.Quit)
	defer stop()
	name := wire.CleanName(opts.Name) // as the server will show it
	if name == "" {
		name = "player"
	}
	ebiten.SetWindowTitle(fmt.Sprintf("mpgameserver arena - %s @ %s", name, opts.Server))
	ebiten.SetWindowSize(Width, Height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	defer g.p.Client().WaitForDisconnect()
	if err := ebiten.RunGame(g); err != nil {
		return fmt.Errorf("game: %w", err)
	}
	return g.Err()
}
