// Package admin lets a monitor see and act on a running server, in the
// same process or over HTTP.
//
// A Document is what a monitor shows: the server's snapshot (counters,
// per-second figures and a row per client), the tail of its warnings and
// errors, and the network conditions applied to it. Local serves one for
// a server in this process; Handler publishes a Local over HTTP as
// versioned JSON (GET /api/v1/snapshot), with the actions a monitor may
// take (disconnect a client, block an address, change the simulated
// network) behind a bearer token; Remote attaches to such a server and
// offers the same methods as Local, so a monitor has one code path.
//
//	tail := admin.NewLogTail(slog.NewTextHandler(os.Stderr, nil), 50, slog.LevelWarn)
//	srv, _ := server.New(server.Config{Handler: game, Logger: slog.New(tail)}, ":1474")
//	local := admin.NewLocal(srv, tail, nil)
//	http.Handle("/api/", admin.Handler(local, os.Getenv("MPGS_ADMIN_TOKEN")))
//
// and elsewhere:
//
//	remote := admin.Attach("http://127.0.0.1:8080", token, nil)
//	go remote.Run(ctx) // polls once a second
//	var s server.Snapshot
//	remote.Snapshot(&s)
//
// Reading is open to anyone who reaches the HTTP address (bind it to
// loopback, or behind your network's controls); every action needs the
// token, and a server started without one refuses them all.
package admin
