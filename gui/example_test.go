package gui_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/gui"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// A game server in a monitor window: Run serves until the window is
// closed, Esc is pressed or a signal arrives, then stops the server
// gracefully. It needs a display, so this example is not run.
func ExampleServer() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	s, err := gui.NewServer(server.Config{Handler: echogame.NewHandler(os.Stdout), RootKey: root}, ":1474")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// A Monitor is an ebiten.Game showing a server's snapshots, for a
// program that runs the server itself. It needs a display, so this
// example is not run.
func ExampleMonitor() {
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(nil)}, ":1474")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() {
		srv.Stop()
		<-srv.Done()
	}()

	mon, err := gui.NewMonitor(admin.NewLocal(srv, nil, nil))
	if err != nil {
		log.Fatal(err)
	}
	mon.SetDone(srv.Done()) // close the window if the server stops
	ebiten.SetWindowSize(gui.Width, gui.Height)
	if err := ebiten.RunGame(mon); err != nil {
		log.Fatal(err)
	}
}

// An Attached window monitors a server started elsewhere with
// `mpgameserver serve --http 127.0.0.1:8080 --admin-token ...`: it polls
// the server once a second, says when it lost contact and picks up again
// when the server returns; with the token it can disconnect and block
// clients and change the simulated network (serve --netsim). It needs a
// display, so this example is not run.
func ExampleAttached() {
	remote := admin.Attach("http://127.0.0.1:8080", os.Getenv("MPGS_ADMIN_TOKEN"), nil)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gui.NewAttached(remote).Run(ctx); err != nil {
		log.Fatal(err)
	}
}
