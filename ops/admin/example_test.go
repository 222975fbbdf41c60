package admin_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// A server's admin API, and a monitor attached to it.
func Example() {
	tail := admin.NewLogTail(nil, 50, slog.LevelWarn) // the server's warnings, for the monitor
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(tail)}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	local := admin.NewLocal(srv, tail, nil)
	const token = "8c1f0f4e2a9d7b36e5a04c1d9f2b7e63" // openssl rand -hex 16
	h, err := admin.NewHandler(local, admin.HandlerConfig{Token: token})
	if err != nil {
		log.Fatal(err)
	}
	web := httptest.NewServer(h) // http.ListenAndServe in a program
	defer web.Close()

	remote := admin.Attach(web.URL, token, nil)
	if err := remote.Poll(context.Background()); err != nil {
		log.Fatal(err)
	}
	var s server.Snapshot
	remote.Snapshot(&s)
	fmt.Println("same server:", s.Addr == srv.Addr())
	fmt.Println("redacted:", remote.Redacted())
	fmt.Println("actions:", remote.Actions())
	fmt.Println("simulated network:", remote.Network().Available)
	fmt.Println(remote.Disconnect(context.Background(), 42))
	// Output:
	// same server: true
	// redacted: false
	// actions: true
	// simulated network: false
	// admin: no connected client has that token
}

// The admin API on a server's HTTP address, with a read-only token for
// dashboards, a public name, and Go's profiles.
func ExampleNewHandler() {
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close() // Run serves it in a program
	local := admin.NewLocal(srv, nil, nil)

	_, err = admin.NewHandler(local, admin.HandlerConfig{Token: "s3cret"})
	fmt.Println(err != nil) // too short

	h, err := admin.NewHandler(local, admin.HandlerConfig{
		Token:     "8c1f0f4e2a9d7b36e5a04c1d9f2b7e63", // actions and full reads
		ReadToken: "1b7d30c2e9f4a6580d2c7e1f4b9a3d65", // full reads only
		Hosts:     []string{"admin.example.com"},      // besides localhost and IP addresses
		Profiles:  true,                               // /debug/pprof/
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle("/debug/pprof/", h)

	// Without a token, the document names no client.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://admin.example.com/api/v1/snapshot", nil))
	fmt.Println(rec.Code)
	// A name that is not allowed is refused.
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://rebound.example.net/api/v1/snapshot", nil))
	fmt.Println(rec.Code)
	// Output:
	// true
	// 200
	// 421
}
