package client_test

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// A client in a game loop: Connect once, then Update every frame, read
// what arrived and send what the player did.
func Example() {
	// An echo server to talk to.
	root, _ := conn.GenerateKey(nil)
	srv, _ := server.New(server.Config{Handler: echo{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public()})
	c.Connect(srv.Addr().String(), func(ok bool) { fmt.Println("connected:", ok) })
	sent, got := 0, 0
	for frame := 0; got < 3 && frame < 1000; frame++ {
		c.Update()
		for _, m := range c.Messages() {
			fmt.Printf("echo: %s\n", m.Data)
			got++
		}
		if c.Connected() && sent < 3 {
			c.Send([]byte(fmt.Sprintf("Gmove %d", sent)), conn.RetryOnTimeout, nil)
			sent++
		}
		time.Sleep(5 * time.Millisecond) // the rest of the frame
	}
	c.WaitForDisconnect()
	// Unordered output:
	// connected: true
	// echo: Gmove 0
	// echo: Gmove 1
	// echo: Gmove 2
}
