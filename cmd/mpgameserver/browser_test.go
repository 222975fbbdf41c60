package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/ops/admin"
)

// chromium returns the path of a Chromium or Chrome on the PATH, or skips
// the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on the PATH (apt-get install chromium): the browser tests need one")
	return ""
}

// browser starts a headless Chromium and returns its context, or skips
// the test when it cannot start.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
		// WebGL without a GPU, for Ebitengine.
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		// Offer the loopback address as it is, not behind an mDNS name
		// the server does not resolve.
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		// Gather on the loopback too, where the test's server is.
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// A page in the background still runs its frames.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, which lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("Chromium (%s) did not start: %v", path, err)
	}
	return ctx
}

// webServer runs `serve --game arena --web` with a key of its own and
// returns the UDP address, the page's URL and the server's public key.
// The arena for the browser is built once for all the tests (arenaAssets).
func webServer(t *testing.T, extra ...string) (udp, page string, key *conn.PublicKey, out, errOut *syncbuf.Buffer) {
	t.Helper()
	dir := t.TempDir()
	code, _, errText := runArgs("keygen", dir)
	require.Equal(t, 0, code, errText)
	key, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut = &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	args := append([]string{"serve", "--game", "arena", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0",
		"--key", filepath.Join(dir, "root.key"), "--web-assets", arenaAssets(t)}, extra...)
	go func() { done <- run(ctx, args, out, errOut) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	ready := regexp.MustCompile(`WEB (\S+)\nREADY (\S+)`)
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); {
		if m := ready.FindStringSubmatch(out.String()); m != nil {
			return m[2], m[1], key, out, errOut
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve printed no WEB and READY lines: %s %s", out.String(), errOut.String())
	return
}

// watcher is a native player on UDP that reports where the ship of a
// given name is.
type watcher struct {
	p *player.Player
}

func watch(t *testing.T, udp string, key *conn.PublicKey) *watcher {
	p := player.New(player.Options{Name: "native", Key: key})
	require.NoError(t, p.Connect(udp))
	t.Cleanup(func() { p.Client().Disconnect() })
	return &watcher{p: p}
}

// frame runs one frame of the native player.
func (w *watcher) frame() {
	w.p.Frame(time.Now(), 0)
}

// sees reports whether the native player's view has a ship named name.
func (w *watcher) sees(name string) bool {
	for _, s := range w.p.View(time.Now()).Ships {
		if s.Name == name {
			return true
		}
	}
	return false
}

// until runs frames of the native player until ok is true of the ship
// named name, and returns it; it fails the test after the deadline.
func (w *watcher) until(t *testing.T, name string, d time.Duration, ok func(player.Ship) bool) player.Ship {
	t.Helper()
	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	var last player.Ship
	seen := false
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		now := <-frame.C
		w.p.Frame(now, 0)
		for _, s := range w.p.View(now).Ships {
			if s.Name == name {
				last, seen = s, true
				if ok(s) {
					return s
				}
			}
		}
	}
	t.Fatalf("the native player never saw it happen to %q (seen: %v, last %+v; err %v)", name, seen, last, w.p.Err())
	return last
}

// press sends a key event of the DOM key k to the page.
func press(ctx context.Context, typ input.DispatchKeyEventType, k string, code int64) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: k, Code: k, WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code})
		return err
	}))
}

// consoleLog collects what the page writes to its console (the Go
// program's standard output and error go there).
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *consoleLog) listen(t *testing.T, ctx context.Context) {
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		var args []*runtime.RemoteObject
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			args = e.Args
		case runtime.EventConsoleAPICalled:
			args = e.Args
		default:
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, a := range args {
			c.lines = append(c.lines, string(a.Value))
		}
	}))
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// TestBrowserPlayerInTheArena loads the --web page in a headless
// Chromium: the arena, built for WebAssembly, joins the server over
// WebRTC, the server names it, and a native UDP player sees its ship
// turn and fly when the browser's keys are pressed.
func TestBrowserPlayerInTheArena(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arena for the browser and runs Chromium")
	}
	ctx := browser(t)
	udp, page, key, out, errOut := webServer(t, "--http", "127.0.0.1:0", "--admin-token", adminToken)

	var console consoleLog
	console.listen(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page+"?name=webby")))
	t.Cleanup(func() {
		if t.Failed() {
			status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent + " (display: " + document.getElementById("status").style.display + ")"`))
			var statusPage string
			if m := httpListening.FindStringSubmatch(errOut.String()); m != nil {
				if resp, err := http.Get("http://" + m[1] + "/"); err == nil {
					b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
					resp.Body.Close()
					statusPage = string(b)
				}
			}
			t.Logf("page status: %q\nserver: %s\n%s\nstatus page:\n%s\nconsole:\n%s", status, out.String(), errOut.String(), statusPage, console.String())
		}
	})

	// The server sees the player join under its name.
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(out.String(), "JOIN webby"); {
		require.True(t, time.Now().Before(deadline), "the browser player never joined: %s", out.String())
		time.Sleep(20 * time.Millisecond)
	}
	// The monitor's client table says how it came.
	m := httpListening.FindStringSubmatch(errOut.String())
	require.NotNil(t, m, errOut.String())
	var doc *admin.Document
	require.Eventually(t, func() bool { doc = document(t, "http://"+m[1], adminToken); return len(doc.Snapshot.Peers) == 1 },
		time.Minute, 20*time.Millisecond)
	assert.Equal(t, "webrtc", doc.Snapshot.Peers[0].Carrier)
	assert.True(t, doc.Snapshot.Peers[0].Addr.Addr().IsLoopback(), "the browser came over the loopback: %v", doc.Snapshot.Peers[0].Addr)

	// A native player and a bot join; everybody sees everybody: the
	// native player through its snapshots, the page through the names it
	// puts in its body's data-players.
	w := watch(t, udp, key)
	bctx, stopBot := context.WithCancel(context.Background())
	botDone := make(chan error, 1)
	go func() { botDone <- arena.RunBots(bctx, udp, key, 1) }()
	t.Cleanup(func() { stopBot(); <-botDone })
	w.until(t, "bot1", time.Minute, func(player.Ship) bool { return true })
	w.until(t, "webby", time.Minute, func(player.Ship) bool { return true })
	players := func() string {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.players || ""`))
		require.NoError(t, err)
		return p
	}
	for deadline := time.Now().Add(time.Minute); players() != "bot1,native,webby"; {
		require.True(t, time.Now().Before(deadline), "the page sees %q", players())
		w.frame()
		time.Sleep(10 * time.Millisecond)
	}

	// Without the bot, the browser's keys steer its ship: Left turns it,
	// Up makes it fly, and the native player sees both.
	stopBot()
	require.NoError(t, <-botDone)
	botDone <- nil
	first := w.until(t, "webby", time.Minute, func(s player.Ship) bool { return s.Alive && !w.sees("bot1") })
	alive := func(s player.Ship) bool { return s.Alive && s.Deaths == first.Deaths }
	require.NoError(t, press(ctx, input.DispatchKeyEventTypeRawKeyDown, "ArrowLeft", 37))
	turned := w.until(t, "webby", time.Minute, func(s player.Ship) bool {
		return alive(s) && math.Abs(math.Remainder(s.Angle-first.Angle, 2*math.Pi)) > 0.5
	})
	require.NoError(t, press(ctx, input.DispatchKeyEventTypeKeyUp, "ArrowLeft", 37))
	require.NoError(t, press(ctx, input.DispatchKeyEventTypeRawKeyDown, "ArrowUp", 38))
	w.until(t, "webby", time.Minute, func(s player.Ship) bool {
		return alive(s) && s.Thrust && math.Hypot(s.X-turned.X, s.Y-turned.Y) > 40
	})
	require.NoError(t, press(ctx, input.DispatchKeyEventTypeKeyUp, "ArrowUp", 38))
}
