//go:build !headless

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgs/mpgameserver/gui"
)

func runGUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gui", "Runs a game server in a monitor window that plots its health every second.\n"+
		"Esc, closing the window, SIGINT or SIGTERM stop it gracefully; P saves a screenshot.", stderr)
	var f serverFlags
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	srv, err := f.newServer(stdout, stderr)
	if err != nil {
		return err
	}
	defer srv.close()
	g := gui.NewServerWith(srv.Server)
	g.SetOutput(stdout)
	if err := g.Init(); err != nil {
		srv.Server.Close()
		return err
	}
	fmt.Fprintf(stdout, "READY %s\n", srv.Addr())
	stopBots := f.startBots(ctx, srv.Server, stderr)
	defer stopBots()
	return g.Run(ctx)
}
