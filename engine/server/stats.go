package server

import (
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/metrics"
)

// Stats are the server's lifetime counters.
type Stats struct {
	DatagramsIn, DatagramsOut uint64
	BytesIn, BytesOut         uint64
	// Datagrams dropped before reaching a connection, by reason.
	Blocked    uint64 // from a blocked address
	Junk       uint64 // not a datagram of the protocol (bad magic, type or length), dropped before it was copied
	Overflow   uint64 // the queue between ticks was full
	BadHeader  uint64 // unparseable header
	Unexpected uint64 // not a CLIENT_HELLO from an unknown address, or not a handshake packet from a client in the handshake
	Throttled  uint64 // beyond its client's share of a tick (Context.SetClientTickBudget)
	// ThrottledMessages counts messages of accepted datagrams dropped
	// because their client was over its share of the tick and its backlog
	// of held messages was full.
	ThrottledMessages uint64
	HandshakeInvalid  uint64 // a CLIENT_HELLO that failed a check (CRC, length, layout, version, key)
	HandshakeRejected uint64 // a valid CLIENT_HELLO refused: the handshake pool or queue was full, or it waited too long
	SendErrors        uint64 // datagrams the socket refused
	// CookiesSent counts cookie replies: hellos from clients that can
	// prove their address, asked to while the server was under load.
	CookiesSent uint64
	// HandshakesEvicted counts handshakes of clients that never proved
	// their address, dropped to make room for clients that did.
	HandshakesEvicted uint64
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
}

// totals sums per-connection counters.
type totals struct {
	Assembled, Acked, Timeouts, Received, Dropped uint64
	Drops                                         conn.Drops
	DuplicateMessages, FarMessages, BadMessages   uint64
}

func (t *totals) add(c *conn.Conn) {
	s := c.Stats()
	t.Assembled += s.Assembled
	t.Acked += s.Acked
	t.Timeouts += s.Timeouts
	t.Received += s.Received
	t.Dropped += s.Dropped
	t.Drops.Add(&s.Drops)
	t.DuplicateMessages += s.DuplicateMessages
	t.FarMessages += s.FarMessages
	t.BadMessages += s.BadMessages
}

// profile accumulates where each second of the event goroutine's time
// went and rolls it into per-second series.
type profile struct {
	sec      int64
	ticks    int64
	phase    [4]time.Duration
	pktsIn   int64
	pktsOut  int64
	bytesIn  int64
	bytesOut int64
	rolled   bool  // the current tick completed a second
	last     int64 // the last second completed

	Ticks, Messages, Update, Network, Idle metrics.Series
	PktsIn, PktsOut, BytesIn, BytesOut     metrics.Series
	Clients                                metrics.Series
	interval                               time.Duration
	clients                                int
}

func (p *profile) init(interval time.Duration) {
	p.interval = interval
	for _, s := range p.series() {
		s.Init(metrics.DefaultBins)
	}
}

func (p *profile) series() []*metrics.Series {
	return []*metrics.Series{&p.Ticks, &p.Messages, &p.Update, &p.Network, &p.Idle,
		&p.PktsIn, &p.PktsOut, &p.BytesIn, &p.BytesOut, &p.Clients}
}

func (p *profile) recv(n int) { p.pktsIn++; p.bytesIn += int64(n) }
func (p *profile) sent(n int) { p.pktsOut++; p.bytesOut += int64(n) }

// begin starts a tick at start. When the second changed, the finished
// second is written to the series first, so everything counted during
// this tick belongs to start's second.
func (p *profile) begin(start time.Time) {
	sec := start.Unix()
	p.rolled = false
	if p.sec != 0 && sec != p.sec {
		p.roll()
		p.rolled = true
		p.last = p.sec
	}
	p.sec = sec
}

// end records the time the tick spent in each phase.
func (p *profile) end(msgs, update, network, idle time.Duration) {
	p.ticks++
	p.phase[0] += msgs
	p.phase[1] += update
	p.phase[2] += network
	p.phase[3] += idle
}

func (p *profile) roll() {
	s := p.sec
	p.Ticks.Set(s, p.ticks)
	p.Messages.Set(s, p.phase[0].Microseconds())
	p.Update.Set(s, p.phase[1].Microseconds())
	p.Network.Set(s, p.phase[2].Microseconds())
	p.Idle.Set(s, p.phase[3].Microseconds())
	p.PktsIn.Set(s, p.pktsIn)
	p.PktsOut.Set(s, p.pktsOut)
	p.BytesIn.Set(s, p.bytesIn)
	p.BytesOut.Set(s, p.bytesOut)
	p.Clients.Set(s, int64(p.clients))
	p.ticks, p.phase = 0, [4]time.Duration{}
	p.pktsIn, p.pktsOut, p.bytesIn, p.bytesOut = 0, 0, 0, 0
}

// Seconds returns how many complete seconds of data the series hold: the
// whole seconds after the one the server started in, up to Second, at most
// the history length.
func (s *Snapshot) Seconds() int {
	if s.Started.IsZero() || s.Second == 0 {
		return 0
	}
	n := int(s.Second - s.Started.Unix())
	return max(0, min(n, s.Ticks.Len()))
}

// ClientSnapshot is one row of the monitor's client table: the client's
// last complete second and lifetime counters.
type ClientSnapshot struct {
	Addr      netip.AddrPort
	Token     uint32
	Status    conn.Status
	Latency   time.Duration
	PktsIn    int64 // per second
	PktsOut   int64
	BytesIn   int64
	BytesOut  int64
	Assembled uint64
	Acked     uint64
	Timeouts  uint64
	Pending   int // packets awaiting an ack
	// Dropped counts the client's datagrams its connection refused
	// (Drops breaks them down); Throttled those beyond its share of a
	// tick.
	Dropped   uint64
	Drops     conn.Drops
	Throttled uint64
	// Held is the memory the client makes the server hold.
	Held int
}

// AckedPercent returns the share of the client's packets acknowledged.
func (c *ClientSnapshot) AckedPercent() float64 {
	if c.Assembled == 0 {
		return 0
	}
	return 100 * float64(c.Acked) / float64(c.Assembled)
}

// Snapshot is a copy of the server's state for a monitor, taken at the end
// of a second. Series hold one bin per second, oldest first; the time
// series are in microseconds of the event goroutine per second.
type Snapshot struct {
	Addr     netip.AddrPort
	Interval time.Duration
	Started  time.Time // when the server started running
	Taken    time.Time
	// Second is the Unix second of the newest bin of every series.
	Second int64

	Connections int
	Pending     int
	Stats       Stats
	// Packet counters summed over every connection, past and present.
	Assembled, Acked, Timeouts uint64
	PendingAcks                int
	// Drops sums the datagrams connections refused, by reason, and the
	// messages they refused inside accepted packets.
	Drops                                       conn.Drops
	DuplicateMessages, FarMessages, BadMessages uint64
	// HandshakesQueued is the hellos waiting for the handshake budget.
	HandshakesQueued int
	// MemoryHeld is the memory the clients make the server hold, out of
	// MemoryBudget (Context.SetMemoryBudget).
	MemoryHeld, MemoryBudget int

	Ticks, Messages, Update, Network, Idle metrics.Series
	PktsIn, PktsOut, BytesIn, BytesOut     metrics.Series
	Clients                                metrics.Series

	ClientRows []ClientSnapshot
}

func (s *Snapshot) init() {
	for _, x := range s.series() {
		x.Init(metrics.DefaultBins)
	}
}

func (s *Snapshot) series() []*metrics.Series {
	return []*metrics.Series{&s.Ticks, &s.Messages, &s.Update, &s.Network, &s.Idle,
		&s.PktsIn, &s.PktsOut, &s.BytesIn, &s.BytesOut, &s.Clients}
}

// CopyTo copies s into dst, reusing dst's storage.
func (s *Snapshot) CopyTo(dst *Snapshot) {
	rows := dst.ClientRows[:0]
	series := make([]metrics.Series, 0, 10)
	for _, x := range dst.series() {
		series = append(series, *x)
	}
	*dst = *s
	for i, x := range dst.series() {
		*x = series[i]
	}
	for i, x := range s.series() {
		x.CopyTo(dst.series()[i])
	}
	dst.ClientRows = append(rows, s.ClientRows...)
}

// publish writes the current state into the snapshot the monitor reads.
// It runs on the event goroutine once a second.
func (s *Server) publish() {
	s.prof.clients = len(s.clients)
	rs := s.rx.Stats()
	s.stats.Overflow, s.stats.Blocked, s.stats.Junk, s.stats.ReadCalls = rs.Overflow, rs.Filtered, rs.Junk, rs.Reads
	s.stats.Stalls = s.watch.stalls.Load()
	s.stats.WriteCalls = s.tx.Stats().Writes
	if rs.KernelDrops > s.stats.KernelDrops {
		s.log.Warn("the socket's receive buffer overflowed: the system dropped datagrams before the server read them",
			"dropped", rs.KernelDrops-s.stats.KernelDrops, "total", rs.KernelDrops, "buffer", s.stats.RecvBuffer,
			"hint", "raise net.core.rmem_max, or shorten the tick")
		s.stats.KernelDrops = rs.KernelDrops
	}

	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	p := &s.pub
	p.Addr = s.Addr()
	p.Interval = s.ctx.interval
	p.Started = s.started
	p.Taken = s.now
	p.Second = s.prof.last
	p.Connections = len(s.clients)
	p.Pending = len(s.pending)
	p.HandshakesQueued = s.proven.len() + s.queued.len()
	if s.budget != nil {
		p.MemoryHeld, p.MemoryBudget = s.budget.Used(), s.budget.Limit()
	}
	p.Stats = s.stats
	t := s.retired
	p.PendingAcks = 0
	rows := p.ClientRows[:0]
	sec := s.prof.last
	for _, c := range s.clients {
		t.add(c.c)
		st := c.c.Stats()
		r := ClientSnapshot{
			Addr:      c.Addr(),
			Token:     c.Token(),
			Status:    c.c.Status(),
			Latency:   c.c.Latency(),
			PktsIn:    st.PktsRecv.At(sec),
			PktsOut:   st.PktsSent.At(sec),
			BytesIn:   st.BytesRecv.At(sec),
			BytesOut:  st.BytesSent.At(sec),
			Assembled: st.Assembled,
			Acked:     st.Acked,
			Timeouts:  st.Timeouts,
			Pending:   c.c.PendingAcks(),
			Dropped:   st.Dropped,
			Drops:     st.Drops,
			Throttled: c.throttled,
			Held:      c.c.Held(),
		}
		p.PendingAcks += r.Pending
		rows = append(rows, r)
	}
	p.ClientRows = rows
	p.Assembled, p.Acked, p.Timeouts = t.Assembled, t.Acked, t.Timeouts
	p.Drops = t.Drops
	p.DuplicateMessages, p.FarMessages, p.BadMessages = t.DuplicateMessages, t.FarMessages, t.BadMessages
	src := s.prof.series()
	for i, x := range p.series() {
		src[i].CopyTo(x)
	}
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
