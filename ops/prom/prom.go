// Package prom exports a game server's counters to Prometheus.
//
// NewCollector returns a prometheus.Collector for an server
// Server. Register it in a registry of your own, beside your game's
// metrics, and serve that registry with promhttp:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(prom.NewCollector(srv), collectors.NewGoCollector())
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every name starts with mpgameserver_ and carries its unit (_seconds,
// _bytes, _total for counters). A scrape reads the snapshot the server
// publishes once a second (server.Server.Snapshot), so it never waits for
// or slows the tick; values are up to a second old. The names and their
// meanings are listed in Metrics and in README.md ("Scrape it with
// Prometheus").
package prom

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpgs/mpgameserver/server"
)

// Namespace is the prefix of every metric's name.
const Namespace = "mpgameserver"

// Metric describes one exported metric.
type Metric struct {
	Name   string // without Namespace
	Type   string // counter, gauge or histogram
	Help   string
	Labels []string
}

// Metrics lists what the collector exports.
func Metrics() []Metric {
	return []Metric{
		{"connections", "gauge", "Clients connected.", nil},
		{"handshakes_in_progress", "gauge", "Handshakes started and not finished.", nil},
		{"handshakes_queued", "gauge", "Client hellos waiting for the handshake budget of a tick.", nil},
		{"connects_total", "counter", "Clients that completed the handshake.", nil},
		{"disconnects_total", "counter", "Clients that left, by reason: timeout (went silent), client (said goodbye), server (closed by the game or a stop), over_budget and out_of_window (closed for abuse), other.", []string{"reason"}},
		{"ticks_total", "counter", "Ticks run.", nil},
		{"late_ticks_total", "counter", "Ticks that took longer than the tick interval.", nil},
		{"stalls_total", "counter", "Ticks so late that the watchdog logged the event goroutine's stack.", nil},
		{"tick_duration_seconds", "histogram", "Time the event goroutine was busy in a tick (every phase but idle).", nil},
		{"tick_phase_seconds_total", "counter", "Time of the event goroutine in each phase of the ticks: messages (handling what arrived), update (the game's Update), network (sending), idle (waiting for the next tick).", []string{"phase"}},
		{"datagrams_received_total", "counter", "Datagrams read from the socket.", nil},
		{"datagrams_sent_total", "counter", "Datagrams written to the socket.", nil},
		{"received_bytes_total", "counter", "Bytes of the datagrams read.", nil},
		{"sent_bytes_total", "counter", "Bytes of the datagrams written.", nil},
		{"datagrams_dropped_total", "counter", "Datagrams dropped, by reason: kernel (the socket's receive buffer overflowed), blocked, junk, overflow, bad_header, unexpected, throttled, handshake_invalid, handshake_rejected before a connection; header, auth, payload, duplicate, stale, handshake, no_session, closed by a connection.", []string{"reason"}},
		{"send_errors_total", "counter", "Datagrams the socket refused to send.", nil},
		{"messages_dropped_total", "counter", "Messages dropped inside accepted datagrams, by reason: duplicate, far (number beyond the window), bad (malformed), throttled (the client was over its share of a tick).", []string{"reason"}},
		{"packets_assembled_total", "counter", "Packets built and sent, over all connections past and present.", nil},
		{"packets_acked_total", "counter", "Sent packets the client acknowledged.", nil},
		{"packets_timed_out_total", "counter", "Sent packets never acknowledged in time.", nil},
		{"packets_awaiting_ack", "gauge", "Sent packets waiting for their ack.", nil},
		{"messages_resent_total", "counter", "Messages sent again by a retry mode.", nil},
		{"client_latency_seconds", "histogram", "Round-trip latency of every connected client, counted once a second.", nil},
		{"handler_panics_total", "counter", "Event handler calls that panicked (recovered).", nil},
		{"handshake_cookies_sent_total", "counter", "Cookie replies sent to prove a client's address under load.", nil},
		{"handshakes_evicted_total", "counter", "Handshakes of unproven clients dropped to make room.", nil},
		{"migrations_total", "counter", "Sessions moved to a new client address after it answered a challenge.", nil},
		{"migrations_refused_total", "counter", "Datagrams from unknown addresses naming a session, refused.", nil},
		{"memory_held_bytes", "gauge", "Memory the clients make the server hold.", nil},
		{"memory_budget_bytes", "gauge", "The limit of memory_held_bytes.", nil},
		{"syscalls_total", "counter", "System calls that read or wrote datagrams.", []string{"op"}},
		{"socket_buffer_bytes", "gauge", "The socket's buffer sizes as the system reports them.", []string{"direction"}},
		{"last_tick_timestamp_seconds", "gauge", "When the latest tick started (Unix time); far behind now means the tick loop is stuck.", nil},
		{"hosts", "gauge", "Hosts (IPv4 addresses, IPv6 /64s) holding sessions or handshakes.", nil},
		{"busiest_host_sessions", "gauge", "The most sessions and handshakes one host holds (its limit is the server's sessions per host).", nil},
		{"host_limited_total", "counter", "Hellos and completed handshakes refused because their host held its share of sessions.", nil},
		{"browser_peers", "gauge", "Browser peers (WebRTC) holding a place, by state: setting_up (answered, channel not open), open (channel open, no session yet), session (with a completed handshake).", []string{"state"}},
		{"browser_peers_refused_total", "counter", "Browser signaling refused, by reason: full, per_host, blocked, offer (malformed or not allowed).", []string{"reason"}},
		{"browser_peers_closed_total", "counter", "Browser peers closed by the server, by reason: setup (channel not open in time), handshake (no handshake in time), session (its session ended), blocked.", []string{"reason"}},
	}
}

// Collector exports a server's counters; see NewCollector.
type Collector struct {
	srv   *server.Server
	descs map[string]*prometheus.Desc

	mu   sync.Mutex // guards snap, reused between scrapes
	snap server.Snapshot
}

// NewCollector returns a collector of srv's counters, with the constant
// labels given (nil for none; a process hosting several servers tells
// them apart with one, such as {"server": "eu-1"}).
func NewCollector(srv *server.Server, constLabels prometheus.Labels) *Collector {
	c := &Collector{srv: srv, descs: map[string]*prometheus.Desc{}}
	for _, m := range Metrics() {
		c.descs[m.Name] = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", m.Name), m.Help, m.Labels, constLabels)
	}
	return c
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect sends the values of the latest published snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.srv.Snapshot(&c.snap)
	s := &c.snap
	st := &s.Stats
	gauge := func(name string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v, labels...)
	}
	counter := func(name string, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v), labels...)
	}
	seconds := func(d time.Duration) float64 { return d.Seconds() }

	gauge("connections", float64(s.Connections))
	gauge("handshakes_in_progress", float64(s.Pending))
	gauge("handshakes_queued", float64(s.HandshakesQueued))
	counter("connects_total", st.Connects)
	for _, r := range []struct {
		reason string
		n      uint64
	}{{"timeout", st.TimedOut}, {"client", st.ClientClosed}, {"server", st.ServerClosed},
		{"over_budget", st.OverBudget}, {"out_of_window", st.OutOfWindow}, {"other", st.OtherDisconnects}} {
		counter("disconnects_total", r.n, r.reason)
	}
	counter("ticks_total", st.Ticks)
	counter("late_ticks_total", st.LateTicks)
	counter("stalls_total", st.Stalls)
	ch <- histogram(c.descs["tick_duration_seconds"], &st.TickTimes, server.TickBuckets())
	for _, p := range []struct {
		phase string
		d     time.Duration
	}{{"messages", st.Phase.Messages}, {"update", st.Phase.Update}, {"network", st.Phase.Network}, {"idle", st.Phase.Idle}} {
		ch <- prometheus.MustNewConstMetric(c.descs["tick_phase_seconds_total"], prometheus.CounterValue, seconds(p.d), p.phase)
	}
	counter("datagrams_received_total", st.DatagramsIn)
	counter("datagrams_sent_total", st.DatagramsOut)
	counter("received_bytes_total", st.BytesIn)
	counter("sent_bytes_total", st.BytesOut)
	d := &s.Drops
	for _, r := range []struct {
		reason string
		n      uint64
	}{{"kernel", st.KernelDrops}, {"blocked", st.Blocked}, {"junk", st.Junk}, {"overflow", st.Overflow},
		{"bad_header", st.BadHeader}, {"unexpected", st.Unexpected}, {"throttled", st.Throttled},
		{"handshake_invalid", st.HandshakeInvalid}, {"handshake_rejected", st.HandshakeRejected},
		{"header", d.Header}, {"auth", d.Auth}, {"payload", d.Payload}, {"duplicate", d.Duplicate},
		{"stale", d.Stale}, {"handshake", d.Handshake}, {"no_session", d.NoSession}, {"closed", d.Closed}} {
		counter("datagrams_dropped_total", r.n, r.reason)
	}
	counter("send_errors_total", st.SendErrors)
	counter("messages_dropped_total", s.DuplicateMessages, "duplicate")
	counter("messages_dropped_total", s.FarMessages, "far")
	counter("messages_dropped_total", s.BadMessages, "bad")
	counter("messages_dropped_total", st.ThrottledMessages, "throttled")
	counter("packets_assembled_total", s.Assembled)
	counter("packets_acked_total", s.Acked)
	counter("packets_timed_out_total", s.Timeouts)
	gauge("packets_awaiting_ack", float64(s.PendingAcks))
	counter("messages_resent_total", s.Resent)
	ch <- histogram(c.descs["client_latency_seconds"], &s.Latencies, server.LatencyBuckets())
	counter("handler_panics_total", st.HandlerPanics)
	counter("handshake_cookies_sent_total", st.CookiesSent)
	counter("handshakes_evicted_total", st.HandshakesEvicted)
	counter("migrations_total", st.Migrations)
	counter("migrations_refused_total", st.MigrationsRefused)
	gauge("memory_held_bytes", float64(s.MemoryHeld))
	gauge("memory_budget_bytes", float64(s.MemoryBudget))
	counter("syscalls_total", st.ReadCalls, "read")
	counter("syscalls_total", st.WriteCalls, "write")
	gauge("socket_buffer_bytes", float64(st.RecvBuffer), "receive")
	gauge("socket_buffer_bytes", float64(st.SendBuffer), "send")
	gauge("hosts", float64(s.Hosts))
	gauge("busiest_host_sessions", float64(s.BusiestHost))
	counter("host_limited_total", st.HostLimited)
	b := &s.Browsers
	gauge("browser_peers", float64(b.SettingUp), "setting_up")
	gauge("browser_peers", float64(b.Open-b.Sessions), "open")
	gauge("browser_peers", float64(b.Sessions), "session")
	counter("browser_peers_refused_total", b.RefusedFull, "full")
	counter("browser_peers_refused_total", b.RefusedPerHost, "per_host")
	counter("browser_peers_refused_total", b.RefusedBlocked, "blocked")
	counter("browser_peers_refused_total", b.RefusedOffer, "offer")
	counter("browser_peers_closed_total", b.ClosedSetup, "setup")
	counter("browser_peers_closed_total", b.ClosedHandshake, "handshake")
	counter("browser_peers_closed_total", b.ClosedSession, "session")
	counter("browser_peers_closed_total", b.ClosedBlocked, "blocked")
	last := 0.0
	if t := c.srv.LastTick(); !t.IsZero() {
		last = float64(t.UnixNano()) / 1e9
	}
	gauge("last_tick_timestamp_seconds", last)
}

// histogram turns h into a Prometheus histogram: cumulative counts by
// upper bound in seconds.
func histogram(desc *prometheus.Desc, h *server.Histogram, bounds []time.Duration) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, b := range bounds {
		cum += h.Counts[i]
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(desc, h.Count(), h.Sum.Seconds(), buckets)
}
