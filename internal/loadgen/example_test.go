package loadgen_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/loadgen"
	"github.com/mpgs/mpgameserver/server"
)

// Run measures an echo server: here our own, on the loopback, with three
// clients sending ten 64-byte messages a second for a second. The same
// call measures any server of the echo contract, the Python original's
// included; `mpgameserver loadgen` is this function with flags.
func ExampleRun() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server:     srv.Addr(),
		ServerKey:  root.Public(), // pin the server's key
		Clients:    3,
		Rate:       10,
		Size:       64,
		Duration:   time.Second,
		Guaranteed: true, // resend lost datagrams: every message must come back
		// Wait for every echo however busy the machine: count none lost
		// for being late, and drain until the last one is back.
		EchoWindow: time.Minute,
		Drain:      time.Minute,
		// A busy machine may answer a handshake late.
		HandshakeTimeout: 30 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("connected %d, failed %d\n", rep.Connected, rep.Failed)
	fmt.Printf("every message echoed: %v\n", rep.Sent > 0 && rep.Echoed == rep.Sent && rep.Lost == 0)
	fmt.Printf("round trips measured: %v\n", rep.RTT.Count == rep.Echoed && rep.RTT.P50 > 0)
	// rep.WriteText(os.Stdout) prints the full report; json.Marshal(rep)
	// gives it as JSON.

	// Output:
	// connected 3, failed 0
	// every message echoed: true
	// round trips measured: true
}
