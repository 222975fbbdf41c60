package server_test

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/internal/crypto"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
	"github.com/mpgs/mpgameserver/engine/server"
)

// Shout is a game: it answers every message in capitals.
type Shout struct {
	server.BaseHandler
	connected chan uint32
}

func (s Shout) Connect(c *server.Client) { s.connected <- c.Token() }

func (Shout) HandleMessage(c *server.Client, _ protocol.Seq, msg []byte) {
	out := make([]byte, len(msg))
	for i, b := range msg {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	c.SendGuaranteed(out, nil)
}

// A server with a custom EventHandler, and a client talking to it.
func Example() {
	root, _ := crypto.GenerateKey(nil) // in production: crypto.LoadPrivateKey("root.key")
	game := Shout{connected: make(chan uint32, 1)}
	ctx, _ := server.NewContext(game, root)
	ctx.SetLogger(slog.New(slog.DiscardHandler))
	srv, _ := server.New(ctx, "127.0.0.1:0")
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(root.Public()) // clients pin the server's public key
	c.Connect(srv.Addr().String(), nil)
	c.SendGuaranteed([]byte("hello, server"), nil)
	for !c.HasMessages() {
		c.Update() // once per frame in a game
		time.Sleep(5 * time.Millisecond)
	}
	m, _ := c.GetMessage()
	fmt.Printf("%s\n", m.Data)
	fmt.Println("server saw the same token:", <-game.connected == c.Token())
	c.WaitForDisconnect()
	fmt.Println(c.Status(), c.Err() == nil || c.Err() == conn.ErrLocalClose)
	// Output:
	// HELLO, SERVER
	// server saw the same token: true
	// DISCONNECTED true
}
