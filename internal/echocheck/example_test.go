package echocheck_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/echocheck"
	"github.com/mpgs/mpgameserver/server"
)

// Run checks a running echo server, here one on the loopback with the
// echo game, pinning its key. Out gets one PASS or FAIL line per
// scenario (with timings); the counts tell the result.
func ExampleRun() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: echogame.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() {
		srv.Stop()
		<-srv.Done()
	}()

	passed, failed := echocheck.Run(echocheck.Options{
		Server: srv.Addr().String(),
		Key:    root.Public(),
		Out:    io.Discard, // or os.Stdout for the report
		Frame:  5 * time.Millisecond,
	})
	fmt.Println(passed, "passed,", failed, "failed")
	// Output:
	// 9 passed, 0 failed
}

// Scenarios lists what Run checks, in order.
func ExampleScenarios() {
	for _, name := range echocheck.Scenarios() {
		fmt.Println(name)
	}
	// Output:
	// connect
	// echo_small
	// pack_many
	// fragment_10k
	// fragment_100k
	// guaranteed_callbacks
	// stats
	// wrong_key
	// disconnect
}
