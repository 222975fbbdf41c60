// Package endpoint is a game server's HTTP side, what operators and their
// tools expect beside the game: liveness and readiness probes, Prometheus
// metrics, a plain-text status page, the monitor's admin API (package
// admin) and Go's profiles, served on a listener hardened against one
// host holding every connection. An embedding game needs a few lines:
//
//	h, err := endpoint.Handler(srv, endpoint.Config{Admin: admin.HandlerConfig{Token: os.Getenv("MPGS_ADMIN_TOKEN")}})
//	ln, err := net.Listen("tcp", "127.0.0.1:8080")
//	hs := endpoint.NewServer(h, endpoint.AdminTimeouts(), logger)
//	go hs.Serve(endpoint.Listen(ln, endpoint.Limits{}))
//
// The routes:
//
//	/healthz       200 while the tick loop runs; 503 once no tick began for
//	               2 s (or 60 ticks): a liveness probe
//	/readyz        200 while the server serves; 503 while it starts or stops:
//	               a readiness probe
//	/metrics       the server's counters (package prom), Go's and the
//	               process's, in Prometheus' formats
//	/              the status page: the server's counters as plain text,
//	               a line each, its first word naming it (scripts read them)
//	/api/          the monitor's API (admin.NewHandler): counters to anyone,
//	               who plays and the actions to the token
//	/debug/pprof/  Go's profiles, with Config.Admin.Profiles
//
// Health, readiness, metrics and the status page are open, for probes and
// scrapers: they tell no one who plays. Serve them on a loopback or
// monitoring address, not on the internet.
//
// Listen and NewServer bound what clients can hold, and serve the game's
// own pages too (a browser game's, say): see Limits, PublicTimeouts and
// AdminTimeouts.
package endpoint

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/ops/prom"
	"github.com/mpgs/mpgameserver/server"
)

// Config says what Handler serves besides the probes.
type Config struct {
	// Admin configures the monitor's API at /api/, and Go's profiles at
	// /debug/pprof/ with Admin.Profiles: its tokens, the names it answers
	// to (see admin.HandlerConfig).
	Admin admin.HandlerConfig
	// Local is what the API publishes (nil: admin.NewLocal(srv, nil,
	// nil), without a log tail or a simulated network).
	Local *admin.Local
	// Registry is served at /metrics with the server's collector, Go's
	// and the process's registered in it (nil: a new registry). Register
	// your game's own metrics in it.
	Registry *prometheus.Registry
	// StatusLines adds lines to the status page, after the server's. A
	// line's first word must start no other line's.
	StatusLines func(w io.Writer)
	// Logger receives what a failed scrape says (discarded when nil).
	Logger *slog.Logger
}

// Handler returns srv's HTTP side (see the package doc). It fails only
// when cfg.Admin does (admin.HandlerConfig.Validate): a token too short,
// say.
func Handler(srv *server.Server, cfg Config) (http.Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Admin.Logger == nil {
		cfg.Admin.Logger = cfg.Logger
	}
	local := cfg.Local
	if local == nil {
		local = admin.NewLocal(srv, nil, nil)
	}
	api, err := admin.NewHandler(local, cfg.Admin)
	if err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	mux := http.NewServeMux()
	mux.Handle("/", Status(srv, cfg.StatusLines))
	mux.Handle("/metrics", Metrics(srv, reg, cfg.Logger))
	mux.Handle("/healthz", Health(srv))
	mux.Handle("/readyz", Ready(srv))
	mux.Handle("/api/", api)
	if cfg.Admin.Profiles {
		mux.Handle("/debug/pprof/", api)
	}
	return mux, nil
}

// Metrics registers srv's collector (package prom), Go's and the
// process's in reg and serves reg in Prometheus' exposition formats.
func Metrics(srv *server.Server, reg *prometheus.Registry, log *slog.Logger) http.Handler {
	reg.MustRegister(prom.NewCollector(srv, nil), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
}

// StalledAfter is how long without a tick makes Health fail for a server
// ticking every interval: far beyond a tick, short of what an
// orchestrator tolerates.
func StalledAfter(interval time.Duration) time.Duration { return max(2*time.Second, 60*interval) }

// Health answers 200 while the tick loop is alive (a tick began recently)
// and 503 when it stalled or the server is not running: what a liveness
// probe asks.
func Health(srv *server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		last := srv.LastTick()
		limit := StalledAfter(srv.Config().Interval)
		switch age := time.Since(last); {
		case last.IsZero():
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not running: no tick yet")
		case age > limit:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "stalled: no tick for %v (limit %v)\n", age.Round(time.Millisecond), limit)
		default:
			fmt.Fprintf(w, "ok: last tick %v ago\n", age.Round(time.Millisecond))
		}
	})
}

// Ready answers 200 while the server serves (listening, not stopping) and
// 503 otherwise: what a readiness probe asks.
func Ready(srv *server.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !srv.Serving() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready: starting or stopping")
			return
		}
		fmt.Fprintf(w, "ready: %s\n", srv.Addr())
	})
}

// Status serves srv's counters as plain text, a line each, with the lines
// extra writes after them (nil: none). ?memory adds the Go runtime's
// memory classes. Scripts read a line by its first word: lines are only
// ever added, and a new one never starts with another's first word.
func Status(srv *server.Server, extra func(w io.Writer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		var s server.Snapshot
		srv.Snapshot(&s)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ls := &s.LastSecond
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		fmt.Fprintf(w, "udp %s\nconnections %d\npending %d\nticks/s %d\n", s.Addr, s.Connections, s.Pending, ls.Ticks)
		fmt.Fprintf(w, "tick ms/s messages %.1f update %.1f network %.1f idle %.1f\n",
			ms(ls.Phase.Messages), ms(ls.Phase.Update), ms(ls.Phase.Network), ms(ls.Phase.Idle))
		fmt.Fprintf(w, "syscalls read %d write %d\n", s.Stats.ReadCalls, s.Stats.WriteCalls)
		fmt.Fprintf(w, "socket recv-buffer %d send-buffer %d kernel-drops %d\n", s.Stats.RecvBuffer, s.Stats.SendBuffer, s.Stats.KernelDrops)
		mem := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
		metrics.Read(mem)
		fmt.Fprintf(w, "memory heap-live %d go-total %d\n", mem[0].Value.Uint64(), mem[1].Value.Uint64())
		if r.URL.Query().Has("memory") {
			var all []metrics.Sample
			for _, d := range metrics.All() {
				if strings.HasPrefix(d.Name, "/memory/classes/") {
					all = append(all, metrics.Sample{Name: d.Name})
				}
			}
			metrics.Read(all)
			for _, m := range all {
				fmt.Fprintf(w, "  %s %d\n", m.Name, m.Value.Uint64())
			}
		}
		fmt.Fprintf(w, "packets assembled %d acked %d timeouts %d pending-acks %d\n", s.Assembled, s.Acked, s.Timeouts, s.PendingAcks)
		fmt.Fprintf(w, "datagrams in %d out %d\n", s.Stats.DatagramsIn, s.Stats.DatagramsOut)
		// Lines added later; the ones above stay as they are. A new line
		// never starts with the first word of an older one (scripts
		// match lines by their start).
		st := &s.Stats
		fmt.Fprintf(w, "drops blocked %d junk %d overflow %d bad-header %d unexpected %d throttled %d handshake-invalid %d handshake-rejected %d send-errors %d\n",
			st.Blocked, st.Junk, st.Overflow, st.BadHeader, st.Unexpected, st.Throttled, st.HandshakeInvalid, st.HandshakeRejected, st.SendErrors)
		d := &s.Drops
		fmt.Fprintf(w, "rejected header %d auth %d payload %d duplicate %d stale %d handshake %d no-session %d closed %d\n",
			d.Header, d.Auth, d.Payload, d.Duplicate, d.Stale, d.Handshake, d.NoSession, d.Closed)
		fmt.Fprintf(w, "messages duplicate %d far %d bad %d throttled %d\n", s.DuplicateMessages, s.FarMessages, s.BadMessages, st.ThrottledMessages)
		fmt.Fprintf(w, "handshakes queued %d cookies-sent %d evicted %d\n", s.HandshakesQueued, st.CookiesSent, st.HandshakesEvicted)
		fmt.Fprintf(w, "clients connects %d disconnects %d over-budget %d out-of-window %d handler-panics %d\n",
			st.Connects, st.Disconnects, st.OverBudget, st.OutOfWindow, st.HandlerPanics)
		fmt.Fprintf(w, "budget held %d limit %d\n", s.MemoryHeld, s.MemoryBudget)
		fmt.Fprintf(w, "overruns late-ticks %d stalls %d\n", st.LateTicks, st.Stalls)
		now := time.Now()
		fmt.Fprintf(w, "age-ms snapshot %d tick %d\n", ageMillis(now, s.Taken), ageMillis(now, srv.LastTick()))
		fmt.Fprintf(w, "sessions hosts %d busiest-host %d per-host %d host-limited %d\n",
			s.Hosts, s.BusiestHost, srv.Config().MaxSessionsPerHost, st.HostLimited)
		b := &s.Browsers
		fmt.Fprintf(w, "browsers setting-up %d open %d sessions %d refused full %d per-ip %d blocked %d offer %d closed setup %d handshake %d session %d blocked %d\n",
			b.SettingUp, b.Open, b.Sessions, b.RefusedFull, b.RefusedPerHost, b.RefusedBlocked, b.RefusedOffer,
			b.ClosedSetup, b.ClosedHandshake, b.ClosedSession, b.ClosedBlocked)
		fmt.Fprintf(w, "bytes in %d out %d\n", st.BytesIn, st.BytesOut)
		fmt.Fprintf(w, "world points %d kinds %d\n", len(s.World.Points), len(s.World.Kinds))
		fmt.Fprintf(w, "migrations moved %d refused %d resets-sent %d\n", st.Migrations, st.MigrationsRefused, st.ResetsSent)
		if extra != nil {
			extra(w)
		}
	})
}

// ConnLine writes a listener's connection counts as a status line whose
// first word is name + "-conns" (http-conns, web-conns).
func ConnLine(w io.Writer, name string, l *Listener) {
	st := l.Stats()
	fmt.Fprintf(w, "%s-conns open %d hosts %d refused-per-host %d refused-total %d\n", name, st.Open, st.Hosts, st.RefusedPerHost, st.RefusedTotal)
}

// ageMillis returns how long ago t was in milliseconds, -1 for never.
func ageMillis(now, t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return now.Sub(t).Milliseconds()
}
