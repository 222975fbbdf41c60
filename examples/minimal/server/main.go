// Command server is a whole game server in one file: every dot a player
// drops (examples/minimal/client) is sent to every player.
//
//	go run ./examples/minimal/server --key keys/root.key
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// room is the game: every message a player sends (a dot) goes to every
// player, reliably. The server calls it on one goroutine, in order.
type room struct {
	server.BaseHandler
	players map[uint32]*server.Peer
}

func (r *room) Connect(p *server.Peer) {
	r.players[p.Token()] = p
	log.Printf("player %d joined (%d playing)", p.Token(), len(r.players))
}

func (r *room) Disconnect(p *server.Peer) {
	delete(r.players, p.Token())
	log.Printf("player %d left (%d playing)", p.Token(), len(r.players))
}

func (r *room) HandleMessage(p *server.Peer, _ conn.Seq, dot []byte) {
	for _, q := range r.players {
		if err := q.SendGuaranteed(dot, nil); err != nil {
			q.Log().Warn("dot not sent", "err", err)
		}
	}
}

func main() {
	listen := flag.String("listen", ":1474", "UDP address to listen on")
	keyFile := flag.String("key", "", "the root key (mpgameserver keygen DIR writes one); empty: a new key, printed")
	flag.Parse()

	cfg := server.Config{Handler: &room{players: map[uint32]*server.Peer{}}}
	if *keyFile != "" {
		key, err := conn.LoadPrivateKey(*keyFile)
		if err != nil {
			log.Fatal(err)
		}
		cfg.RootKey = key
	}
	srv, err := server.New(cfg, *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *keyFile == "" {
		log.Printf("players pin this key:\n%s", srv.RootKey().Public().MarshalPEM())
	}
	log.Printf("listening on %s", srv.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Serve(ctx); err != nil { // until Ctrl-C; then every player is told
		log.Fatal(err)
	}
}
