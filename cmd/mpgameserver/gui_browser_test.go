//go:build !headless

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestGUIWithBrowserPlayer: the monitor window's server takes --web too;
// a browser player joins the arena it hosts.
func TestGUIWithBrowserPlayer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arena for the browser and runs Chromium")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the gui command needs a window (apt-get install xvfb)")
	}
	ctx := browser(t)
	_, out, stderr := child(t, "gui", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--game", "arena", "--web-assets", arenaAssets(t))
	lines := make(chan string, 100)
	go func() {
		for out.Scan() {
			lines <- out.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the gui command ended; stderr: %s", stderr.String())
			return l
		case <-time.After(5 * time.Minute):
			t.Fatalf("no %s line; stderr: %s", what, stderr.String())
			return ""
		}
	}
	var page string
	for page == "" {
		if l := next("WEB"); strings.HasPrefix(l, "WEB ") {
			page = strings.TrimPrefix(l, "WEB ")
		}
	}
	require.True(t, strings.HasPrefix(next("READY"), "READY "))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page+"?name=glass")))
	for next("JOIN") != "JOIN glass" {
	}
}
