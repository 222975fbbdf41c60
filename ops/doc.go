// Package ops groups what running a game server in production takes
// besides the game: none of it is needed to play, all of it is what
// operators and their tools expect. Import what your deployment uses:
//
//   - ops/endpoint: the server's HTTP side in a few lines: liveness and
//     readiness probes, Prometheus metrics, the status page, the
//     monitor's admin API and Go's profiles, on a listener hardened
//     against one host holding every connection;
//   - ops/admin: the monitor's view of a server (what gui shows), in this
//     process or over HTTP, with the actions behind a token;
//   - ops/prom: the server's counters as Prometheus metrics;
//   - ops/agones: an Agones game server's lifecycle (Ready, Health, the
//     players counter, Shutdown) through the SDK sidecar's REST API.
package ops
