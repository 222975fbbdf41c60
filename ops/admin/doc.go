// Package admin lets a monitor see and act on a running server, in the
// same process or over HTTP.
//
// A Document is what a monitor shows: the server's snapshot (counters,
// per-second figures and a row per client), the tail of its warnings and
// errors, and the network conditions applied to it. Local serves one for
// a server in this process; NewHandler publishes a Local over HTTP as
// versioned JSON (GET /api/v1/snapshot), with the actions a monitor may
// take (disconnect a client, block an address, change the simulated
// network) behind a bearer token; Remote attaches to such a server and
// offers the same methods as Local, so a monitor has one code path.
//
//	tail := admin.NewLogTail(slog.NewTextHandler(os.Stderr, nil), 50, slog.LevelWarn)
//	srv, _ := server.New(server.Config{Handler: game, Logger: slog.New(tail)}, ":1474")
//	local := admin.NewLocal(srv, tail, nil)
//	h, err := admin.NewHandler(local, admin.HandlerConfig{Token: os.Getenv("MPGS_ADMIN_TOKEN")})
//	if err != nil { ... } // a token too short
//	http.Handle("/api/", h)
//
// and elsewhere:
//
//	if err := admin.CheckAttach("https://admin.example.com", token); err != nil { ... }
//	remote := admin.Attach("https://admin.example.com", token, nil)
//	go remote.Run(ctx, 0) // polls once a second
//	var s server.Snapshot
//	remote.Snapshot(&s)
//
// # Who reads and acts
//
// Anyone who reaches the HTTP address reads the redacted Document: the
// server's counters, per-second figures and the conditions applied to
// all clients, but no client's address or token and no log line (they
// name clients and carry panic stacks). The full Document needs a token:
// the admin token (HandlerConfig.Token), or the read token
// (HandlerConfig.ReadToken), which reads but takes no action. Every
// action needs the admin token, and a server without one refuses them
// all. Tokens are at least MinTokenLen bytes: make one with
// `openssl rand -hex 16`.
//
// Every request must be addressed (its Host header) to localhost, a name
// under .localhost, an IP address, or a name in HandlerConfig.Hosts:
// others are answered 421, so that a web page cannot reach a server bound
// to loopback by DNS rebinding.
//
// A wrong token counts against the address it came from (for IPv6, its
// /64): after 5 in a minute, every request with a token from there, the
// right one included, is answered 429 until the minute is over, so that
// guessing cannot go on. Requests without a token are never counted.
//
// With HandlerConfig.Profiles the handler also serves Go's profiles under
// /debug/pprof/ (mount the handler there too), to a request with the
// admin token or from loopback, for at most MaxProfileSeconds.
//
// A Remote never sends its token over plain http:// to a host that is
// not loopback (ErrPlainToken): attach over https://, or through an SSH
// tunnel to a loopback address.
package admin
