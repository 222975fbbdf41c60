//go:build !headless && unix

package main

import (
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

// lines collects a child's standard output.
func lines(sc interface {
	Scan() bool
	Text() string
}) *syncbuf.Buffer {
	b := &syncbuf.Buffer{}
	go func() {
		for sc.Scan() {
			b.Write([]byte(sc.Text() + "\n"))
		}
	}()
	return b
}

// waitLine waits for a line matching re in out and returns its submatches.
func waitLine(t *testing.T, out, stderr *syncbuf.Buffer, re *regexp.Regexp, from int) []string {
	t.Helper()
	var m []string
	require.Eventually(t, func() bool {
		s := out.String()
		if from > len(s) {
			return false
		}
		m = re.FindStringSubmatch(s[from:])
		return m != nil
	}, 60*time.Second, 10*time.Millisecond, "no line matching %s in:\n%s\nstderr: %s", re, out.String(), stderr.String())
	return m
}

// shot makes the child save a screenshot (SIGUSR1) in dir, its
// --screenshots, and reads it.
func shot(t *testing.T, cmd interface{ Signal(os.Signal) error }, dir string, out, stderr *syncbuf.Buffer) *image.RGBA {
	t.Helper()
	from := len(out.String())
	require.NoError(t, cmd.Signal(syscall.SIGUSR1))
	m := waitLine(t, out, stderr, regexp.MustCompile(`screenshot saved to (\S+\.png)`), from)
	require.Equal(t, dir, filepath.Dir(m[1]), "saved in --screenshots")
	f, err := os.Open(m[1])
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(img.Bounds())
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				rgba.Set(x, y, img.At(x, y))
			}
		}
	}
	return rgba
}

// pixels counts the pixels of img within rows y0..y1 close to (r, g, b).
func pixels(img *image.RGBA, y0, y1 int, r, g, b uint8) int {
	n := 0
	for y := y0; y < y1 && y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			p := img.Pix[img.PixOffset(x, y):]
			near := func(a, b uint8) bool { return int(a)-int(b) <= 3 && int(b)-int(a) <= 3 }
			if near(p[0], r) && near(p[1], g) && near(p[2], b) {
				n++
			}
		}
	}
	return n
}

// bright counts the text-like pixels of img within rows y0..y1.
func brightRows(img *image.RGBA, y0, y1 int) int {
	n := 0
	for y := y0; y < y1 && y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			p := img.Pix[img.PixOffset(x, y):]
			if p[0] > 170 && p[1] > 170 && p[2] > 170 {
				n++
			}
		}
	}
	return n
}

// TestGUIAttach runs `mpgameserver gui --attach URL` in a child process
// (a window of its own) against a server started with serve --http, its
// token from MPGS_ADMIN_TOKEN: the window fills with the server's
// clients; the server stops: it says it lost contact; a server returns
// on the same HTTP address: it picks up; SIGTERM closes the window and
// leaves the server running.
func TestGUIAttach(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no DISPLAY and no Xvfb to start one: the gui command needs a window (apt-get install xvfb)")
	}
	t.Setenv("MPGS_ADMIN_TOKEN", "sesame-0123456789abcdef") // both the server's and the window's
	t.Chdir(t.TempDir())                                    // where the child saves screenshots
	dir := t.TempDir()
	code, _, _ := runArgs("keygen", dir)
	require.Equal(t, 0, code)
	key := filepath.Join(dir, "root.key")
	pub, err := conn.LoadPublicKey(filepath.Join(dir, "root.pub"))
	require.NoError(t, err)
	udp, base, _, _, stop := serveHTTP(t, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--key", key, "--game", "echo")
	for range 3 {
		connected(t, udp, pub)
	}

	shots := filepath.Join(t.TempDir(), "shots")
	cmd, sc, stderr := child(t, "gui", "--attach", base, "--screenshots", shots)
	out := lines(sc)
	waitLine(t, out, stderr, regexp.MustCompile(`ATTACHING `+regexp.QuoteMeta(base)), 0)
	waitLine(t, out, stderr, regexp.MustCompile(`attached to `+regexp.QuoteMeta(base)+`: server on `+regexp.QuoteMeta(udp)), 0)
	// The window shows three rows of clients once a snapshot with them
	// arrived: their text in the table's rows (below y 600 in the default
	// window), and no red band.
	var img *image.RGBA
	require.Eventually(t, func() bool {
		img = shot(t, cmd.Process, shots, out, stderr)
		return brightRows(img, 610, 680) > 600
	}, 60*time.Second, 100*time.Millisecond, "the table never filled")
	assert.Equal(t, image.Rect(0, 0, 1280, 800), img.Bounds())
	lost := func(img *image.RGBA) int { return pixels(img, 60, 86, 255, 120, 90) }
	assert.Less(t, lost(img), 1000, "no lost-contact band")

	// The server stops: lost contact.
	require.Equal(t, 0, stop())
	from := len(out.String())
	waitLine(t, out, stderr, regexp.MustCompile(`lost contact with `+regexp.QuoteMeta(base)+`: reconnecting \(`), from)
	require.Eventually(t, func() bool { return lost(shot(t, cmd.Process, shots, out, stderr)) > 20000 }, 30*time.Second, 100*time.Millisecond,
		"the window never showed the lost-contact band")

	// A server returns on the same HTTP address: the window picks up.
	udp2, _, _, _ := serve(t, "--listen", "127.0.0.1:0", "--http", strings.TrimPrefix(base, "http://"), "--key", key, "--game", "echo")
	from = len(out.String())
	waitLine(t, out, stderr, regexp.MustCompile(`attached to `+regexp.QuoteMeta(base)+`: server on `+regexp.QuoteMeta(udp2)), from)
	require.Eventually(t, func() bool { return lost(shot(t, cmd.Process, shots, out, stderr)) < 1000 }, 30*time.Second, 100*time.Millisecond,
		"the band never went")

	// SIGTERM closes the window; the server it watched runs on.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "exit status; stderr: %s", stderr.String())
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
