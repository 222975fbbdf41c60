package session

import (
	"fmt"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/cc"
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
	charged  int    // bytes charged for it while it is alive
	gen      uint32 // how many times this outMsg was reused: tells stale resend entries
	refs     int32  // packets in flight carrying it
	bulk     bool   // a fragment or an ordered chunk: sent as the window allows
	queued   bool   // in the send queue
	retrying bool   // in the resend list
	done     bool   // resolved
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
	*m = outMsg{body: body, gen: m.gen + 1}
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
	c.queueOf(m).push(m)
	c.mem.queuedBytes += len(m.body)
}

// queueOf returns the send queue m waits in: small messages go ahead of
// bulk (fragments and ordered chunks), which the congestion window paces.
func (c *Conn) queueOf(m *outMsg) *msgQueue {
	if m.bulk {
		return &c.tx.bulk
	}
	return &c.tx.small
}

// resendsOf returns the resend queue of m's class.
func (c *Conn) resendsOf(m *outMsg) *resendQueue {
	if m.bulk {
		return &c.tx.resendBulk
	}
	return &c.tx.resendSmall
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
	if err := c.admitSend(count, cost, 0); err != nil {
		return err
	}
	c.counts.sent++
	if count == 1 && c.sendInline(msg, retry, cb, cost) {
		return nil
	}
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
		m.bulk = true
		c.track(m)
		c.enqueue(m)
	}
	return nil
}

// admitSend reserves cost bytes for count more messages, or refuses them
// with ErrQueueFull (the connection's limits, with extra bytes held
// elsewhere) or the budget's error. The refusals allocate nothing: a game
// answering a flood of requests may meet them once per request.
func (c *Conn) admitSend(count, cost, extra int) error {
	if c.mem.liveMsgs+count > c.cfg.MaxQueuedMessages || c.mem.sendHeld+extra+cost > c.cfg.MaxQueuedBytes {
		return conn.ErrQueueFull
	}
	if err := c.reserve(cost); err != nil {
		if c.mem.overBudget {
			c.mem.overBudget = false
			c.fail(conn.ErrOverBudget)
		}
		return err
	}
	return nil
}

// queueFirst puts m, which the connection itself sends, at the front of
// the small queue, charged without refusal.
func (c *Conn) queueFirst(m *outMsg) {
	c.charge(msgCost(len(m.body)))
	c.track(m)
	c.tx.small.items = append([]*outMsg{m}, c.tx.small.items[c.tx.small.head:]...)
	c.tx.small.head = 0
	m.queued = true
	c.mem.queuedBytes += len(m.body)
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
// avoid allocation), or nil when nothing is due.
//
// The first datagram of each send interval carries the small messages
// waiting, then bulk (fragments, ordered chunks) as the congestion window
// allows, or a KEEP_ALIVE when one is due. Calling Poll again in the same
// interval returns more datagrams while the congestion window and the
// queues allow, and an ack when many packets arrived unacknowledged: a
// sender loops until nil (or until its share of the tick is spent).
func (c *Conn) Poll(now time.Time, buf []byte) []byte {
	c.clock.now = c.instant(now)
	c.tick(now)
	var dg []byte
	switch {
	case c.status.Closed():
	case c.canSend():
		if dg = c.build(now, buf, false); dg != nil {
			c.clock.lastBase, c.clock.burst = c.clock.now, 1
		}
	case c.status == conn.Connected && c.clock.burst < c.burstLimit():
		if dg = c.build(now, buf, true); dg != nil {
			c.clock.burst++
		}
	}
	c.runCallbacks()
	return dg
}

// burstLimit is the most datagrams per send interval: one to a client that
// may be the reference, whose update reads one datagram a frame (more
// would queue in its socket: SPEC §14); Config.PacketsPerInterval, or as
// many as the window allows, otherwise.
func (c *Conn) burstLimit() int {
	switch {
	case c.role == RoleServer && !c.peer.ext:
		return 1
	case c.cfg.PacketsPerInterval > 0:
		return c.cfg.PacketsPerInterval
	}
	return maxInFlight
}

// AckNeeded reports whether so many packets arrived since the last one
// sent that an ack should go out now (PollAck), before the ack field can
// no longer report them all.
func (c *Conn) AckNeeded() bool {
	return c.clock.unacked >= ackPressure && c.status == conn.Connected
}

// PollAck returns a datagram that acknowledges what arrived, carrying
// messages if the window allows, when AckNeeded; nil otherwise. Unlike
// Poll it never takes the send interval's first datagram, and it runs no
// timers: a receive loop calls it between datagrams.
func (c *Conn) PollAck(now time.Time, buf []byte) []byte {
	if !c.AckNeeded() {
		return nil
	}
	c.clock.now = c.instant(now)
	dg := c.build(now, buf, true)
	c.runCallbacks()
	return dg
}

// WantsToSend reports whether another Poll in this send interval could
// return a datagram with messages: some wait and the window has room.
func (c *Conn) WantsToSend() bool {
	if c.status != conn.Connected || !c.cc.CanSend() || c.clock.burst >= c.burstLimit() {
		return false
	}
	return c.tx.inline.n > 0 || c.tx.small.len() > 0 || c.tx.bulk.len() > 0 || c.tx.resendSmall.n > 0 || c.tx.resendBulk.n > 0
}

func (c *Conn) canSend() bool {
	if c.status.Closed() {
		return false
	}
	// A little slack so that a loop ticking at the send interval sends on
	// every tick despite timer jitter.
	return c.clock.now.sub(c.clock.lastBase) >= c.cfg.SendInterval-c.cfg.SendInterval/8
}

// tick runs the timers: ack timeouts, fragment expiry, handshake and
// connection timeouts, the close handshake, and the latency series.
func (c *Conn) tick(now time.Time) {
	if c.status.Closed() {
		return
	}
	n := c.clock.now
	if c.tx.inflight.n > 0 && n >= c.tx.timeoutAt {
		for c.tx.inflight.n > 0 {
			p := c.tx.inflight.front()
			if !p.done {
				if n.sub(instant(p.cc.Since())) < c.cfg.MessageTimeout {
					break
				}
				c.timeoutPacket(p)
			}
			c.tx.inflight.pop()
		}
		c.frontChanged()
	}
	if n.sub(c.clock.lastExpire) >= expireEvery {
		c.rx.reasm.Expire(now)
		c.clock.lastExpire = n
	}
	switch c.status {
	case conn.Connecting:
		since := c.sess.helloFrom // created, or StartHandshake
		if c.role == RoleServer {
			since = c.clock.lastRecv
		}
		if n.sub(since) > c.cfg.HandshakeTimeout {
			reason := conn.ErrHandshakeTimeout
			if c.sess.helloErr != nil {
				reason = fmt.Errorf("%w: %w", conn.ErrHandshakeTimeout, c.sess.helloErr)
			}
			c.close(conn.Disconnected, reason)
		}
	case conn.Connected:
		if n.sub(c.clock.lastRecv) > c.cfg.ConnectionTimeout {
			c.close(conn.Dropped, conn.ErrTimeout)
		}
	case conn.Disconnecting:
		switch {
		case c.closing.localClose && (c.closing.closeAcked || c.closing.peerClose):
			c.close(conn.Disconnected, conn.ErrLocalClose)
		case n.sub(c.clock.closeStart) >= c.cfg.DisconnectTimeout:
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
		c.tx.timeoutAt = instant(c.tx.inflight.front().cc.Since()).add(c.cfg.MessageTimeout)
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

// keepAliveEvery is the silence after which a KEEP_ALIVE goes out: the
// keep-alive interval while messages of this end wait for their acks or
// to be sent, the idle interval otherwise.
func (c *Conn) keepAliveEvery() time.Duration {
	if len(c.tx.retrying) > 0 || c.tx.inline.n > 0 || c.tx.small.len() > 0 || c.tx.bulk.len() > 0 {
		return c.cfg.KeepAliveInterval
	}
	return c.cfg.IdleKeepAliveInterval
}

// keepAliveDue reports whether a KEEP_ALIVE should go out: after the
// keep-alive interval of silence, when a packet with messages waits for its
// ack longer than the ack delay, or when many packets wait for acks.
func (c *Conn) keepAliveDue() bool {
	n := c.clock.now
	return c.clock.lastSend == never ||
		n.sub(c.clock.lastSend) >= c.keepAliveEvery() ||
		(c.clock.ackDue != never && n >= c.clock.ackDue) ||
		c.clock.unacked >= ackPressure
}

// timeoutPacket settles a packet that was never acknowledged.
func (c *Conn) timeoutPacket(p *sentPacket) {
	c.stats.Timeouts++
	c.cc.OnLost(&p.cc)
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
func (c *Conn) ackPacket(p *sentPacket) {
	n := c.clock.now
	c.counts.acked++
	rtt := n.sub(instant(p.cc.Since()))
	c.cc.OnAckAt(time.Duration(n), &p.cc)
	switch {
	case p.lazy: // its ack waited on purpose
	case p.bare:
		// A bare keep-alive arms no ack delay: its ack comes with the
		// peer's next packet, up to its idle keep-alive interval later.
	case n.sub(c.clock.sampledAt) >= eagerEvery/2:
		// Samples are sparse (a client whose packets are lazy): each
		// counts for more.
		c.clock.latency += (rtt/2 - c.clock.latency) / 2
		c.clock.sampledAt = n
	default:
		c.clock.latency += (rtt/2 - c.clock.latency) / 10
		c.clock.sampledAt = n
	}
	for _, m := range p.msgs {
		m.refs--
		c.resolve(m, true)
		c.release(m)
	}
	p.done = true
	clear(p.msgs) // no stale pointers keeping messages alive
	p.msgs = p.msgs[:0]
}

// trimRetrying drops resolved messages from the resend list, keeping the
// rest in message seq order: those at its front at once (the front is the
// oldest message seq still waiting, which bounds new seqs), the others
// once the list has doubled since the last sweep, so that the work stays
// constant per packet however many messages wait.
func (c *Conn) trimRetrying() {
	r := c.tx.retrying
	if len(r) == 0 {
		return
	}
	i := 0
	for i < len(r) && r[i].done {
		r[i].retrying = false
		c.release(r[i])
		i++
	}
	if i > 0 {
		n := copy(r, r[i:])
		clear(r[n:])
		r = r[:n]
	}
	if len(r) >= c.tx.sweepAt {
		w := 0
		for _, m := range r {
			if m.done {
				m.retrying = false
				c.release(m)
				continue
			}
			r[w] = m
			w++
		}
		clear(r[w:])
		r = r[:w]
		c.tx.sweepAt = 2*w + 64
	}
	c.tx.retrying = r
}

// span is how far new message seqs may run ahead of the oldest one still
// waiting for its ack: within the reference's 256-message duplicate filter,
// or ours when the peer is ours.
func (c *Conn) span() int {
	if c.peer.ext {
		return wideSpan
	}
	return msgSeqSpan
}

// build packs the next packet: small messages (resends that are due first,
// then new ones, stepping over those that do not fit), then, while the
// congestion window allows, bulk the same way; a KEEP_ALIVE when there is
// nothing to send and one is due. An extra packet (not the send interval's
// first) carries messages only while the window allows, and is otherwise
// only an ack when one is needed.
func (c *Conn) build(now time.Time, buf []byte, extra bool) []byte {
	if c.tx.inflight.n >= maxInFlight {
		return nil // far more packets unacknowledged than any timeout allows
	}
	window := c.cc.CanSend()
	if extra && !window && c.clock.unacked < ackPressure {
		return nil
	}
	ctime := uint32(now.Unix())
	if ctime < c.seq.ctime {
		ctime = c.seq.ctime // keep the nonce's clock monotonic
	}
	if ctime == c.seq.ctime && c.seq.ctimeCount >= maxPacketsPerSecond {
		return nil // the peer's anti-replay window relies on this bound
	}
	c.trimRetrying()
	b := packer{c: c, sel: c.tx.sel[:0], keyed: c.aead != nil}
	// New message seqs must stay within the span of the oldest message
	// still being resent.
	b.canNumber = len(c.tx.retrying) == 0 || c.seq.msgSeq.Next().Diff(c.tx.retrying[0].seq) < c.span()
	if window || !extra {
		b.resends(now, &c.tx.resendSmall)
		b.takeInline(&c.tx.inline)
		b.fresh(&c.tx.small, maxScanSkips)
		if window {
			b.resends(now, &c.tx.resendBulk)
			b.fresh(&c.tx.bulk, 0)
		}
	}
	if c.role == RoleClient && c.peer.lazy && b.lazyRoom() && onlyUnreliable(b.sel) {
		if c.clock.now.sub(c.clock.eagerAt) < eagerEvery {
			m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryNone, nil)
			m.body = protocol.AppendLazy(m.body)
			b.take(m)
			c.tx.lazyNext = true
		} else {
			// One packet a second goes without a marker: its prompt ack
			// keeps the latency estimate alive.
			c.clock.eagerAt = c.clock.now
		}
	}
	sel := b.sel
	c.tx.sel = sel
	if len(sel) == 0 && b.inl.n == 0 {
		switch {
		case c.status != conn.Connected:
			return nil
		case extra && c.clock.unacked < ackPressure:
			return nil
		case !extra && !c.keepAliveDue():
			if window && c.tx.inline.n == 0 && c.tx.small.len() == 0 && c.tx.bulk.len() == 0 {
				c.cc.AppLimited()
			}
			return nil
		}
	}
	if window && c.tx.inline.n == b.inl.n && c.tx.small.len() == 0 && c.tx.bulk.len() == 0 {
		c.cc.AppLimited() // the window had room for more than there was
	}
	return c.encode(now, ctime, buf, sel, b.inl)
}

// packer selects the messages of one packet.
type packer struct {
	c         *Conn
	sel       []*outMsg
	size      int
	keyed     bool // the session key exists
	exclusive bool // a hello travels alone
	canNumber bool // new message seqs may be given
	inl       inlineTaken
}

// count is the number of messages taken.
func (b *packer) count() int { return len(b.sel) + b.inl.n }

// eagerEvery is how often a client that marks its unreliable packets lazy
// sends one without, for a round-trip sample.
const eagerEvery = time.Second

// lazyRoom reports whether a lazy marker fits beside the messages taken.
func (b *packer) lazyRoom() bool {
	return b.count() > 0 && !b.exclusive && b.keyed && b.count() < protocol.MaxMessagesPerPacket &&
		b.size+1+protocol.Overhead(b.count()+1) <= protocol.MaxPayloadSize
}

// onlyUnreliable reports whether every message is an unreliable app
// message that no callback waits for: nothing the peer's prompt ack helps.
func onlyUnreliable(sel []*outMsg) bool {
	for _, m := range sel {
		if m.typ != protocol.TypeApp || m.retry != conn.RetryNone || m.cb != nil {
			return false
		}
	}
	return true
}

func (b *packer) full() bool {
	return b.exclusive || b.count() == protocol.MaxMessagesPerPacket ||
		b.size+protocol.Overhead(b.count()+1) >= protocol.MaxPayloadSize
}

func (b *packer) fits(m *outMsg) bool {
	if b.exclusive || b.count() == protocol.MaxMessagesPerPacket {
		return false
	}
	if m.typ.UsesCRC() {
		return b.count() == 0
	}
	if !b.keyed {
		return false
	}
	return b.size+len(m.body)+protocol.Overhead(b.count()+1) <= protocol.MaxPayloadSize
}

func (b *packer) take(m *outMsg) {
	b.sel = append(b.sel, m)
	b.size += len(m.body)
	b.exclusive = b.exclusive || m.typ.UsesCRC()
}

// resends takes the messages of q that are due, oldest send first: those
// of a packet found lost at once, the others once their resend delay has
// passed since they were last sent.
func (b *packer) resends(now time.Time, q *resendQueue) {
	for q.n > 0 && !b.full() {
		e := q.front()
		m := e.m
		if m.gen != e.gen || m.done || !m.retrying || !m.lastSent.Equal(e.at) {
			q.popFront() // resent or settled since
			continue
		}
		if !e.lost && now.Sub(e.at) < b.c.resendDelay(m) {
			return
		}
		if !b.fits(m) {
			return
		}
		q.popFront()
		b.take(m)
	}
}

// fresh takes queued messages in order, stepping over at most skips that
// do not fit.
func (b *packer) fresh(q *msgQueue, skips int) {
	c := b.c
	for i := q.head; i < len(q.items) && !b.full(); i++ {
		m := q.items[i]
		if m == nil {
			continue
		}
		if (m.seq == 0 && !b.canNumber) || !b.fits(m) {
			if skips--; skips < 0 {
				break
			}
			continue
		}
		q.remove(i)
		m.queued = false
		c.mem.queuedBytes -= len(m.body)
		b.take(m)
	}
	q.compact()
}

// encode numbers, frames and protects the selected messages as the next
// packet and records it in flight.
func (c *Conn) encode(now time.Time, ctime uint32, buf []byte, sel []*outMsg, inl inlineTaken) []byte {
	c.seq.pktSeq = c.seq.pktSeq.Next()
	if ctime != c.seq.ctime {
		c.seq.ctime, c.seq.ctimeCount = ctime, 0
	}
	c.seq.ctimeCount++

	msgs := c.appendInline(c.tx.scratch[:0], inl)
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
		if m.retrying {
			c.resendsOf(m).pushBack(resendEntry{m: m, gen: m.gen, at: now})
		}
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
	if inl.n > 0 {
		c.dropInline(inl.n, inl.end) // their bodies are in the packet
	}
	bare := len(msgs) == 0
	clear(msgs)
	c.tx.scratch = msgs[:0]
	n := len(b) - protocol.HeaderSize
	h.Length = uint16(n)
	h.Put(b)
	if h.Type.UsesCRC() {
		b = crypto.AppendCRC(b)
	} else {
		b = slices.Grow(b, protocol.TagSize)
		b = b[:protocol.HeaderSize+len(c.aead.Seal(b[protocol.HeaderSize:protocol.HeaderSize], b[:protocol.HeaderSize], b[protocol.HeaderSize:]))]
		b = c.appendTrailer(b)
	}

	p := c.tx.inflight.push()
	p.seq, p.done, p.lazy, p.bare = c.seq.pktSeq, false, c.tx.lazyNext, bare
	c.tx.lazyNext = false
	c.cc.OnSentAt(time.Duration(c.clock.now), &p.cc, len(b))
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

	c.counts.assembled++
	c.counts.resent += uint64(resent)
	c.counts.bytesSent += uint64(len(b))
	c.clock.lastSend = c.clock.now
	c.clock.unacked = 0
	c.clock.ackDue = never
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

// len returns the slots from the head: the messages queued, and removed
// slots not yet compacted.
func (q *msgQueue) len() int { return len(q.items) - q.head }

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
	seq  protocol.Seq
	done bool
	lazy bool // it carried a lazy marker
	bare bool // a KEEP_ALIVE without messages: its ack waits for the peer's own pace
	msgs []*outMsg
	cc   cc.Packet // its size and send time, for the congestion window
}

// packetRing holds the packets in flight in send order; their seqs are
// consecutive, so the packet for a seq is found by its distance from the
// front.
type packetRing struct {
	buf     []sentPacket
	head    int
	n       int
	scanned int // packets from the front already looked at for losses
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
	r.scanned = max(r.scanned-1, 0)
}

// resendEntry is a message waiting to be resent, as it was when queued: a
// later send, its settling or its reuse make the entry stale.
type resendEntry struct {
	m    *outMsg
	gen  uint32
	at   time.Time // when it was sent
	lost bool      // its packet was found lost: due at once
}

// resendQueue holds resend entries in the order they fall due: sends are
// pushed at the back, packets found lost at the front.
type resendQueue struct {
	buf  []resendEntry
	head int32
	n    int32
}

func (q *resendQueue) grow() {
	nb := make([]resendEntry, max(4, 2*len(q.buf)))
	for i := range int(q.n) {
		nb[i] = q.buf[(int(q.head)+i)%len(q.buf)]
	}
	q.buf, q.head = nb, 0
}

func (q *resendQueue) pushBack(e resendEntry) {
	if int(q.n) == len(q.buf) {
		q.grow()
	}
	q.buf[(int(q.head)+int(q.n))%len(q.buf)] = e
	q.n++
}

func (q *resendQueue) pushFront(e resendEntry) {
	if int(q.n) == len(q.buf) {
		q.grow()
	}
	q.head = int32((int(q.head) - 1 + len(q.buf)) % len(q.buf))
	q.buf[q.head] = e
	q.n++
}

func (q *resendQueue) front() *resendEntry { return &q.buf[q.head] }

func (q *resendQueue) popFront() {
	q.buf[q.head] = resendEntry{}
	q.head = int32((int(q.head) + 1) % len(q.buf))
	if q.n--; q.n == 0 {
		q.buf, q.head = nil, 0 // most connections resend rarely: hold nothing
	}
}

// reset forgets every entry.
func (q *resendQueue) reset() {
	clear(q.buf)
	q.head, q.n = 0, 0
}

// NextDue returns when the connection next needs Poll if nothing happens
// to it meanwhile: a datagram received, a message queued, a disconnect
// asked. A server polls only the connections that are due or had
// something happen, not all of them every tick. The time is never later
// than the connection's needs (a due resend, ack, keep-alive, timeout)
// and may be earlier; the zero time means as soon as possible.
func (c *Conn) NextDue() time.Time { return c.timeOf(c.nextDue()) }

// DueIn returns how long after its last Receive or Poll the connection
// next needs Poll, as NextDue does (0: as soon as possible): a server that
// has just polled it need not convert times to schedule it.
func (c *Conn) DueIn() time.Duration {
	due := c.nextDue()
	if due == never {
		return 0
	}
	return due.sub(c.clock.now)
}

// nextDue is NextDue as an instant (never: as soon as possible).
func (c *Conn) nextDue() instant {
	if c.status != conn.Connected {
		return never // handshakes and closes: every tick until done
	}
	if c.clock.unacked >= ackPressure {
		return never
	}
	base := c.clock.lastBase.add(c.cfg.SendInterval - c.cfg.SendInterval/8)
	if c.tx.inline.n > 0 || c.tx.small.len() > 0 || (c.tx.bulk.len() > 0 && c.cc.CanSend()) {
		return base
	}
	due := c.clock.lastSend.add(c.keepAliveEvery())
	earlier := func(t instant) {
		if t < due {
			due = t
		}
	}
	if c.clock.ackDue != never {
		earlier(c.clock.ackDue)
	}
	if c.tx.inflight.n > 0 {
		earlier(c.tx.timeoutAt)
	}
	for _, q := range [...]*resendQueue{&c.tx.resendSmall, &c.tx.resendBulk} {
		if q.n == 0 {
			continue
		}
		e := q.front()
		switch {
		case e.lost:
			earlier(base)
		case e.m.gen == e.gen:
			earlier(c.instant(e.at.Add(c.resendDelay(e.m))))
		default:
			earlier(base) // stale: a Poll clears it
		}
	}
	if c.rx.reasm.Pending() > 0 {
		earlier(c.clock.lastExpire.add(expireEvery))
	}
	earlier(c.clock.lastRecv.add(c.cfg.ConnectionTimeout))
	return due
}
