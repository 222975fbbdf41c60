package arena_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// An arena server with three bots playing on it. The handler prints a
// JOIN line when a player introduces itself and a LEAVE line when it
// goes (KILL lines too, which depend on how the bots play).
func ExampleRunBots() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	var out syncbuf.Buffer
	srv, err := server.New(server.Config{Handler: arena.NewHandler(&out, 1), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()

	ctx, cancel := context.WithCancel(context.Background())
	bots := make(chan error, 1)
	go func() { bots <- arena.RunBots(ctx, srv.Addr().String(), root.Public(), 3) }()

	// Let them play until all three joined (10 s at most).
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), "JOIN ") < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // the bots disconnect
	if err := <-bots; err != nil {
		log.Fatal(err)
	}
	srv.Stop()
	<-srv.Done()

	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "JOIN ") || strings.HasPrefix(line, "LEAVE ") {
			// A LEAVE line ends with the players left (active=2, 1, 0 in
			// the order the bots happen to leave): the first two words.
			fmt.Println(strings.Join(strings.Fields(line)[:2], " "))
		}
	}
	// Unordered output:
	// JOIN bot1
	// JOIN bot2
	// JOIN bot3
	// LEAVE bot1
	// LEAVE bot2
	// LEAVE bot3
}
