// Package agones runs an server Server as an Agones game server
// (https://agones.dev): a small client of the Agones SDK sidecar's REST
// API, and Run, which keeps the GameServer's state right for a Server.
//
// Agones runs an SDK sidecar beside the game server's container and
// tells it the sidecar's HTTP port in the AGONES_SDK_HTTP_PORT
// environment variable (9358 by default). FromEnv reads it; New makes an
// SDK of it, whose methods are the SDK's calls: Ready, Health, Shutdown,
// Allocate, Reserve, SetLabel, SetAnnotation, GameServer,
// WatchGameServer, the beta Counters (SetCounter, Counter, ...) and the
// alpha player tracking (PlayerConnect, PlayerDisconnect). The sidecar
// may start after the game server: a call retries with backoff, for a
// bounded time, while the sidecar cannot be reached; an answer other
// than 2xx is a *StatusError naming the call and the status.
//
// Run binds a Server to Agones, from its start to its end:
//
//   - it sends Ready at once (the server's UDP socket is bound once
//     server.New returned), retried until the sidecar takes it;
//   - every Options.HealthPeriod (2 s) it posts a function to the
//     server's event goroutine (Server.Post) and sends Health only when
//     that function ran: a tick loop that is stuck (a handler blocked)
//     stops the heartbeat, and Agones marks the GameServer Unhealthy;
//   - it keeps the Counter Options.Counter ("players") equal to the
//     number of connected clients (Server.Snapshot), set only when it
//     changed;
//   - given Options.OnAllocated or Options.OnChange, it watches the
//     GameServer and calls OnAllocated when its state becomes Allocated
//     (the allocation's labels included), OnChange for every change;
//   - when the server stops (Server.Stop at the end of a match, or the
//     context of Serve done on SIGTERM), it sends Shutdown and returns.
//
// Failures are logged through Config.Logger at a limited rate (a line
// per kind of failure every few seconds at most), never per tick.
//
// Usage, in a game server's main:
//
//	srv, err := server.New(server.Config{Handler: game, RootKey: key}, ":7777")
//	...
//	cfg, underAgones := agones.FromEnv(os.Getenv)
//	cfg.Logger = logger
//	sdk, err := agones.New(cfg)
//	...
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//	defer stop()
//	done := make(chan error, 1)
//	if underAgones {
//		go func() {
//			done <- agones.Run(context.WithoutCancel(ctx), srv, sdk, agones.Options{
//				OnAllocated: func(gs *agones.GameServer) {
//					srv.Post(func() { game.StartMatch(gs.Labels["map"]) })
//				},
//			})
//		}()
//	} else {
//		close(done)
//	}
//	err = srv.Serve(ctx) // the game calls srv.Stop() when the match ends
//	<-done               // Shutdown sent
package agones
