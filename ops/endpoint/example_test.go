package endpoint_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/ops/endpoint"
	"github.com/mpgs/mpgameserver/server"
)

// Example serves a game server's HTTP side (probes, metrics, status
// page, the monitor's API behind MPGS_ADMIN_TOKEN) on the loopback.
func Example() {
	srv, err := server.New(server.Config{Handler: server.BaseHandler{}, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	h, err := endpoint.Handler(srv, endpoint.Config{Admin: admin.HandlerConfig{Token: os.Getenv("MPGS_ADMIN_TOKEN")}})
	if err != nil {
		fmt.Println(err) // a token too short, say
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := endpoint.NewServer(h, endpoint.AdminTimeouts(), nil)
	go hs.Serve(endpoint.Listen(ln, endpoint.Limits{}))
	defer hs.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body)) // not serving yet: srv.Serve runs nowhere here
	// Output: 503 not ready: starting or stopping
}
