package replicate_test

import (
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/replicate"
)

// Fields of the example's one kind, by index.
const (
	rockX = iota
	rockY
	rockVX
	rockVY
)

// A game declares its kinds once; the server and the client make the
// same schema.
func rocks() *replicate.Schema {
	s, err := replicate.NewSchema(replicate.Kind{
		Name: "rock",
		Fields: []replicate.Field{
			replicate.Float("x", 0, 6400, 1.0/16), replicate.Float("y", 0, 4000, 1.0/16),
			replicate.Float("vx", -100, 100, 1.0/64), replicate.Float("vy", -100, 100, 1.0/64),
		},
		Position: [2]string{"x", "y"},
		Velocity: [2]string{"vx", "vy"},
	})
	if err != nil {
		panic(err)
	}
	return s
}

// loopback hands snapshots straight to a receiver and acknowledges them,
// as a connection would (a *server.Peer in a game).
type loopback struct {
	rx  *replicate.Receiver
	now time.Time
}

func (l *loopback) Send(p []byte, _ conn.RetryMode, ack func(bool)) error {
	l.rx.Handle(l.now, p)
	ack(true)
	return nil
}

// The server spawns entities and sets their fields every tick; each
// client's Viewer says where it looks. Update sends what each client
// should see; a Receiver shows it.
func Example() {
	schema := rocks()
	srv := replicate.New(schema, replicate.Config{})
	defer srv.Close()

	rock, _ := srv.Spawn(0)
	srv.Set(rock, rockX, 100)
	srv.Set(rock, rockY, 200)
	srv.Set(rock, rockVX, 30)

	link := &loopback{rx: replicate.NewReceiver(schema, replicate.ReceiverConfig{
		OnEnter: func(e replicate.Entity) { fmt.Println("rock", e.ID(), "entered") },
	})}
	view := srv.Add(link) // in a game: srv.Add(peer), in the handler's Connect
	view.SetView(100, 200, 640, 400)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for tick := range 60 {
		link.now = now
		srv.Set(rock, rockX, 100+30*float64(tick)/60) // the game moves it
		srv.Update(now)                               // in the handler's Update
		link.rx.Advance(now)                          // in the client's frame
		now = now.Add(time.Second / 60)
	}
	e, _ := link.rx.Entity(rock)
	fmt.Printf("shown at x=%.0f, y=%.0f, %v behind\n", e.Float(rockX), e.Float(rockY), link.rx.Stats().Delay.Round(10*time.Millisecond))
	fmt.Println(view.Stats().InView, "in view,", view.Stats().Snapshots, "snapshots")
	// Output:
	// rock 0 entered
	// shown at x=127, y=200, 70ms behind
	// 1 in view, 5 snapshots
}
