package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/examples/arena/web"
)

func gz(t *testing.T, b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return z.Bytes()
}

// get makes a request of h and returns the response.
func get(h http.Handler, method, path string, header ...string) *http.Response {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestHandler(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("arena"), 1000)...)
	h := web.Handler(web.Config{Assets: web.Assets{WASM: gz(t, wasm), ExecJS: []byte("class Go {}")}, Key: root.Public(), Signal: "rtc"})

	// The page runs the program with the signaling URL, the pinned key
	// (as a JavaScript string) and the name from ?name=.
	resp := get(h, "GET", "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	page := body(t, resp)
	assert.Contains(t, page, `new URL("rtc", location.href)`)
	assert.Contains(t, page, `"-----BEGIN PUBLIC KEY-----\n`)
	assert.Contains(t, page, `q.get("name")`)
	assert.Contains(t, page, `src="wasm_exec.js"`)
	assert.Contains(t, page, `fetch("arena.wasm")`)

	resp = get(h, "GET", "/wasm_exec.js")
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "class Go {}", body(t, resp))

	// The WebAssembly goes compressed to a browser, as it is to a client
	// that takes no gzip, and not again to one that has it.
	resp = get(h, "GET", "/arena.wasm", "Accept-Encoding", "gzip, deflate, br")
	assert.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, wasm, got)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp = get(h, "GET", "/arena.wasm")
	assert.Empty(t, resp.Header.Get("Content-Encoding"))
	assert.Equal(t, string(wasm), body(t, resp))
	resp = get(h, "GET", "/arena.wasm", "Accept-Encoding", "gzip;q=0")
	assert.Empty(t, resp.Header.Get("Content-Encoding"))

	resp = get(h, "GET", "/arena.wasm", "If-None-Match", etag, "Accept-Encoding", "gzip")
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Empty(t, body(t, resp))

	resp = get(h, "HEAD", "/arena.wasm", "Accept-Encoding", "gzip")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body(t, resp))

	assert.Equal(t, http.StatusNotFound, get(h, "GET", "/secret").StatusCode)
	assert.Equal(t, http.StatusNotFound, get(h, "GET", "/dist/arena.wasm.gz").StatusCode)
	assert.Equal(t, http.StatusMethodNotAllowed, get(h, "POST", "/").StatusCode)
}

// TestPageEscapes: the signaling URL is data in the page, never markup
// or script.
func TestPageEscapes(t *testing.T) {
	h := web.Handler(web.Config{Signal: `</script><script>alert(1)</script>"`})
	page := body(t, get(h, "GET", "/"))
	assert.NotContains(t, page, "<script>alert(1)")
	assert.Contains(t, page, `"-key", ""`, "no key: the page trusts the server's")
}

// TestBuild builds the arena for the browser with the go command, as
// --web does in a binary without it embedded, and as go generate does.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a WebAssembly program")
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	a, err := web.Build(context.Background(), dir)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(a.WASM))
	require.NoError(t, err)
	magic := make([]byte, 4)
	_, err = io.ReadFull(zr, magic)
	require.NoError(t, err)
	assert.Equal(t, "\x00asm", string(magic))
	assert.True(t, strings.Contains(string(a.ExecJS), "globalThis.Go = class"), "wasm_exec.js from the Go distribution")

	// Outside any module the go command cannot find the program, and the
	// error says what failed.
	_, err = web.Build(context.Background(), t.TempDir())
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "go build: "), err.Error())
}
