package admin_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"

	"github.com/mpgs/mpgameserver/engine/admin"
	"github.com/mpgs/mpgameserver/engine/server"
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
	web := httptest.NewServer(admin.Handler(local, "s3cret")) // http.ListenAndServe in a program
	defer web.Close()

	remote := admin.Attach(web.URL, "s3cret", nil)
	if err := remote.Poll(context.Background()); err != nil {
		log.Fatal(err)
	}
	var s server.Snapshot
	remote.Snapshot(&s)
	fmt.Println("same server:", s.Addr == srv.Addr())
	fmt.Println("actions:", remote.Actions())
	fmt.Println("simulated network:", remote.Network().Available)
	fmt.Println(remote.Disconnect(context.Background(), 42))
	// Output:
	// same server: true
	// actions: true
	// simulated network: false
	// admin: no connected client has that token
}
