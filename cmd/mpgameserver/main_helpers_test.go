package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/internal/arena/web"
	"github.com/mpgs/mpgameserver/internal/xvfb"
)

// TestMain lets a test run the command in a child process: Ebitengine
// needs the process's main thread, which only a fresh process can give the
// gui command. The child stops on SIGINT and SIGTERM as main does. It
// removes the arena's assets the tests built, if any.
func TestMain(m *testing.M) {
	if args := os.Getenv("MPGS_RUN_COMMAND"); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		os.Exit(run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	// The window commands' tests run their children on a display: the
	// one given, or a virtual one when Xvfb is installed.
	stopX, err := xvfb.Ensure()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	code := m.Run()
	stopX()
	if assets.dir != "" {
		os.RemoveAll(assets.dir)
	}
	os.Exit(code)
}

// assets is the arena for the browser, built once for every test of this
// binary that serves the page (--web-assets): the server never builds it
// at start-up, and a cold build takes a minute.
var assets struct {
	once sync.Once
	dir  string
	err  error
}

// arenaAssets returns a directory holding the arena for the browser.
func arenaAssets(t *testing.T) string {
	t.Helper()
	assets.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		a, err := web.Build(ctx, "../..")
		if err != nil {
			assets.err = err
			return
		}
		dir, err := os.MkdirTemp("", "mpgs-arena-assets")
		if err != nil {
			assets.err = err
			return
		}
		assets.dir, assets.err = dir, a.Write(dir)
	})
	if assets.err != nil {
		t.Fatalf("building the arena for the browser: %v", assets.err)
	}
	return assets.dir
}
