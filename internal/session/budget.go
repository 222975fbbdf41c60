package session

import "github.com/mpgs/mpgameserver/conn"

// A Budget is the memory many connections share for what they hold on
// their peers' behalf: messages alive (queued, waiting for a resend or for
// their ack) and partly received messages. A server gives one Budget to
// all its connections, so that no number of clients can make it hold more
// than the limit, and no one client more than its share while memory is
// short:
//
//   - while the budget is less than three quarters used, a connection
//     takes what its own limits allow (Config.MaxQueuedBytes,
//     MaxReassemblyBytes);
//   - beyond that, a connection that asks for more while it holds more
//     than its fair share (the limit divided by the connected
//     connections) is closed with ErrOverBudget: its peer sent what
//     filled memory, or made the game queue it;
//   - when the budget is spent, requests are refused (Send fails with
//     ErrQueueFull, fragments are dropped and resent by the peer) and
//     nobody is closed for it.
//
// A Budget is not safe for concurrent use: the connections sharing it
// belong to one goroutine, as a server's do.
type Budget struct {
	limit int
	used  int
	conns int // connected connections sharing it
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int) *Budget { return &Budget{limit: limit} }

// Limit returns the size of the budget in bytes.
func (b *Budget) Limit() int { return b.limit }

// Used returns the bytes the connections hold.
func (b *Budget) Used() int { return b.used }

// Share returns the fair share of one connection.
func (b *Budget) Share() int { return b.limit / max(1, b.conns) }

// tight reports whether n more bytes would take the budget past three
// quarters of its limit.
func (b *Budget) tight(n int) bool { return b.used+n > b.limit-b.limit/4 }

// reserve charges n bytes held by c, or refuses them: with ErrOverBudget
// (and c marked to be closed) when memory is short and c is over its
// share, with errBudgetSpent when the budget is spent.
func (c *Conn) reserve(n int) error {
	if b := c.cfg.Budget; b != nil {
		if b.tight(n) && c.mem.held+n > b.Share() {
			c.mem.overBudget = true
			return conn.ErrOverBudget
		}
		if b.used+n > b.limit {
			return errBudgetSpent
		}
		b.used += n
	}
	c.mem.held += n
	return nil
}

// Hold charges n bytes that the application keeps for this peer (a
// replicator's baselines, say) to the connection's memory, as its queues
// are: it is refused, with the connection marked to be closed, when
// memory is short and the peer holds more than its share. What is held is
// given back when the connection closes, or with Release.
func (c *Conn) Hold(n int) error {
	if n <= 0 {
		return nil
	}
	if c.status.Closed() {
		return conn.ErrNotConnected
	}
	if err := c.reserve(n); err != nil {
		return err
	}
	c.mem.app += n
	return nil
}

// Release gives back n bytes of what Hold charged.
func (c *Conn) Release(n int) {
	n = min(n, c.mem.app)
	if n <= 0 {
		return
	}
	c.mem.app -= n
	c.unreserve(n)
}

// charge charges n bytes without refusing them (what the connection
// itself must send: handshake messages, a DISCONNECT).
func (c *Conn) charge(n int) {
	if b := c.cfg.Budget; b != nil {
		b.used += n
	}
	c.mem.held += n
}

// unreserve gives back n bytes charged before.
func (c *Conn) unreserve(n int) {
	if b := c.cfg.Budget; b != nil {
		b.used -= n
	}
	c.mem.held -= n
}

// joinBudget counts c among the connections sharing its budget, once it
// is connected.
func (c *Conn) joinBudget() {
	if b := c.cfg.Budget; b != nil && !c.mem.inBudget {
		b.conns++
		c.mem.inBudget = true
	}
}

func (c *Conn) leaveBudget() {
	if b := c.cfg.Budget; b != nil && c.mem.inBudget {
		b.conns--
		c.mem.inBudget = false
	}
}

// reasmBudget lends the connection's memory to its reassembler.
type reasmBudget struct{ c *Conn }

func (r reasmBudget) Reserve(n int) bool { return r.c.reserve(n) == nil }

func (r reasmBudget) Release(n int) { r.c.unreserve(n) }
