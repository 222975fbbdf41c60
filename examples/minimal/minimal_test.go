// Package minimal_test builds README's two programs, the server and the
// client of examples/minimal, as a new user does: copied into a module of
// their own that requires this one from a clone, then runs them together.
package minimal_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/xvfb"
)

// TestMain gives the client's window a display: the one given, or a
// virtual one when Xvfb is installed.
func TestMain(m *testing.M) {
	stop, err := xvfb.Ensure()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// gocmd runs the go command in dir and returns its output. Modules come
// from the cache, or from the module proxy configured (go mod tidy wants
// the modules of every platform, such as Ebitengine's mobile one, which
// building this module on Linux never fetched).
func gocmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOSUMDB=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// lines feeds r's lines into a channel.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
	}()
	return ch
}

// await returns the first line that matches re, or fails after limit (a
// guard against a hang, not a measure).
func await(t *testing.T, ch <-chan string, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case line, ok := <-ch:
			require.True(t, ok, "the output ended before %s", re)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line like %s in %v", re, limit)
		}
	}
}

func TestServerAndClientFromAModuleOfTheirOwn(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	mod := t.TempDir()
	for _, prog := range []string{"server", "client"} {
		require.NoError(t, os.MkdirAll(filepath.Join(mod, prog), 0o755))
		src, err := os.ReadFile(filepath.Join(prog, "main.go"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(mod, prog, "main.go"), src, 0o644))
	}
	// README's route from a clone, until the module is published.
	gocmd(t, mod, "mod", "init", "mygame")
	gocmd(t, mod, "mod", "edit", "-require", "github.com/mpgs/mpgameserver@v0.0.0", "-replace", "github.com/mpgs/mpgameserver="+root)
	gocmd(t, mod, "mod", "tidy")
	bin := t.TempDir()
	gocmd(t, mod, "build", "-o", bin, "./server", "./client")

	// The server, with a key of its own.
	key, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, conn.SavePrivateKey(filepath.Join(bin, "root.key"), key))
	require.NoError(t, conn.SavePublicKey(filepath.Join(bin, "root.pub"), key.Public()))
	srv := exec.Command(filepath.Join(bin, "server"), "--listen", "127.0.0.1:0", "--key", filepath.Join(bin, "root.key"))
	logs, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	out := lines(logs)
	addr := await(t, out, regexp.MustCompile(`listening on (\S+)`), time.Minute)[1]

	// A player of the test's: its dot comes back to it.
	c := client.New(client.Config{ServerKey: key.Public()})
	t.Cleanup(c.ForceDisconnect)
	require.NoError(t, c.Connect(addr, nil))
	dot := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 100), 200)
	sent, back := false, false
	for deadline := time.Now().Add(time.Minute); !back; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "no dot came back (%v)", c.Err())
		c.Update()
		if c.Connected() && !sent {
			require.NoError(t, c.SendGuaranteed(dot, nil))
			sent = true
		}
		for _, m := range c.Messages() {
			back = back || string(m.Data) == string(dot)
		}
	}
	await(t, out, regexp.MustCompile(`player \d+ joined \(1 playing\)`), time.Minute)

	// The window joins too, where there is a display.
	if os.Getenv("DISPLAY") == "" {
		t.Log("no DISPLAY and no Xvfb: the client was built, not run (apt-get install xvfb)")
		return
	}
	win := exec.Command(filepath.Join(bin, "client"), "--server", addr, "--pubkey", filepath.Join(bin, "root.pub"))
	require.NoError(t, win.Start())
	t.Cleanup(func() { win.Process.Kill(); win.Wait() })
	await(t, out, regexp.MustCompile(`player \d+ joined \(2 playing\)`), 2*time.Minute)
	assert.True(t, c.Connected())
	require.NoError(t, win.Process.Kill())
	await(t, out, regexp.MustCompile(`player \d+ left \(1 playing\)`), time.Minute)
}
