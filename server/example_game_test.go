package server_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// Game relays every message to every player.
type Game struct {
	server.BaseHandler                         // no-op defaults for the events you skip
	players            map[uint32]*server.Peer // touched only on the event goroutine
	refused            int                     // relays a player's full queue turned away
}

func (g *Game) Connect(p *server.Peer)    { g.players[p.Token()] = p }
func (g *Game) Disconnect(p *server.Peer) { delete(g.players, p.Token()) }
func (g *Game) HandleMessage(p *server.Peer, seq conn.Seq, msg []byte) {
	for _, other := range g.players { // relay to everyone
		if err := other.Send(msg, conn.RetryNone, nil); err != nil {
			g.refused++ // that player is far behind: skip them this time
		}
	}
}
func (g *Game) Update(delta time.Duration) { /* advance the world one tick */ }

// A game server (README's whole program is examples/minimal/server). It
// serves until SIGINT or SIGTERM, then stops gracefully.
func Example_gameServer() {
	root, err := conn.LoadPrivateKey("keys/root.key") // mpgameserver keygen keys/
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Handler: &Game{players: map[uint32]*server.Peer{}},
		RootKey: root,
	}, ":1474")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx); err != nil {
		log.Fatal(err)
	}
}
