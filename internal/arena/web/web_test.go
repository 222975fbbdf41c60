package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/web"
)

func gz(t *testing.T, b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return z.Bytes()
}

// stand returns stand-in assets: a page needs some to be served.
func stand(t *testing.T) web.Assets {
	return web.Assets{WASM: gz(t, []byte("\x00asm")), ExecJS: []byte("class Go {}")}
}

// TestPageWithoutTheArena: a server built without the arena says so, and
// how to build one with it, at / (501); its other paths are as usual.
func TestPageWithoutTheArena(t *testing.T) {
	h := web.Handler(web.Config{Signal: "rtc"})
	resp := get(h, http.MethodGet, "/")
	assert.Equal(t, http.StatusNotImplemented, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), web.Missing)
	assert.NotEmpty(t, resp.Header.Get("Content-Security-Policy"), "with the headers of every response")
	assert.True(t, web.Assets{}.Empty())
	assert.False(t, stand(t).Empty())
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

	// The page gives its script the signaling URL and the pinned key in
	// its body's data attributes; the script runs the program with them
	// and the name from ?name=.
	resp := get(h, "GET", "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	page := body(t, resp)
	assert.Contains(t, page, `data-signal="rtc"`)
	assert.Contains(t, page, "data-key=\"-----BEGIN PUBLIC KEY-----\n")
	assert.Contains(t, page, `src="wasm_exec.js"`)
	assert.Contains(t, page, `src="arena.js"`)
	assert.Contains(t, page, `href="arena.css"`)

	resp = get(h, "GET", "/arena.js")
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	script := body(t, resp)
	assert.Contains(t, script, `new URL(cfg.signal || "", location.href)`)
	assert.Contains(t, script, `"-key", cfg.key || ""`)
	assert.Contains(t, script, `q.get("name")`)
	assert.Contains(t, script, `fetch("arena.wasm")`)
	resp = get(h, "GET", "/arena.css")
	assert.Equal(t, "text/css; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body(t, resp), "#status")

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
	h := web.Handler(web.Config{Assets: stand(t), Signal: `</script><script>alert(1)</script>"`})
	page := body(t, get(h, "GET", "/"))
	assert.NotContains(t, page, "<script>alert(1)")
	assert.Contains(t, page, `data-signal="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;"`)
	assert.Contains(t, page, `data-key=""`, "no key: the page trusts the server's")
}

// TestBuild builds the arena for the browser with the go command, as go
// generate and the tests do.
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

	// Stopped (Ctrl-C in go generate) is said so, not blamed on the tree.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = web.Build(ctx, dir)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "go build: interrupted: context canceled", err.Error())
}

// csp parses a Content-Security-Policy into its directives' sources.
func csp(policy string) map[string][]string {
	m := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

// TestHeaders: every response, the page's, its files', the
// WebAssembly's, a 304's, a 404's and a 405's, has the security headers,
// and the policy allows the page what it does and nothing else.
func TestHeaders(t *testing.T) {
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("arena"), 100)...)
	h := web.Handler(web.Config{Assets: web.Assets{WASM: gz(t, wasm), ExecJS: []byte("class Go {}")}, Signal: "rtc"})
	etag := get(h, "GET", "/arena.wasm").Header.Get("ETag")
	for _, tc := range []struct {
		method, path string
		header       []string
		code         int
	}{
		{"GET", "/", nil, http.StatusOK},
		{"HEAD", "/", nil, http.StatusOK},
		{"GET", "/arena.js", nil, http.StatusOK},
		{"GET", "/arena.css", nil, http.StatusOK},
		{"GET", "/wasm_exec.js", nil, http.StatusOK},
		{"GET", "/arena.wasm", []string{"Accept-Encoding", "gzip"}, http.StatusOK},
		{"GET", "/arena.wasm", nil, http.StatusOK},
		{"GET", "/arena.wasm", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"GET", "/favicon.ico", nil, http.StatusNotFound},
		{"GET", "/page/arena.js", nil, http.StatusNotFound},
		{"POST", "/", nil, http.StatusMethodNotAllowed},
	} {
		resp := get(h, tc.method, tc.path, tc.header...)
		name := tc.method + " " + tc.path
		require.Equal(t, tc.code, resp.StatusCode, name)
		hd := resp.Header
		assert.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"), name)
		assert.Equal(t, "no-referrer", hd.Get("Referrer-Policy"), name)
		assert.Equal(t, "DENY", hd.Get("X-Frame-Options"), name)
		assert.Equal(t, "same-origin", hd.Get("Cross-Origin-Opener-Policy"), name)
		require.Len(t, hd.Values("Content-Security-Policy"), 1, name)
		assert.Equal(t, map[string][]string{
			"default-src":     {"'none'"},
			"script-src":      {"'self'", "'wasm-unsafe-eval'"},
			"style-src":       {"'self'"},
			"img-src":         {"'self'"},
			"connect-src":     {"'self'"},
			"base-uri":        {"'none'"},
			"form-action":     {"'none'"},
			"frame-ancestors": {"'none'"},
			"object-src":      {"'none'"},
		}, csp(hd.Get("Content-Security-Policy")), name)
	}
}

// TestPageFollowsPolicy: nothing in the page needs what the policy
// forbids: no inline script, event handler or style, no javascript: URL,
// and no eval in its script.
func TestPageFollowsPolicy(t *testing.T) {
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	h := web.Handler(web.Config{Assets: stand(t), Key: root.Public(), Signal: "rtc"})
	page := body(t, get(h, "GET", "/"))
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	assert.Equal(t, []string{`<script src="wasm_exec.js" defer>`, `<script src="arena.js" defer>`}, scripts)
	assert.Equal(t, len(scripts), strings.Count(page, "<script"))
	assert.Equal(t, len(scripts), strings.Count(page, "></script>"), "every script is empty: its code is in its file")
	assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, page, "no inline event handler")
	assert.NotRegexp(t, `(?i)\sstyle\s*=`, page, "no style attribute")
	assert.NotContains(t, page, "<style", "no inline style")
	assert.NotContains(t, strings.ToLower(page), "javascript:")
	script := body(t, get(h, "GET", "/arena.js"))
	for _, forbidden := range []string{"eval(", "Function(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "setAttribute(\"style", "setTimeout(\"", "setInterval(\""} {
		assert.NotContains(t, script, forbidden)
	}
}

// TestFirefoxLoopbackNote: the page has the note on Firefox and a server
// on the loopback, hidden, and its script shows it in Firefox when the
// page came from a loopback name.
func TestFirefoxLoopbackNote(t *testing.T) {
	h := web.Handler(web.Config{Assets: stand(t), Signal: "rtc"})
	page := body(t, get(h, "GET", "/"))
	assert.Contains(t, page, `<aside id="loopback-note" hidden>`)
	note := page[strings.Index(page, `<aside id="loopback-note"`):strings.Index(page, "</aside>")]
	for _, want := range []string{
		"If the game finds no answer from the server",
		"Firefox does not connect over WebRTC to a game server that listens on the\nloopback only",
		"Have the server listen on this machine's network address",
		"<code>--listen :1474</code>",
		"open this page at that address, or use Chrome.",
		`<button type="button" id="loopback-note-close"`,
	} {
		assert.Contains(t, note, want)
	}
	script := body(t, get(h, "GET", "/arena.js"))
	for _, want := range []string{
		`navigator.userAgent.includes("Firefox/")`,
		`loopbackHost(location.hostname)`,
		`getElementById("loopback-note")`,
		`note.hidden = false`,
		`getElementById("loopback-note-close")`,
	} {
		assert.Contains(t, script, want)
	}

	// The detection itself, where there is a JavaScript engine to run it.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on the PATH to run loopbackHost")
	}
	fn := regexp.MustCompile(`(?s)function loopbackHost\(host\) \{.*?\n\}\n`).FindString(script)
	require.NotEmpty(t, fn)
	hosts := map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "arena.localhost": true,
		"127.0.0.1": true, "127.255.0.9": true, "[::1]": true,
		"example.com": false, "localhost.example": false, "notlocalhost": false,
		"128.0.0.1": false, "192.168.1.2": false, "10.0.0.127": false, "[::2]": false, "[2001:db8::1]": false,
		"1127.0.0.1": false, "127.0.0.1.example": false,
	}
	var check strings.Builder
	check.WriteString(fn)
	for host, want := range hosts {
		fmt.Fprintf(&check, "if (loopbackHost(%q) !== %v) { console.log(%q); }\n", host, want, host)
	}
	out, err := exec.Command(node, "-e", check.String()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, string(out), "hosts loopbackHost gets wrong")
}
