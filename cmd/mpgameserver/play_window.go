//go:build !headless

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgs/mpgameserver/internal/arena/game"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

func runPlay(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("play", "Opens the arena client window and joins the game at --server.", stderr)
	server := fs.String("server", "127.0.0.1:1474", "arena server address, host:port, or the browser carrier's URL of a server run with --web\n"+
		"(http://host:port/rtc: WebRTC, as a browser joins)")
	pubkey := fs.String("pubkey", "", "PEM file of the server's public key to pin (empty: trust the server's key)")
	name := fs.String("name", "player", "your name in the game (16 bytes at most)")
	color := fs.Int("color", 0, fmt.Sprintf("your color, 0-%d", wire.Colors-1))
	shots := fs.String("screenshots", "screenshots", "directory for the screenshots of P (made when missing)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *color < 0 || *color >= wire.Colors {
		return fmt.Errorf("--color %d: want 0-%d", *color, wire.Colors-1)
	}
	key, err := loadKey(*pubkey)
	if err != nil {
		return err
	}
	if err := checkDisplay(os.Getenv); err != nil {
		return err
	}
	if w := nameWarning(*name); w != "" {
		fmt.Fprintln(stderr, w)
	}
	return game.Run(ctx, game.Options{Server: *server, Key: key, Name: *name, Color: uint8(*color), ScreenshotDir: *shots})
}
