// Package web serves the arena to browsers: a page at / that runs the
// arena's game window compiled to WebAssembly (internal/arena/browser)
// and joins the server that serves it over the browser carrier
// (carrier/rtc), beside the native players and the bots.
//
// The WebAssembly comes from one of two places: `go generate
// ./internal/arena/web` builds it into this package, and the next go build
// embeds it (Embedded); or a directory of the same two files that Build
// wrote (FromDir, serve --web-assets). A server never builds it at
// start-up: without either, Handler's page says plainly that the binary
// was built without the arena for the browser, and how to build one with
// it.
//
// # Headers
//
// Every response of Handler, a 404 or a 405 too, carries:
//
//   - Content-Security-Policy: default-src 'none'; script-src 'self'
//     'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src
//     'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none';
//     object-src 'none'. The page runs only its own files (arena.js,
//     wasm_exec.js, arena.css: nothing inline, no eval), compiles the
//     WebAssembly, and fetches arena.wasm and posts its offer to the
//     signaling URL, which must therefore be on the page's origin
//     (WebRTC's own traffic is not governed by the policy); img-src is for
//     the browser's request for /favicon.ico. No page may frame it.
//   - X-Frame-Options: DENY, for browsers older than frame-ancestors.
//   - X-Content-Type-Options: nosniff.
//   - Referrer-Policy: no-referrer.
//   - Cross-Origin-Opener-Policy: same-origin.
//
// # Firefox and the loopback
//
// With its default settings Firefox gathers ICE candidates on the
// default route's interface only (always so for a page without camera or
// microphone permission, so media.peerconnection.ice.loopback does not
// help), and pairs none of them with a server's loopback candidate: it
// cannot reach a server that listens on 127.0.0.1 only, sends it no
// connectivity check, and the game finds no answer from the server. A
// server offering a routable address (mpgameserver serve's default
// --listen :1474, on a machine with a network) works, even from a page
// loaded at 127.0.0.1. When the page runs in Firefox and was loaded from
// a loopback name (localhost, *.localhost, 127.0.0.0/8, [::1]) it shows a
// note that says so, and what to do: serve on, and open the page at, the
// machine's network address, or use Chrome.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/mpgs/mpgameserver/conn"
)

//go:generate go run ./internal/gen -o dist

//go:embed all:dist
var dist embed.FS

// The names of the generated files in dist.
const (
	wasmFile = "arena.wasm.gz"
	execFile = "wasm_exec.js"
)

// The page's script and style, in page/ and served at /.
//
//go:embed page/arena.js page/arena.css
var pageFiles embed.FS

// The names of the page's files.
const (
	jsFile  = "arena.js"
	cssFile = "arena.css"
)

// Assets are the files the page loads besides itself.
type Assets struct {
	// WASM is the arena built for GOOS=js GOARCH=wasm, gzip-compressed.
	WASM []byte
	// ExecJS is wasm_exec.js from the Go distribution that built WASM
	// (the two must match).
	ExecJS []byte
}

// Missing is what the page of a server without the assets says, and what
// the server logs.
const Missing = "this binary was built without the arena for the browser: run go generate ./internal/arena/web " +
	"before go build (the container recipe does), or give serve --web-assets DIR, a directory that " +
	"go run ./internal/arena/web/internal/gen -o DIR wrote"

// Empty reports whether a holds nothing to play.
func (a Assets) Empty() bool { return len(a.WASM) == 0 || len(a.ExecJS) == 0 }

// Embedded returns the assets that go generate put in this package, and
// false when the binary was built without that step.
func Embedded() (Assets, bool) {
	w, err1 := dist.ReadFile("dist/" + wasmFile)
	js, err2 := dist.ReadFile("dist/" + execFile)
	if err1 != nil || err2 != nil || len(w) == 0 || len(js) == 0 {
		return Assets{}, false
	}
	return Assets{WASM: w, ExecJS: js}, true
}

// Config is what the page needs to know of the server that serves it.
type Config struct {
	Assets Assets
	// Key is the server's root public key, which the page pins; nil trusts
	// whatever key the server presents.
	Key *conn.PublicKey
	// Signal is the URL of the browser carrier's signaling handler
	// (rtc.Listener.Handler), relative to the page: "rtc" when it is
	// served beside the page. It must be on the page's origin: the page's
	// Content-Security-Policy (connect-src 'self') lets it post nowhere
	// else.
	Signal string
}

// The security headers of every response (see the package doc).
const (
	// contentSecurityPolicy allows the page exactly what it does: its own
	// script and style files and wasm_exec.js ('self'), compiling the
	// WebAssembly ('wasm-unsafe-eval': no eval of JavaScript), fetching
	// arena.wasm and posting to the signaling URL (connect-src 'self';
	// WebRTC's own traffic is not governed by it), and the browser's own
	// request for /favicon.ico (img-src 'self': Firefox checks it against
	// the policy, and reports a violation without it). Nothing inline, no
	// fonts, frames, plugins, forms or <base>, and no page may frame it.
	contentSecurityPolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
		"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
)

// secure sets the security headers of every response in h.
func secure(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Handler serves the page at /, with /arena.js, /arena.css,
// /wasm_exec.js and /arena.wasm; any other path is not found. With empty
// Assets the page is a line of text, Missing (501). The page
// takes ?name= (the player's name) and ?color= (0 to 11). The
// WebAssembly is sent compressed to browsers that accept gzip (all of
// them), and revalidated by its ETag; a client that takes no gzip gets
// it decompressed, once per handler, on the first such request. Every
// response carries the headers the package doc lists.
func Handler(cfg Config) http.Handler {
	return newHandler(cfg, gunzip)
}

// handler is what Handler returns.
type handler struct {
	page, js, css []byte
	execJS        []byte
	wasm          []byte // gzip-compressed
	etag          string
	plain         plainWASM
	missing       bool // no assets: the page says so
}

// plainWASM is the WebAssembly decompressed, for the clients that take no
// gzip: made on the first request that needs it, and kept.
type plainWASM struct {
	once   sync.Once
	gunzip func([]byte) ([]byte, error)
	b      []byte
	err    error
}

// get returns the decompressed WebAssembly, decompressing gz the first
// time only, however many call it at once.
func (p *plainWASM) get(gz []byte) ([]byte, error) {
	p.once.Do(func() { p.b, p.err = p.gunzip(gz) })
	return p.b, p.err
}

// newHandler is Handler with the function that decompresses the
// WebAssembly (a test counts its calls).
func newHandler(cfg Config, unzip func([]byte) ([]byte, error)) *handler {
	key := ""
	if cfg.Key != nil {
		key = string(cfg.Key.MarshalPEM())
	}
	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, struct{ Signal, Key string }{cfg.Signal, key}); err != nil {
		panic(err) // the template and its data are ours
	}
	js, err1 := pageFiles.ReadFile("page/" + jsFile)
	css, err2 := pageFiles.ReadFile("page/" + cssFile)
	if err1 != nil || err2 != nil {
		panic("web: the page's files are not embedded") // go:embed makes them
	}
	sum := sha256.Sum256(cfg.Assets.WASM)
	return &handler{
		page: page.Bytes(), js: js, css: css,
		execJS:  cfg.Assets.ExecJS,
		wasm:    cfg.Assets.WASM,
		etag:    `"` + hex.EncodeToString(sum[:12]) + `"`,
		plain:   plainWASM{gunzip: unzip},
		missing: cfg.Assets.Empty(),
	}
}

// ServeHTTP serves one of the page's paths, every response with the
// security headers.
func (s *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	secure(h)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "web: GET only", http.StatusMethodNotAllowed)
		return
	}
	if s.missing && r.URL.Path == "/" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotImplemented)
		write(w, r, []byte("mpgameserver: "+Missing+"\n"))
		return
	}
	switch r.URL.Path {
	case "/":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		write(w, r, s.page)
	case "/" + jsFile:
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		write(w, r, s.js)
	case "/" + execFile:
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		write(w, r, s.execJS)
	case "/" + cssFile:
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		write(w, r, s.css)
	case "/arena.wasm":
		h.Set("Content-Type", "application/wasm")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", s.etag)
		h.Add("Vary", "Accept-Encoding")
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, s.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			write(w, r, s.wasm)
			return
		}
		b, err := s.plain.get(s.wasm)
		if err != nil {
			http.Error(w, "web: the WebAssembly is damaged", http.StatusInternalServerError)
			return
		}
		write(w, r, b)
	default:
		http.NotFound(w, r)
	}
}

// gunzip returns the decompression of the gzip stream gz.
func gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	// gzip's trailer ends with the size mod 2^32: room for all of it at
	// once, when it is believable.
	if n := len(gz); n >= 4 {
		if size := binary.LittleEndian.Uint32(gz[n-4:]); size <= maxPlainHint {
			out.Grow(int(size))
		}
	}
	if _, err := out.ReadFrom(zr); err != nil {
		return nil, err
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// maxPlainHint bounds the room gunzip makes from the gzip trailer's size
// before it has decompressed anything (the WebAssembly is about 30 MB).
const maxPlainHint = 256 << 20

func write(w http.ResponseWriter, r *http.Request, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// pageTemplate is the page. It runs no inline script and has no inline
// style (the Content-Security-Policy allows neither): arena.js reads the
// server's settings from the body's data attributes. The note on Firefox
// and the loopback is hidden until arena.js finds both.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mpgameserver arena</title>
<link rel="stylesheet" href="arena.css">
<script src="wasm_exec.js" defer></script>
<script src="arena.js" defer></script>
</head>
<body data-signal="{{.Signal}}" data-key="{{.Key}}">
<div id="status">loading the arena…</div>
<aside id="loopback-note" hidden>
<p><strong>Firefox and a server on this machine.</strong> If the game finds no answer from the server:
with its default settings, Firefox does not connect over WebRTC to a game server that listens on the
loopback only (127.0.0.1). Have the server listen on this machine's network address (the default
<code>--listen :1474</code> does) and open this page at that address, or use Chrome.</p>
<button type="button" id="loopback-note-close" title="Hide this note" aria-label="Hide this note">×</button>
</aside>
</body>
</html>
`))
