package game

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

// Run opens the window and plays until it is closed, Esc is pressed or
// ctx is done (SIGINT and SIGTERM in the command); then the client
// disconnects gracefully. When the game had failed by then (nothing
// answered, the server went away or hosts another game) it returns the
// *Failure the window showed. With opts.Replay it shows that replay
// instead.
func Run(ctx context.Context, opts Options) error {
	g, err := New(opts)
	if err != nil {
		return err
	}
	return g.Run(ctx)
}

// Run opens the window on g, as the function Run does: made with New,
// the caller may hold it meanwhile (to ask for screenshots).
func (g *Game) Run(ctx context.Context) error {
	opts := g.opts
	stop := context.AfterFunc(ctx, g.Quit)
	defer stop()
	name := wire.CleanName(opts.Name) // as the server will show it
	if name == "" {
		name = "player"
	}
	title := fmt.Sprintf("mpgameserver arena - %s @ %s", name, opts.Server)
	if r := opts.Replay; r != nil {
		title = fmt.Sprintf("mpgameserver arena - replay: %s (%s)", r.Session().Name, filepath.Base(r.Path()))
	}
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowSize(Width, Height)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	if c := g.p.Client(); c != nil {
		defer func() {
			c.Disconnect() // no more attempts, when reconnecting
			c.WaitForDisconnect()
		}()
	}
	if err := ebiten.RunGame(g); err != nil {
		return fmt.Errorf("game: %w", err)
	}
	return g.Err()
}
