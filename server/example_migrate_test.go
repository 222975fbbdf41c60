package server_test

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/mpgs/mpgameserver/server"
)

// Roaming is a game that wants to know when a player's phone changed
// networks: its session moved to a new address, with its token, its
// queues and the game's state for it.
type Roaming struct {
	server.BaseHandler
	log *slog.Logger
}

// Migrated makes Roaming a server.Migrator.
func (r Roaming) Migrated(p *server.Peer, from netip.AddrPort) {
	r.log.Info("player moved", "token", p.Token(), "from", from, "to", p.Addr())
}

// A game told of its players' moves: nothing else to do, the server moves
// the session once the new address answered its challenge.
func ExampleMigrator() {
	var h server.EventHandler = Roaming{log: slog.New(slog.DiscardHandler)}
	_, told := h.(server.Migrator)
	fmt.Println("told of moves:", told)
	// Output: told of moves: true
}
