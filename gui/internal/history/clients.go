package history

import (
	"time"

	"github.com/mpgs/mpgameserver/server"
)

// ClientBins is how many seconds of a client's own series the monitor
// keeps: two minutes.
const ClientBins = 120

// MaxClients bounds how many clients have series of their own: about
// 3.5 KB each, so at most ~7 MB however many clients connect. Clients
// beyond it get series when others leave.
const MaxClients = 2048

// ClientDrop is a reason a client's datagrams were dropped.
type ClientDrop int

// The reasons of a client's drops: conn.Drops's, and the server throttling
// it.
const (
	DropHeader ClientDrop = iota
	DropAuth
	DropPayload
	DropDuplicate
	DropStale
	DropHandshake
	DropNoSession
	DropClosed
	DropThrottled
	NumClientDrops
)

var clientDropNames = [NumClientDrops]string{
	"header", "auth", "payload", "duplicate", "stale", "handshake", "no session", "closed", "throttled",
}

// String returns the reason's short name.
func (d ClientDrop) String() string {
	if d < 0 || d >= NumClientDrops {
		return "?"
	}
	return clientDropNames[d]
}

func clientDrops(p *server.PeerSnapshot) [NumClientDrops]uint64 {
	d := &p.Stats.Drops
	return [NumClientDrops]uint64{d.Header, d.Auth, d.Payload, d.Duplicate, d.Stale, d.Handshake, d.NoSession, d.Closed, p.Throttled}
}

// Client is one client's recent seconds, for the monitor's close-up: per
// second, the differences of its counters in consecutive snapshots.
type Client struct {
	// Last is the client's row in the latest snapshot that had it.
	Last server.PeerSnapshot
	// FirstSeen is when the monitor first saw it (the Taken of that
	// snapshot): when it connected, or when the monitor started watching.
	FirstSeen time.Time
	// Gone reports that the latest snapshot did not have it (it left; its
	// series are kept while it is pinned).
	Gone bool

	// Latency (microseconds), packets and bytes each way, messages resent
	// and packets timed out, per second.
	Latency, PktsIn, PktsOut, BytesIn, BytesOut, Resent, Timeouts Series
	// Drops by reason per second. A reason's series has storage only once
	// it had a drop (Len is 0 before): most clients never have any.
	Drops [NumClientDrops]Series

	first, sec int64 // Unix seconds of the first and latest samples
}

// Seconds returns how many seconds of series the client has: none until
// its second snapshot.
func (c *Client) Seconds() int {
	if c.sec == 0 {
		return 0
	}
	return max(0, min(int(c.sec-c.first+1), c.Latency.Len()))
}

// Second returns the Unix second of the latest sample.
func (c *Client) Second() int64 { return c.sec }

func (c *Client) dense() []*Series {
	return []*Series{&c.Latency, &c.PktsIn, &c.PktsOut, &c.BytesIn, &c.BytesOut, &c.Resent, &c.Timeouts}
}

// reset makes c a new client's, reusing its storage.
func (c *Client) reset(bins int) {
	for _, s := range c.dense() {
		s.Init(bins)
	}
	for i := range c.Drops {
		d := &c.Drops[i]
		d.vals, d.head, d.sec = d.vals[:0], 0, 0
	}
	c.Last, c.FirstSeen, c.Gone, c.first, c.sec = server.PeerSnapshot{}, time.Time{}, false, 0, 0
}

// Bytes returns the memory the client's series hold.
func (c *Client) Bytes() int {
	n := 0
	for _, s := range c.dense() {
		n += 4 * cap(s.vals)
	}
	for i := range c.Drops {
		n += 4 * cap(c.Drops[i].vals)
	}
	return n
}

// add takes in the client's row of a snapshot of second sec.
func (c *Client) add(p *server.PeerSnapshot, sec int64, bins int) {
	if c.sec == 0 {
		// No previous row to differ from: the series start with the
		// next snapshot.
		c.first, c.sec, c.Last = sec+1, sec, *p
		for _, s := range c.dense() {
			s.Set(sec, 0)
		}
		return
	}
	from, was := c.sec, &c.Last
	gauge(&c.Latency, from, sec, p.Latency.Microseconds())
	spread(&c.PktsIn, from, sec, counterDiff(p.Stats.Received, was.Stats.Received))
	spread(&c.PktsOut, from, sec, counterDiff(p.Stats.Assembled, was.Stats.Assembled))
	spread(&c.BytesIn, from, sec, counterDiff(p.Stats.BytesRecv, was.Stats.BytesRecv))
	spread(&c.BytesOut, from, sec, counterDiff(p.Stats.BytesSent, was.Stats.BytesSent))
	spread(&c.Resent, from, sec, counterDiff(p.Stats.Resent, was.Stats.Resent))
	spread(&c.Timeouts, from, sec, counterDiff(p.Stats.Timeouts, was.Stats.Timeouts))
	now, then := clientDrops(p), clientDrops(was)
	for i := range now {
		d := counterDiff(now[i], then[i])
		s := &c.Drops[i]
		if s.Len() == 0 {
			if d == 0 {
				continue
			}
			s.Init(bins)
		}
		spread(s, from, sec, d)
	}
	c.sec = max(c.sec, sec)
	c.Last = *p
}

// Clients keeps the series of each client present in the snapshots, up
// to a number of clients, and of one pinned client (the one the monitor
// shows up close) also after it left.
type Clients struct {
	bins, max int
	by        map[uint32]*Client
	free      []*Client // storage of clients that left, for new ones
	pinned    uint32
	taken     time.Time
	started   time.Time
}

// NewClients keeps bins seconds of series for at most max clients.
func NewClients(bins, max int) *Clients {
	return &Clients{bins: bins, max: max, by: map[uint32]*Client{}}
}

// Len returns how many clients have series.
func (cs *Clients) Len() int { return len(cs.by) }

// Get returns the series of the client of token, or nil.
func (cs *Clients) Get(token uint32) *Client { return cs.by[token] }

// Pin keeps the series of the client of token (0: none) even over the
// limit, and after it left, until another is pinned.
func (cs *Clients) Pin(token uint32) {
	if old := cs.by[cs.pinned]; old != nil && old.Gone && cs.pinned != token {
		cs.drop(cs.pinned)
	}
	cs.pinned = token
}

// Bytes returns the memory the series hold, free storage included.
func (cs *Clients) Bytes() int {
	n := 0
	for _, c := range cs.by {
		n += c.Bytes()
	}
	for _, c := range cs.free {
		n += c.Bytes()
	}
	return n
}

func (cs *Clients) drop(token uint32) {
	c := cs.by[token]
	if c == nil {
		return
	}
	delete(cs.by, token)
	if len(cs.free) < 64 {
		cs.free = append(cs.free, c)
	}
}

// Add takes in a snapshot, once a second: each client's counters against
// its previous row. Clients no longer in it are forgotten (but the pinned
// one); a snapshot already taken in changes nothing; a restarted server's
// clients start afresh.
func (cs *Clients) Add(s *server.Snapshot) {
	if s.Taken.Equal(cs.taken) && !cs.taken.IsZero() {
		return
	}
	cs.taken = s.Taken
	if !s.Started.Equal(cs.started) {
		for tok := range cs.by {
			cs.drop(tok)
		}
		cs.started = s.Started
	}
	sec := s.LastSecond.Unix
	if sec == 0 {
		sec = s.Taken.Unix()
	}
	present := make(map[uint32]struct{}, len(s.Peers))
	for i := range s.Peers {
		p := &s.Peers[i]
		present[p.Token] = struct{}{}
		c := cs.by[p.Token]
		if c == nil {
			if len(cs.by) >= cs.max && p.Token != cs.pinned {
				continue
			}
			c = cs.newClient()
			c.FirstSeen = s.Taken
			cs.by[p.Token] = c
		}
		c.Gone = false
		c.add(p, sec, cs.bins)
	}
	for tok, c := range cs.by {
		if _, ok := present[tok]; ok {
			continue
		}
		if tok == cs.pinned {
			c.Gone = true
			continue
		}
		cs.drop(tok)
	}
}

func (cs *Clients) newClient() *Client {
	if n := len(cs.free); n > 0 {
		c := cs.free[n-1]
		cs.free = cs.free[:n-1]
		c.reset(cs.bins)
		return c
	}
	c := &Client{}
	c.reset(cs.bins)
	return c
}
