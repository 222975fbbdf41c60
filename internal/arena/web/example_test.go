package web_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/web"
)

// The page is served beside the browser carrier's signaling handler (an
// rtc.Listener's Handler at /rtc); mpgameserver serve --web does this.
// Here the assets are stand-ins: web.Embedded or web.FromDir returns the
// real ones.
func ExampleHandler() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	assets := web.Assets{WASM: []byte("gzip of the arena"), ExecJS: []byte("/* wasm_exec.js */")}
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler(web.Config{Assets: assets, Key: root.Public(), Signal: "rtc"}))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	for _, path := range []string{"/", "/wasm_exec.js", "/favicon.ico"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /wasm_exec.js 200 text/javascript; charset=utf-8
	// /favicon.ico 404 text/plain; charset=utf-8
}
