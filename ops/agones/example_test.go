package agones_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/mpgs/mpgameserver/ops/agones"
	"github.com/mpgs/mpgameserver/server"
)

// A server bound to Agones for one match: Ready at the start, Health
// while it ticks, Shutdown when the game stops it.
func Example() {
	// A stand-in for the Agones sidecar; in a pod, use
	// agones.FromEnv(os.Getenv) instead of BaseURL.
	readied := make(chan struct{})
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			fmt.Println(r.Method, r.URL.Path)
			close(readied)
		case "/shutdown":
			fmt.Println(r.Method, r.URL.Path)
		}
		io.WriteString(w, "{}")
	}))
	defer sidecar.Close()

	sdk, err := agones.New(agones.Config{BaseURL: sidecar.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- agones.Run(context.Background(), srv, sdk, agones.Options{}) }()
	go srv.Run()

	<-readied
	srv.Stop() // the match is over
	fmt.Println("run:", <-done)
	// Output:
	// POST /ready
	// POST /shutdown
	// run: <nil>
}

func ExampleFromEnv() {
	env := map[string]string{"AGONES_SDK_HTTP_PORT": "9357"} // os.Getenv in a pod
	cfg, underAgones := agones.FromEnv(func(k string) string { return env[k] })
	sdk, err := agones.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(underAgones, sdk.BaseURL())
	// Output: true http://localhost:9357
}
