package client_test

import (
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// Level answers every ordered message with an ordered line saying what
// arrived, in the order it arrived.
type Level struct{ server.BaseHandler }

func (Level) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	reply := fmt.Sprintf("%c: %d bytes", msg[0], len(msg))
	if err := p.SendOrdered([]byte(reply), nil); err != nil {
		p.Disconnect() // its queue is full: it stopped reading
	}
}

// Large and ordered messages over real sockets: a 2 MB level and small
// ordered steps arrive in the order they were sent, each once, and so do
// the server's ordered answers.
func Example_orderedRoundTrip() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: Level{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public()})
	if err := c.Connect(srv.Addr().String(), nil); err != nil {
		log.Fatal(err)
	}
	level := make([]byte, 2_000_000)
	level[0] = 'L'
	for _, m := range [][]byte{[]byte("a: step one"), level, []byte("b: step two")} {
		if err := c.SendOrdered(m, nil); err != nil {
			log.Fatal(err)
		}
	}
	for got := 0; got < 3; {
		c.Update()
		for _, m := range c.Messages() {
			fmt.Println(string(m.Data))
			got++
		}
		time.Sleep(time.Second / 60) // the rest of the frame
	}
	c.WaitForDisconnect()
	// Output:
	// a: 11 bytes
	// L: 2000000 bytes
	// b: 11 bytes
}
