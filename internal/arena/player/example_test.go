package player_test

import (
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/server"
)

// A Player lives in a game's frame loop: Frame once a frame with the
// buttons held, View for what to draw. Here it joins an arena server on
// the loopback and thrusts until the server's snapshots show its ship
// under its name.
func Example() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Handler: arena.NewHandler(nil, 1), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() {
		srv.Stop()
		<-srv.Done()
	}()

	p := player.New(player.Options{Name: "ann", Color: 2, Key: root.Public()})
	if err := p.Connect(srv.Addr().String()); err != nil {
		log.Fatal(err)
	}
	defer p.Client().WaitForDisconnect()

	frame := time.NewTicker(time.Second / sim.TickRate)
	defer frame.Stop()
	var me player.Ship
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		now := <-frame.C
		p.Frame(now, sim.Thrust)
		if v := p.View(now); len(v.Ships) > 0 && v.Ships[0].Name == "ann" {
			me = v.Ships[0]
			break
		}
	}
	fmt.Println("welcomed:", p.Welcomed(), "id matches:", me.ID == p.ID())
	fmt.Println("local:", me.Local, "alive:", me.Alive, "name:", me.Name, "color:", me.Color)
	// Output:
	// welcomed: true id matches: true
	// local: true alive: true name: ann color: 2
}
