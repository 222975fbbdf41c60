// Package web serves the arena to browsers: a page at / that runs the
// arena's game window compiled to WebAssembly (examples/arena/browser)
// and joins the server that serves it over the browser carrier
// (engine/rtc), beside the native players and the bots.
//
// The WebAssembly comes from one of two places. `go generate
// ./examples/arena/web` builds it into this package, and the next go build
// embeds it (Embedded); a binary built without that step builds it at
// start-up with the go command, from the source tree it runs in (Build).
// Load tries both, in that order.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/mpgs/mpgameserver/engine/conn"
)

//go:generate go run ./internal/gen -o dist

//go:embed all:dist
var dist embed.FS

// The names of the generated files in dist.
const (
	wasmFile = "arena.wasm.gz"
	execFile = "wasm_exec.js"
)

// Assets are the files the page loads besides itself.
type Assets struct {
	// WASM is the arena built for GOOS=js GOARCH=wasm, gzip-compressed.
	WASM []byte
	// ExecJS is wasm_exec.js from the Go distribution that built WASM
	// (the two must match).
	ExecJS []byte
}

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
	// served beside the page.
	Signal string
}

// Handler serves the page at /, with /wasm_exec.js and /arena.wasm; any
// other path is not found. The page takes ?name= (the player's name) and
// ?color= (0 to 11). The WebAssembly is sent compressed to browsers that
// accept gzip (all of them), and revalidated by its ETag.
func Handler(cfg Config) http.Handler {
	key := ""
	if cfg.Key != nil {
		key = string(cfg.Key.MarshalPEM())
	}
	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, struct{ Signal, Key string }{cfg.Signal, key}); err != nil {
		panic(err) // the template and its data are ours
	}
	sum := sha256.Sum256(cfg.Assets.WASM)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "web: GET only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		switch r.URL.Path {
		case "/":
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			write(w, r, page.Bytes())
		case "/" + execFile:
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			write(w, r, cfg.Assets.ExecJS)
		case "/arena.wasm":
			h.Set("Content-Type", "application/wasm")
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", etag)
			h.Add("Vary", "Accept-Encoding")
			if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			if acceptsGzip(r) {
				h.Set("Content-Encoding", "gzip")
				write(w, r, cfg.Assets.WASM)
				return
			}
			zr, err := gzip.NewReader(bytes.NewReader(cfg.Assets.WASM))
			if err != nil {
				http.Error(w, "web: the WebAssembly is damaged", http.StatusInternalServerError)
				return
			}
			if r.Method == http.MethodHead {
				return
			}
			_, _ = io.Copy(w, zr)
		default:
			http.NotFound(w, r)
		}
	})
}

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

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mpgameserver arena</title>
<style>
html, body { margin: 0; height: 100%; background: #05070d; color: #cfd8e3; font: 15px sans-serif; }
#status { position: fixed; left: 1em; top: 1em; white-space: pre-wrap; }
</style>
<script src="wasm_exec.js"></script>
</head>
<body>
<div id="status">loading the arena…</div>
<script>
(async () => {
  const status = document.getElementById("status");
  const show = (text) => { status.textContent = text; status.style.display = "block"; };
  const q = new URLSearchParams(location.search);
  const go = new Go();
  go.argv = ["arena",
    "-server", new URL({{.Signal}}, location.href).href,
    "-key", {{.Key}},
    "-name", q.get("name") || "",
    "-color", q.get("color") || ""];
  try {
    const wasm = await WebAssembly.instantiateStreaming(fetch("arena.wasm"), go.importObject);
    status.style.display = "none";
    await go.run(wasm.instance);
    if (status.style.display === "none") show("the game ended: reload the page to play again");
  } catch (e) {
    show("arena: " + e);
  }
})();
</script>
</body>
</html>
`))
