package server

import (
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
)

// Stats are the server's counters since it started.
type Stats struct {
	// Ticks counts ticks run; Phase sums the time the event goroutine
	// spent in each phase of them (Messages, Update, Network, Idle).
	Ticks uint64
	Phase Phases
	// Datagrams and bytes through the socket.
	DatagramsIn, DatagramsOut uint64
	BytesIn, BytesOut         uint64
	// Datagrams dropped before reaching a connection, by reason.
	Blocked           uint64 // from a blocked address
	Junk              uint64 // not a datagram of the protocol (bad magic, type or length), dropped before it was copied
	Overflow          uint64 // the queue between ticks was full
	BadHeader         uint64 // unparseable header
	Unexpected        uint64 // not a CLIENT_HELLO from an unknown address, or not a handshake packet from a client in the handshake
	Throttled         uint64 // beyond its client's share of a tick (Config.ClientDatagrams)
	HandshakeInvalid  uint64 // a CLIENT_HELLO that failed a check (CRC, length, layout, version, key)
	HandshakeRejected uint64 // a valid CLIENT_HELLO refused: the handshake pool or queue was full, or it waited too long
	SendErrors        uint64 // datagrams the socket refused
	// HostLimited counts valid CLIENT_HELLOs, and completed handshakes,
	// refused because their host held its share of sessions
	// (Config.MaxSessionsPerHost); a completed one is told with a
	// DISCONNECT.
	HostLimited uint64
	// ThrottledMessages counts messages of accepted datagrams dropped
	// because their client was over its share of the tick and its backlog
	// of held messages was full.
	ThrottledMessages uint64
	// CookiesSent counts cookie replies: hellos from clients that can
	// prove their address, asked to while the server was under load.
	CookiesSent uint64
	// HandshakesEvicted counts handshakes of clients that never proved
	// their address, dropped to make room for clients that did.
	HandshakesEvicted uint64
	// Migrations counts sessions moved to a new client address (a NAT
	// rebinding, a network switch) once it answered a challenge;
	// MigrationsRefused counts datagrams from unknown addresses that named
	// a session but were refused (not authentic, a copy, or beyond the
	// session's rate of new addresses).
	Migrations, MigrationsRefused uint64
	// ResetsSent counts stateless resets: datagrams naming a session this
	// server does not have (it restarted), answered so that the client
	// reconnects at once rather than after its timeout.
	ResetsSent uint64
	// Polls counts the connections the ticks' network phases visited: only
	// those with work (a datagram received, a message queued, a timer
	// due), not every connection every tick.
	Polls uint64
	// LateTicks counts ticks that took longer than the tick interval;
	// Stalls counts ticks so late that the watchdog logged the event
	// goroutine's stack.
	LateTicks, Stalls uint64
	// KernelDrops counts datagrams the system dropped before the server
	// could read them because the socket's receive buffer was full
	// (Linux; see RecvBuffer).
	KernelDrops uint64
	// System calls that read and wrote the datagrams (fewer than the
	// datagrams where the system reads and writes many per call).
	ReadCalls, WriteCalls uint64
	// RecvBuffer and SendBuffer are the socket's buffer sizes as the
	// system reports them (0 where it does not tell).
	RecvBuffer, SendBuffer int
	HandlerPanics          uint64 // handler methods that panicked
	Connects               uint64
	Disconnects            uint64
	// Of the disconnects, clients the server closed for abuse: more than
	// their share of memory while it was short (conn.ErrOverBudget), or
	// message numbers that cannot be placed (conn.ErrOutOfWindow).
	OverBudget, OutOfWindow uint64
	// Of the disconnects, the rest by why: the client went silent
	// (conn.ErrTimeout), the client said goodbye (conn.ErrPeerClosed), the
	// server closed it (Peer.Disconnect, or the server stopping), other.
	TimedOut, ClientClosed, ServerClosed, OtherDisconnects uint64
	// TickTimes counts ticks by the time the event goroutine was busy in
	// them (every phase but Idle), in the buckets of TickBuckets.
	TickTimes Histogram
}

// Histogram counts durations by bucket: Counts[i] counts those at most
// bounds[i] and above bounds[i-1]; the last count those above every bound.
// Sum is their total.
type Histogram struct {
	Counts [len(tickBounds) + 1]uint64
	Sum    time.Duration
}

// The bounds of the server's histograms. Tick times reach from a tick of
// nothing (tens of µs) past a 60 Hz tick; latencies from loopback to
// a bad mobile link.
var (
	tickBounds    = [...]time.Duration{100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 16 * time.Millisecond, 33 * time.Millisecond, 66 * time.Millisecond, 250 * time.Millisecond, time.Second}
	latencyBounds = [len(tickBounds)]time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 35 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
)

// TickBuckets returns the upper bounds of Stats.TickTimes's buckets.
func TickBuckets() []time.Duration { return tickBounds[:] }

// LatencyBuckets returns the upper bounds of Snapshot.Latencies's buckets.
func LatencyBuckets() []time.Duration { return latencyBounds[:] }

// Count returns how many durations h counted.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// observe counts d in the bucket of bounds it falls in.
func (h *Histogram) observe(bounds *[len(tickBounds)]time.Duration, d time.Duration) {
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += d
}

// Phases is the event goroutine's time in each phase of a tick:
// handling the datagrams received, the handler's Update, sending, and
// waiting for the next tick.
type Phases struct {
	Messages, Update, Network, Idle time.Duration
}

// Add adds o to p.
func (p *Phases) Add(o Phases) {
	p.Messages += o.Messages
	p.Update += o.Update
	p.Network += o.Network
	p.Idle += o.Idle
}

// Total returns the time of all phases.
func (p Phases) Total() time.Duration { return p.Messages + p.Update + p.Network + p.Idle }

// Second is what one second of the server's life held.
type Second struct {
	// Unix is the second.
	Unix int64
	// Ticks run in it and the time in each of their phases.
	Ticks int
	Phase Phases
	// Datagrams and bytes each way in it.
	DatagramsIn, DatagramsOut, BytesIn, BytesOut uint64
}

// PeerSnapshot is one client's row: its identity, state and counters.
// Per-second rates are the difference of two snapshots a second apart.
type PeerSnapshot struct {
	Addr netip.AddrPort
	// Carrier is how the client's datagrams travel: "udp", or what the
	// server's transport.Conn says (carrier/rtc.Merge: "webrtc" for a
	// browser).
	Carrier string
	// Label is the game's name for the client (Peer.SetLabel): player
	// data, like Addr.
	Label   string
	Token   uint32
	Status  conn.Status
	Latency time.Duration
	// Stats are the connection's counters.
	Stats conn.Stats
	// Pending is the packets awaiting an ack.
	Pending int
	// Throttled counts its datagrams beyond its share of a tick.
	Throttled uint64
	// Held is the memory the client makes the server hold.
	Held int
	// World is what the game replicates to the client, when its handler
	// is a WorldReporter (World.Reported).
	World PeerWorld
	// Window is the connection's congestion window in bytes, and
	// Bandwidth its estimate of the path to the client in bytes a second
	// (0 before a measurement): how fast a large message goes to it.
	Window    int
	Bandwidth float64
}

// AckedPercent returns the share of the client's packets acknowledged.
func (p *PeerSnapshot) AckedPercent() float64 {
	if p.Stats.Assembled == 0 {
		return 0
	}
	return 100 * float64(p.Stats.Acked) / float64(p.Stats.Assembled)
}

// Snapshot is the server's state as published at the end of each second,
// for monitors and status pages: everything is a copy, so reading it never
// touches the event goroutine. History (per-second series for plots) is
// the reader's to keep: take a snapshot a second and keep the differences.
type Snapshot struct {
	Addr     netip.AddrPort
	Interval time.Duration
	Started  time.Time // when the server started running
	Taken    time.Time // when this snapshot was published
	// LastSecond is the last complete second.
	LastSecond Second

	Connections int
	Pending     int
	Stats       Stats
	// Packet counters summed over every connection, past and present.
	Assembled, Acked, Timeouts uint64
	PendingAcks                int
	// Resent sums the messages connections sent again (retry modes).
	Resent uint64
	// Latencies counts, at each publish (once a second), every connected
	// client's latency, in the buckets of LatencyBuckets: the spread of
	// the players' round trips over time.
	Latencies Histogram
	// Drops sums the datagrams connections refused, by reason, and the
	// messages they refused inside accepted packets.
	Drops                                       conn.Drops
	DuplicateMessages, FarMessages, BadMessages uint64
	// HandshakesQueued is the hellos waiting for the handshake budget.
	HandshakesQueued int
	// MemoryHeld is the memory the clients make the server hold, out of
	// MemoryBudget (Config.MemoryBudget).
	MemoryHeld, MemoryBudget int
	// Hosts is how many hosts hold sessions or handshakes, and
	// BusiestHost the most that one of them holds (sessions and
	// handshakes; see Config.MaxSessionsPerHost).
	Hosts, BusiestHost int
	// Browsers counts the peers of a carrier whose addresses are
	// connections of their own (carrier/rtc's browser peers): those
	// setting up and open, and those it refused or closed, by reason.
	// Zero without one.
	Browsers transport.PeerStats
	// World is the game's map, when its handler is a WorldReporter.
	World WorldMap

	// Peers has a row per connected client. Above 1,024 clients the rows
	// are taken a share a tick over the second's last 250 ms, so that a
	// server of many clients has no long tick once a second.
	Peers []PeerSnapshot
}

// CopyTo copies s into dst, reusing dst's storage.
func (s *Snapshot) CopyTo(dst *Snapshot) {
	peers, world := dst.Peers[:0], dst.World
	*dst = *s
	dst.Peers = append(peers, s.Peers...)
	dst.World = world
	s.World.copyTo(&dst.World)
}

// totals sums per-connection counters.
type totals struct {
	Assembled, Acked, Timeouts, Resent          uint64
	Drops                                       conn.Drops
	DuplicateMessages, FarMessages, BadMessages uint64
}

func (t *totals) addTotals(o *totals) {
	t.Assembled += o.Assembled
	t.Acked += o.Acked
	t.Timeouts += o.Timeouts
	t.Resent += o.Resent
	t.Drops.Add(&o.Drops)
	t.DuplicateMessages += o.DuplicateMessages
	t.FarMessages += o.FarMessages
	t.BadMessages += o.BadMessages
}

// sub takes out what add(s) put in.
func (t *totals) sub(s *conn.Stats) {
	t.Assembled -= s.Assembled
	t.Acked -= s.Acked
	t.Timeouts -= s.Timeouts
	t.Resent -= s.Resent
	d, o := &t.Drops, &s.Drops
	d.Header -= o.Header
	d.Auth -= o.Auth
	d.Payload -= o.Payload
	d.Duplicate -= o.Duplicate
	d.Stale -= o.Stale
	d.Handshake -= o.Handshake
	d.NoSession -= o.NoSession
	d.Closed -= o.Closed
	t.DuplicateMessages -= s.DuplicateMessages
	t.FarMessages -= s.FarMessages
	t.BadMessages -= s.BadMessages
}

func (t *totals) add(s *conn.Stats) {
	t.Assembled += s.Assembled
	t.Acked += s.Acked
	t.Timeouts += s.Timeouts
	t.Resent += s.Resent
	t.Drops.Add(&s.Drops)
	t.DuplicateMessages += s.DuplicateMessages
	t.FarMessages += s.FarMessages
	t.BadMessages += s.BadMessages
}

// profile accumulates the current second's ticks and traffic.
type profile struct {
	cur, last Second
}

// begin starts a tick at start; it reports whether a second ended.
func (p *profile) begin(start time.Time) bool {
	sec := start.Unix()
	if p.cur.Unix == sec {
		return false
	}
	rolled := p.cur.Unix != 0
	if rolled {
		p.last = p.cur
	}
	p.cur = Second{Unix: sec}
	return rolled
}

// end records a tick and the time of its phases.
func (p *profile) end(ph Phases, st *Stats) {
	p.cur.Ticks++
	p.cur.Phase.Add(ph)
	st.Ticks++
	st.Phase.Add(ph)
}

func (p *profile) recv(n int) { p.cur.DatagramsIn++; p.cur.BytesIn += uint64(n) }
func (p *profile) sent(n int) { p.cur.DatagramsOut++; p.cur.BytesOut += uint64(n) }

// publish writes the current state into the snapshot readers copy. It
// runs on the event goroutine once a second.
func (s *Server) publish() {
	st := s.conn.Stats()
	s.stats.ReadCalls, s.stats.WriteCalls = st.Reads, st.Writes
	s.stats.RecvBuffer, s.stats.SendBuffer = st.RecvBuffer, st.SendBuffer
	rs := s.rx.Stats()
	s.stats.Overflow, s.stats.Blocked, s.stats.Junk = rs.Overflow, rs.Filtered, rs.Junk
	s.stats.Stalls = s.watch.stalls.Load()
	if st.KernelDrops > s.stats.KernelDrops {
		s.log.Warn("the socket's receive buffer overflowed: the system dropped datagrams before the server read them",
			"dropped", st.KernelDrops-s.stats.KernelDrops, "total", st.KernelDrops, "buffer", st.RecvBuffer,
			"hint", "raise net.core.rmem_max, or shorten the tick")
		s.stats.KernelDrops = st.KernelDrops
	}
	ws := s.tx.Stats()
	s.stats.DatagramsOut, s.stats.BytesOut, s.stats.SendErrors = ws.Datagrams, ws.Bytes, ws.Errors
	s.gatherRows(len(s.peers)) // the rows the second's ticks did not take

	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	p := &s.pub
	p.Addr = s.Addr()
	p.Interval = s.cfg.Interval
	p.Started = s.started
	p.Taken = s.now
	p.LastSecond = s.prof.last
	p.Connections = len(s.peers)
	p.Pending = len(s.pending)
	p.HandshakesQueued = s.proven.len() + s.queued.len()
	p.Hosts, p.BusiestHost = s.hosts.summary()
	if s.peerConn != nil {
		p.Browsers = s.peerConn.PeerStats()
	}
	if s.budget != nil {
		p.MemoryHeld, p.MemoryBudget = s.budget.Used(), s.budget.Limit()
	}
	p.Stats = s.stats
	s.finishRows(p)
	if wr, ok := s.cfg.Handler.(WorldReporter); ok {
		p.World.Points = p.World.Points[:0]
		wr.ReportWorld(&p.World)
		if len(p.World.Points) > MaxWorldPoints {
			p.World.Points = p.World.Points[:MaxWorldPoints]
		}
	}
	p.Latencies = s.latencies
	s.pubVersion.Add(1)
}

// SnapshotVersion returns a number that changes each time a new snapshot
// is published (once a second), so a monitor copies it only when it is new.
func (s *Server) SnapshotVersion() uint64 { return s.pubVersion.Load() }

// Snapshot copies the state published at the end of the last second into
// dst, reusing dst's storage. It is safe to call from any goroutine, at any
// rate: it never touches the event goroutine's live state.
func (s *Server) Snapshot(dst *Snapshot) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.pub.CopyTo(dst)
}
