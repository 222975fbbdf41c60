package client_test

import (
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/client"
)

// A client that comes back by itself after its server restarted: it tells
// the game each step, and the game introduces itself again on the new
// session.
func ExampleReconnect() {
	cfg := client.Config{Reconnect: &client.Reconnect{
		First: 250 * time.Millisecond,
		Max:   4 * time.Second,
		OnEvent: func(e client.ReconnectEvent) {
			switch e.Step {
			case client.ReconnectLost, client.ReconnectFailed:
				fmt.Printf("reconnecting in %v: %v\n", e.Wait, e.Err)
			case client.ReconnectDone:
				fmt.Println("back in the game: send the hello again")
			}
		},
	}}
	_ = client.New(cfg)

	// The waits between attempts, without jitter.
	schedule := client.Reconnect{First: 250 * time.Millisecond, Max: 4 * time.Second, Jitter: -1}
	for n := 1; n <= 6; n++ {
		fmt.Println(schedule.Backoff(n, nil))
	}
	// Output:
	// 250ms
	// 500ms
	// 1s
	// 2s
	// 4s
	// 4s
}
