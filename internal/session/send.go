package session

import (
	"fmt"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"

	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// outMsg is a message waiting to be sent or acknowledged.
type outMsg struct {
	seq      protocol.Seq // 0 until first packed
	typ      protocol.PacketType
	retry    conn.RetryMode
	body     []byte
	cb       func(bool)
	group    *fragGroup    // set for fragments
	resend   time.Duration // overrides the resend delay when > 0
	lastSent time.Time
	charged  int   // bytes charged for it while it is alive
	refs     int32 // packets in flight carrying it
	queued   bool  // in the send queue
	retrying bool  // in the resend list
	done     bool  // resolved
}

// fragGroup ties the fragments of one message to its callback.
type fragGroup struct {
	cb     func(bool)
	left   int
	failed bool
}

// maxPooledBody is the largest body buffer kept for reuse: any message
// that fits a datagram.
const maxPooledBody = protocol.RecvBufferSize

// maxPooled bounds the free list (with maxPooledBody, 34 KB a connection
// at most).
const maxPooled = 16

// msgOverhead is what a message costs beyond its body: its outMsg, its
// slots in the queue, the resend list and a packet in flight, and the
// rounding of its body's allocation.
const msgOverhead = 256

// msgCost is what a message of n body bytes is charged while it is alive.
func msgCost(n int) int { return n + msgOverhead }

func (c *Conn) newMsg(typ protocol.PacketType, body []byte, retry conn.RetryMode, cb func(bool)) *outMsg {
	var m *outMsg
	if n := len(c.tx.free); n > 0 {
		m = c.tx.free[n-1]
		c.tx.free[n-1] = nil
		c.tx.free = c.tx.free[:n-1]
	} else {
		m = &outMsg{}
	}
	m.typ, m.retry, m.cb = typ, retry, cb
	m.body = append(m.body[:0], body...)
	return m
}

// release returns m to the pool once nothing refers to it any more.
func (c *Conn) release(m *outMsg) {
	if !m.done || m.refs > 0 || m.queued || m.retrying || m == c.sess.hello { // the server may resend its hello
		return
	}
	if m.charged > 0 {
		c.mem.sendHeld -= m.charged
		c.mem.liveMsgs--
		c.unreserve(m.charged)
	}
	body := m.body[:0]
	if cap(body) > maxPooledBody || m.typ.UsesCRC() {
		body = nil // big bodies are not worth keeping
	}
	*m = outMsg{body: body}
	if len(c.tx.free) < maxPooled {
		c.tx.free = append(c.tx.free, m)
	}
}

// resolve settles m once: true when acknowledged, false when it failed.
// Callbacks are collected and run later by runCallbacks.
func (c *Conn) resolve(m *outMsg, ok bool) {
	if m.done {
		return
	}
	m.done = true
	if m.typ == protocol.TypeDisconnect && ok {
		c.closing.closeAcked = true
	}
	if g := m.group; g != nil {
		switch {
		case g.failed:
		case !ok:
			g.failed = true
			if g.cb != nil {
				c.tx.callbacks = append(c.tx.callbacks, callback{g.cb, false})
			}
		default:
			g.left--
			if g.left == 0 && g.cb != nil {
				c.tx.callbacks = append(c.tx.callbacks, callback{g.cb, true})
			}
		}
		return
	}
	if m.cb != nil {
		c.tx.callbacks = append(c.tx.callbacks, callback{m.cb, ok})
	}
}

// enqueue puts m in the send queue, charging it first if Send did not.
func (c *Conn) enqueue(m *outMsg) {
	if m.charged == 0 {
		c.charge(msgCost(len(m.body)))
		c.track(m)
	}
	m.queued = true
	c.tx.queue.push(m)
	c.mem.queuedBytes += len(m.body)
}

// track records m, whose cost is charged, among the messages alive.
func (c *Conn) track(m *outMsg) {
	m.charged = msgCost(len(m.body))
	c.mem.sendHeld += m.charged
	c.mem.liveMsgs++
}

// Send queues msg for the peer. Messages longer than
// protocol.MaxSingleMessage are split into fragments and reassembled by the
// peer. cb, when not nil, is called exactly once: with true when the peer
// acknowledged the message (every fragment of it), with false when it
// timed out (RetryNone, RetryBestEffort) or the connection closed first.
// Send copies msg and never blocks; the next Poll sends it.
//
// A client may queue messages while it is still connecting; they go out
// after the handshake. A server-side connection accepts messages only once
// connected.
func (c *Conn) Send(msg []byte, retry conn.RetryMode, cb func(ok bool)) error {
	switch {
	case c.status == conn.Connected:
	case c.status == conn.Connecting && c.role == RoleClient:
	default:
		return fmt.Errorf("%w (%s)", conn.ErrNotConnected, c.status)
	}
	if !retry.Valid() {
		return fmt.Errorf("%w: %d", conn.ErrRetryMode, retry)
	}
	if len(msg) > c.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", conn.ErrMessageTooLarge, len(msg), c.cfg.MaxMessageSize)
	}
	count := 1
	if protocol.NeedsFragments(len(msg)) {
		n, err := protocol.FragmentCount(len(msg))
		if err != nil {
			return fmt.Errorf("%w: %w", conn.ErrMessageTooLarge, err)
		}
		count = n
	}
	cost := msgCost(len(msg))
	if count > 1 {
		cost = len(msg) + count*msgCost(protocol.FragmentHeaderSize)
	}
	// The refusals below allocate nothing: a game answering a flood of
	// requests may meet them once per request.
	if c.mem.liveMsgs+count > c.cfg.MaxQueuedMessages || c.mem.sendHeld+cost > c.cfg.MaxQueuedBytes {
		return conn.ErrQueueFull
	}
	if err := c.reserve(cost); err != nil {
		if c.mem.overBudget {
			c.mem.overBudget = false
			c.fail(conn.ErrOverBudget)
		}
		return err
	}
	c.stats.Sent++
	if count == 1 {
		m := c.newMsg(protocol.TypeApp, msg, retry, cb)
		c.track(m)
		c.enqueue(m)
		return nil
	}
	c.seq.fragID = c.seq.fragID.Next()
	g := &fragGroup{cb: cb, left: count}
	for i := 1; i <= count; i++ {
		m := c.newMsg(protocol.TypeAppFragment, nil, retry, nil)
		m.body = protocol.AppendFragment(m.body, protocol.FragmentHeader{ID: c.seq.fragID, Index: uint16(i), Count: uint16(count)},
			protocol.FragmentData(msg, i, count))
		m.group = g
		c.track(m)
		c.enqueue(m)
	}
	return nil
}

// resendDelay is how long m waits after it was last sent before it is due
// again: the configured delay, or three one-way latencies when that is
// longer, so a slow link is not flooded with copies.
func (c *Conn) resendDelay(m *outMsg) time.Duration {
	if m.resend > 0 {
		return m.resend
	}
	return max(c.cfg.ResendDelay, 3*c.clock.latency)
}

// Poll runs the connection's timers at now and returns the next datagram to
// send, written into buf (give it capacity protocol.MaxDatagramSize to
// avoid allocation), or nil when nothing is due. It builds at most one
// datagram per call and no more than one per send interval.
func (c *Conn) Poll(now time.Time, buf []byte) []byte {
	c.tick(now)
	var dg []byte
	if c.canSend(now) {
		dg = c.build(now, buf)
	}
	c.runCallbacks()
	return dg
}

func (c *Conn) canSend(now time.Time) bool {
	if c.status.Closed() {
		return false
	}
	if c.clock.lastSend.IsZero() {
		return true
	}
	// A little slack so that a loop ticking at the send interval sends on
	// every tick despite timer jitter.
	return now.Sub(c.clock.lastSend) >= c.cfg.SendInterval-c.cfg.SendInterval/8
}

// tick runs the timers: ack timeouts, fragment expiry, handshake and
// connection timeouts, the close handshake, and the latency series.
func (c *Conn) tick(now time.Time) {
	if c.status.Closed() {
		return
	}
	if c.tx.inflight.n > 0 && !now.Before(c.tx.timeoutAt) {
		for c.tx.inflight.n > 0 {
			p := c.tx.inflight.front()
			if !p.done {
				if now.Sub(p.sentAt) < c.cfg.MessageTimeout {
					break
				}
				c.timeoutPacket(p)
			}
			c.tx.inflight.pop()
		}
		c.frontChanged()
	}
	if now.Sub(c.clock.lastExpire) >= expireEvery {
		c.rx.reasm.Expire(now)
		c.clock.lastExpire = now
	}
	switch c.status {
	case conn.Connecting:
		since := c.clock.created
		if c.role == RoleServer {
			since = c.clock.lastRecv
		}
		if now.Sub(since) > c.cfg.HandshakeTimeout {
			reason := conn.ErrHandshakeTimeout
			if c.sess.helloErr != nil {
				reason = fmt.Errorf("%w: %w", conn.ErrHandshakeTimeout, c.sess.helloErr)
			}
			c.close(conn.Disconnected, reason)
		}
	case conn.Connected:
		if now.Sub(c.clock.lastRecv) > c.cfg.ConnectionTimeout {
			c.close(conn.Dropped, conn.ErrTimeout)
		}
	case conn.Disconnecting:
		switch {
		case c.closing.localClose && (c.closing.closeAcked || c.closing.peerClose):
			c.close(conn.Disconnected, conn.ErrLocalClose)
		case now.Sub(c.clock.closeStart) >= c.cfg.DisconnectTimeout:
			reason := c.reason
			if c.closing.localClose {
				reason = conn.ErrCloseTimeout
			}
			c.close(conn.Disconnected, reason)
		}
	}
}

// untracked reports whether m is sent once with nobody to tell whether it
// arrived: an application message with RetryNone and no callback.
func untracked(m *outMsg) bool {
	if m.retry != conn.RetryNone || m.cb != nil || (m.group != nil && m.group.cb != nil) {
		return false
	}
	return m.typ == protocol.TypeApp || m.typ == protocol.TypeAppFragment
}

// frontChanged notes when the oldest packet in flight times out, so that
// tick looks at the packets in flight only then (their ring is one more
// cache line per connection and tick).
func (c *Conn) frontChanged() {
	if c.tx.inflight.n > 0 {
		c.tx.timeoutAt = c.tx.inflight.front().sentAt.Add(c.cfg.MessageTimeout)
	}
}

// popAcked drops acknowledged packets from the front of the ring.
func (c *Conn) popAcked() {
	popped := false
	for c.tx.inflight.n > 0 && c.tx.inflight.front().done {
		c.tx.inflight.pop()
		popped = true
	}
	if popped {
		c.frontChanged()
	}
}

// keepAliveDue reports whether a KEEP_ALIVE should go out: after the
// keep-alive interval of silence, when a packet with messages waits for its
// ack longer than the ack delay, or when many packets wait for acks.
func (c *Conn) keepAliveDue(now time.Time) bool {
	return c.clock.lastSend.IsZero() ||
		now.Sub(c.clock.lastSend) >= c.cfg.KeepAliveInterval ||
		(!c.clock.ackDue.IsZero() && !now.Before(c.clock.ackDue)) ||
		c.clock.unacked >= ackPressure
}

// timeoutPacket settles a packet that was never acknowledged.
func (c *Conn) timeoutPacket(p *sentPacket) {
	c.stats.Timeouts++
	for _, m := range p.msgs {
		m.refs--
		if m.retry != conn.RetryOnTimeout {
			c.resolve(m, false)
		}
		c.release(m)
	}
	p.done = true
	clear(p.msgs) // no stale pointers keeping messages alive
	p.msgs = p.msgs[:0]
}

// ackPacket settles a packet the peer acknowledged.
func (c *Conn) ackPacket(now time.Time, p *sentPacket) {
	c.stats.Acked++
	rtt := now.Sub(p.sentAt)
	c.clock.latency += (rtt/2 - c.clock.latency) / 10
	for _, m := range p.msgs {
		m.refs--
		c.resolve(m, true)
		c.release(m)
	}
	p.done = true
	clear(p.msgs) // no stale pointers keeping messages alive
	p.msgs = p.msgs[:0]
}

// compactRetrying drops resolved messages from the resend list, keeping
// the rest in message seq order.
func (c *Conn) compactRetrying() {
	w := 0
	for _, m := range c.tx.retrying {
		if m.done {
			m.retrying = false
			c.release(m)
			continue
		}
		c.tx.retrying[w] = m
		w++
	}
	clear(c.tx.retrying[w:])
	c.tx.retrying = c.tx.retrying[:w]
}

// build packs the next packet: first resends that are due (oldest message
// first), then queued messages in order, stepping over those that do not
// fit; a KEEP_ALIVE when there is nothing to send and one is due.
func (c *Conn) build(now time.Time, buf []byte) []byte {
	if c.tx.inflight.n >= maxInFlight {
		return nil // far more packets unacknowledged than any timeout allows
	}
	ctime := uint32(now.Unix())
	if ctime < c.seq.ctime {
		ctime = c.seq.ctime // keep the nonce's clock monotonic
	}
	if ctime == c.seq.ctime && c.seq.ctimeCount >= maxPacketsPerSecond {
		return nil // the peer's anti-replay window relies on this bound
	}
	c.compactRetrying()
	sel := c.tx.sel[:0]
	size := 0
	keyed := c.sess.aead != nil
	exclusive := false // a hello travels alone
	fits := func(m *outMsg) bool {
		if exclusive || len(sel) == protocol.MaxMessagesPerPacket {
			return false
		}
		if m.typ.UsesCRC() {
			return len(sel) == 0
		}
		if !keyed {
			return false
		}
		return size+len(m.body)+protocol.Overhead(len(sel)+1) <= protocol.MaxPayloadSize
	}
	take := func(m *outMsg) {
		sel = append(sel, m)
		size += len(m.body)
		exclusive = exclusive || m.typ.UsesCRC()
	}
	for _, m := range c.tx.retrying {
		if now.Sub(m.lastSent) >= c.resendDelay(m) && fits(m) {
			take(m)
		}
	}
	// New message seqs must stay within msgSeqSpan of the oldest message
	// still being resent.
	canNumber := len(c.tx.retrying) == 0 || c.seq.msgSeq.Next().Diff(c.tx.retrying[0].seq) < msgSeqSpan
	skips := 0
	for i := c.tx.queue.head; i < len(c.tx.queue.items) && skips < maxScanSkips && !exclusive; i++ {
		m := c.tx.queue.items[i]
		if m == nil {
			continue
		}
		if (m.seq == 0 && !canNumber) || !fits(m) {
			skips++
			continue
		}
		c.tx.queue.remove(i)
		m.queued = false
		c.mem.queuedBytes -= len(m.body)
		take(m)
		if size+protocol.Overhead(len(sel)+1) >= protocol.MaxPayloadSize {
			break
		}
	}
	c.tx.queue.compact()
	c.tx.sel = sel
	if len(sel) == 0 {
		if c.status != conn.Connected || !c.keepAliveDue(now) {
			return nil
		}
	}
	return c.encode(now, ctime, buf, sel)
}

// encode numbers, frames and protects the selected messages as the next
// packet and records it in flight.
func (c *Conn) encode(now time.Time, ctime uint32, buf []byte, sel []*outMsg) []byte {
	c.seq.pktSeq = c.seq.pktSeq.Next()
	if ctime != c.seq.ctime {
		c.seq.ctime, c.seq.ctimeCount = ctime, 0
	}
	c.seq.ctimeCount++

	msgs := c.tx.scratch[:0]
	resent := 0
	for _, m := range sel {
		if m.seq == 0 {
			c.seq.msgSeq = c.seq.msgSeq.Next()
			m.seq = c.seq.msgSeq
			if m.retry != conn.RetryNone && !m.retrying {
				m.retrying = true
				c.tx.retrying = append(c.tx.retrying, m)
			}
		} else if !m.lastSent.IsZero() {
			resent++
		}
		m.lastSent = now
		m.refs++
		msgs = append(msgs, protocol.Message{Seq: m.seq, Type: m.typ, Body: m.body})
	}
	h := protocol.Header{
		Direction: c.out,
		CTime:     ctime,
		Seq:       c.seq.pktSeq,
		Ack:       c.seq.replay.Current(),
		AckBits:   c.seq.replay.AckBits(),
		Type:      protocol.HeaderType(msgs),
		Count:     uint8(len(msgs)),
	}
	b := buf[:0]
	b = append(b, make([]byte, protocol.HeaderSize)...)
	b, err := protocol.AppendPayload(b, msgs)
	if err != nil {
		panic("conn: packed an unencodable payload: " + err.Error()) // build never selects one
	}
	clear(msgs)
	c.tx.scratch = msgs[:0]
	n := len(b) - protocol.HeaderSize
	h.Length = uint16(n)
	h.Put(b)
	if h.Type.UsesCRC() {
		b = crypto.AppendCRC(b)
	} else {
		b = slices.Grow(b, protocol.TagSize)
		b = b[:protocol.HeaderSize+len(c.sess.aead.Seal(b[protocol.HeaderSize:protocol.HeaderSize], b[:protocol.HeaderSize], b[protocol.HeaderSize:]))]
	}

	p := c.tx.inflight.push()
	p.seq, p.sentAt, p.done = c.seq.pktSeq, now, false
	if c.tx.inflight.n == 1 {
		c.frontChanged()
	}
	p.msgs = p.msgs[:0] // pop cleared it
	for _, m := range sel {
		if untracked(m) {
			// Nothing waits for its ack: settle it now, so that acks and
			// timeouts never touch it again.
			m.refs--
			m.done = true
			c.release(m)
			continue
		}
		p.msgs = append(p.msgs, m)
	}
	clear(sel)

	c.stats.Assembled++
	c.stats.Resent += uint64(resent)
	c.stats.BytesSent += uint64(len(b))
	c.clock.lastSend = now
	c.clock.unacked = 0
	c.clock.ackDue = time.Time{}
	if c.status == conn.Disconnecting && h.Type == protocol.TypeDisconnect {
		switch {
		case c.closing.closeOnSend:
			c.close(conn.Disconnected, c.reason)
		case c.closing.peerClose:
			// The reply to the peer's DISCONNECT is out: nothing more to do.
			c.close(conn.Disconnected, conn.ErrPeerClosed)
		}
	}
	return b
}

// msgQueue is a FIFO of messages with removal from the middle: removed
// slots are set to nil and skipped, and compact reclaims them.
type msgQueue struct {
	items []*outMsg
	head  int
}

func (q *msgQueue) push(m *outMsg) { q.items = append(q.items, m) }

// remove takes the message at index i out of the queue. Indexes stay valid
// until compact.
func (q *msgQueue) remove(i int) {
	q.items[i] = nil
	for q.head < len(q.items) && q.items[q.head] == nil {
		q.head++
	}
}

// compact reclaims removed slots at the front.
func (q *msgQueue) compact() {
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head > 64 && q.head > len(q.items)/2:
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// pop removes and returns the first message, or nil.
func (q *msgQueue) pop() *outMsg {
	for q.head < len(q.items) {
		m := q.items[q.head]
		q.remove(q.head)
		if m != nil {
			return m
		}
	}
	q.compact()
	return nil
}

// sentPacket is a packet awaiting its ack.
type sentPacket struct {
	seq    protocol.Seq
	done   bool
	sentAt time.Time
	msgs   []*outMsg
}

// packetRing holds the packets in flight in send order; their seqs are
// consecutive, so the packet for a seq is found by its distance from the
// front.
type packetRing struct {
	buf  []sentPacket
	head int
	n    int
}

func (r *packetRing) at(i int) *sentPacket { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *packetRing) front() *sentPacket { return &r.buf[r.head] }

func (r *packetRing) push() *sentPacket {
	if r.n == len(r.buf) {
		nb := make([]sentPacket, max(4, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = *r.at(i)
		}
		r.buf, r.head = nb, 0
	}
	p := r.at(r.n)
	r.n++
	return p
}

func (r *packetRing) pop() {
	p := &r.buf[r.head]
	clear(p.msgs) // no stale pointers keeping messages alive
	p.msgs = p.msgs[:0]
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n--
}
