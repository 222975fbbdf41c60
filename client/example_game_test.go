package client_test

import (
	"log"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// game is an Ebitengine game (ebiten.Game's Update) that plays online.
type game struct {
	c     *client.Client
	input []byte // what the player did this frame
}

func (g *game) Update() error {
	// Once per frame: sends, receives, runs timers; never blocks.
	g.c.Update()
	// Everything that arrived since the last frame.
	for _, m := range g.c.Messages() {
		_ = m.Data // decode it, update what you draw
	}
	if g.c.Connected() {
		// Queued; the next Update sends it. An error means this input is
		// not sent (too large, or the connection just closed).
		if err := g.c.Send(g.input, conn.RetryNone, nil); err != nil {
			log.Println("send:", err)
		}
	}
	return nil
}

// The client inside a game (README's whole program is
// examples/minimal/client).
func Example_game() {
	serverKey, err := conn.LoadPublicKey("keys/root.pub") // pin the server's public key
	if err != nil {
		log.Fatal(err)
	}
	c := client.New(client.Config{ServerKey: serverKey})
	// Connect returns at once; ok arrives in a later Update.
	err = c.Connect("127.0.0.1:1474", func(ok bool) { log.Println("connected:", ok, c.Err()) })
	if err != nil {
		log.Fatal(err) // the address does not resolve, or no socket
	}
	defer c.WaitForDisconnect() // a graceful goodbye when the game ends
	g := &game{c: c}
	_ = g // ebiten.RunGame(g)
}
