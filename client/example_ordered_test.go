package client_test

import (
	"log"
	"os"
	"time"

	"github.com/mpgs/mpgameserver/client"
)

// Loading a level and following a script: the level (a few megabytes) and
// the steps are sent in order and arrive in order, each once; the game's
// inputs, sent with Send meanwhile, never wait behind them.
func Example_sendOrdered() {
	c := client.New(client.Config{})
	if err := c.Connect("127.0.0.1:1474", nil); err != nil {
		log.Fatal(err)
	}
	level, err := os.ReadFile("level.bin")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range [][]byte{[]byte("load"), level, []byte("start")} {
		if err := c.SendOrdered(m, nil); err != nil {
			log.Fatal(err) // not connecting, or more queued than the limits allow
		}
	}
	for frame := 0; frame < 600; frame++ { // the game's frames
		c.Update()
		for _, m := range c.Messages() {
			log.Printf("the server says %q", m.Data) // in the order it sent them, if it used SendOrdered
		}
		time.Sleep(time.Second / 60)
	}
	c.WaitForDisconnect()
}
