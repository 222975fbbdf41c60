// Command gen builds the arena for the browser into a directory: for the
// web package to embed (go generate ./internal/arena/web runs it), or for
// serve --web-assets DIR.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mpgs/mpgameserver/internal/arena/web"
)

func main() {
	out := flag.String("o", "dist", "directory to write arena.wasm.gz and wasm_exec.js into")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gen(ctx, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func gen(ctx context.Context, out string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	a, err := web.Build(ctx, dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := a.Write(out); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes) and wasm_exec.js\n", filepath.Join(out, "arena.wasm.gz"), len(a.WASM))
	return nil
}
