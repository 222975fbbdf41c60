package endpoint_test

import (
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/mpgs/mpgameserver/ops/endpoint"
)

// Example_listen serves a page (a game's own, say) through a guarded
// listener and server.
func Example_listen() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	l := endpoint.Listen(ln, endpoint.Limits{}) // DefaultPerHost, DefaultTotal
	srv := endpoint.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}), endpoint.PublicTimeouts(), nil)
	go srv.Serve(l)
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + l.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, string(body))
	fmt.Println("open connections:", l.Stats().Open)
	// Output:
	// 200 OK hello
	// open connections: 1
}
