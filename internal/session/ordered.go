package session

import (
	"fmt"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/ordered"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// orderedWindow is how many ordered chunks past the next one a receiver
// holds. A sender never has more chunks in flight than its message seq
// span (wideSpan), which is less.
const orderedWindow = 1024

// orderedSend is the sending half of the ordered channel.
type orderedSend struct {
	next    uint32         // ordered seq of the next chunk
	plain   []plainOrdered // waiting, while the peer is not known to be ours
	head    int            // plain[head:] wait
	inPlain bool           // a plain ordered message waits for its ack
	held    int            // bytes reserved for plain
}

// orderedRecv is the receiving half of the ordered channel.
type orderedRecv struct {
	r       ordered.Receiver
	held    int          // bytes charged for the chunks it holds
	seq     protocol.Seq // the message seq of the chunk being added
	deliver func(msg []byte)
}

// plainOrdered is an ordered message for a peer that may be the
// reference: it goes out as an ordinary guaranteed message once the one
// before it is acknowledged.
type plainOrdered struct {
	body []byte
	cb   func(bool)
	cost int
}

// SendOrdered queues msg to be delivered reliably and in order: the peer's
// handler receives the messages given to SendOrdered in the order they
// were given, each exactly once, whatever the network loses, duplicates or
// reorders. Messages sent with Send are not ordered with them and are
// never held back by them. cb, when not nil, is called exactly once, as
// for Send with RetryOnTimeout.
//
// Between two ends of this implementation each message travels at the
// window's pace with a 6-byte header in its body (an extension message
// the reference ignores); a message longer than a packet is cut into
// chunks. A peer of the reference, or one not yet known to be ours, gets
// plain guaranteed messages, one at a time: the next is sent once the one
// before it is acknowledged, which keeps them in order at one message per
// round trip.
func (c *Conn) SendOrdered(msg []byte, cb func(ok bool)) error {
	switch {
	case c.status == conn.Connected:
	case c.status == conn.Connecting && c.role == RoleClient:
	default:
		return fmt.Errorf("%w (%s)", conn.ErrNotConnected, c.status)
	}
	if len(msg) > c.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", conn.ErrMessageTooLarge, len(msg), c.cfg.MaxMessageSize)
	}
	if c.tx.ord == nil {
		c.tx.ord = &orderedSend{}
	}
	o := c.tx.ord
	if c.peer.ext && !o.inPlain && o.head == len(o.plain) {
		return c.sendChunks(msg, cb)
	}
	cost := msgCost(len(msg))
	if err := c.admitSend(len(o.plain)-o.head+1, cost, o.held); err != nil {
		return err
	}
	o.held += cost
	o.plain = append(o.plain, plainOrdered{body: append([]byte(nil), msg...), cb: cb, cost: cost})
	c.pumpOrdered()
	return nil
}

// sendChunks queues msg as ordered chunks, bulk, so that they leave in
// order.
func (c *Conn) sendChunks(msg []byte, cb func(bool)) error {
	count := max(1, (len(msg)+protocol.MaxOrderedChunk-1)/protocol.MaxOrderedChunk)
	cost := len(msg) + count*msgCost(protocol.OrderedHeaderSize)
	if err := c.admitSend(count, cost, 0); err != nil {
		return err
	}
	c.counts.sent++
	var g *fragGroup
	if count > 1 {
		g = &fragGroup{cb: cb, left: count}
	}
	for i := 0; i < count; i++ {
		data := msg[min(i*protocol.MaxOrderedChunk, len(msg)):min((i+1)*protocol.MaxOrderedChunk, len(msg))]
		m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryOnTimeout, nil)
		m.body = protocol.AppendOrdered(m.body, protocol.Ordered{Seq: c.tx.ord.next, Final: i == count-1, Data: data})

		c.tx.ord.next++
		if g != nil {
			m.group = g
		} else {
			m.cb = cb
		}
		m.bulk = true
		c.track(m)
		c.enqueue(m)
	}
	return nil
}

// pumpOrdered moves the waiting ordered messages on: all of them as
// chunks once the peer is known to be ours and no plain one is in flight,
// otherwise the next one as a plain guaranteed message.
func (c *Conn) pumpOrdered() {
	o := c.tx.ord
	if o == nil {
		return
	}
	for !o.inPlain && o.head < len(o.plain) && c.status != conn.Disconnecting && !c.status.Closed() {
		p := o.plain[o.head]
		o.plain[o.head] = plainOrdered{}
		o.head++
		c.unreserve(p.cost)
		o.held -= p.cost
		var err error
		if c.peer.ext {
			err = c.sendChunks(p.body, p.cb)
		} else {
			o.inPlain = true
			cb := p.cb
			err = c.Send(p.body, conn.RetryOnTimeout, func(ok bool) {
				o.inPlain = false
				if cb != nil {
					cb(ok)
				}
				if ok {
					c.pumpOrdered()
				} else {
					c.abandonOrdered() // what follows a lost message cannot keep its order
				}
			})
			if err != nil {
				o.inPlain = false
			}
		}
		if err != nil {
			if p.cb != nil {
				c.tx.callbacks = append(c.tx.callbacks, callback{p.cb, false})
			}
			c.abandonOrdered()
			return
		}
	}
	if o.head == len(o.plain) {
		clear(o.plain)
		o.plain, o.head = o.plain[:0], 0
	}
}

// abandonOrdered fails the ordered messages still waiting.
func (c *Conn) abandonOrdered() {
	o := c.tx.ord
	if o == nil {
		return
	}
	for _, p := range o.plain[o.head:] {
		c.unreserve(p.cost)
		if p.cb != nil {
			c.tx.callbacks = append(c.tx.callbacks, callback{p.cb, false})
		}
	}
	o.held = 0
	clear(o.plain)
	o.plain, o.head = o.plain[:0], 0
}

// setPeerExt records that the peer is ours: it acks often enough for the
// wide window, and the message seq span may use its wider filter.
func (c *Conn) setPeerExt() {
	if c.peer.ext {
		return
	}
	c.peer.ext = true
	c.cc.SetMaxPackets(wideWindow)
	c.cc.SetQuantum(c.cfg.SendInterval) // it acks every ackPressure packets, at the latest on its next tick
}

// sendCaps tells a client of ours, ahead of anything else, that this end
// speaks extension messages.
func (c *Conn) sendCaps() {
	m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryOnTimeout, nil)
	flags := uint16(protocol.CapsWideWindow | protocol.CapsOrdered | protocol.CapsLazyAcks)
	if c.path != nil {
		flags |= protocol.CapsMigrate
	}
	m.body = protocol.AppendCaps(m.body, protocol.Caps{Flags: flags})
	if c.path != nil {
		c.sendPathID() // behind the caps: queueFirst puts the caps first
	}
	c.queueFirst(m)
}

// handleExt takes an extension message (a KEEP_ALIVE with a body): the
// server's caps, or an ordered chunk. Only an end of ours sends them.
func (c *Conn) handleExt(m protocol.Message) error {
	if caps, ok := protocol.ParseCaps(m.Body); ok {
		if c.role == RoleClient {
			c.setPeerExt()
			c.peer.lazy = caps.Flags&protocol.CapsLazyAcks != 0
			c.pumpOrdered()
		}
		return nil
	}
	if protocol.IsLazy(m.Body) {
		c.recv.lazy = c.role == RoleServer
		return nil
	}
	if kind, data, ok := protocol.ParsePath(m.Body); ok {
		return c.handlePath(kind, data)
	}
	if id, reset, ok := protocol.ParsePathID(m.Body); ok {
		return c.handlePathID(id, reset)
	}
	o, ok := protocol.ParseOrdered(m.Body)
	if !ok {
		return conn.ErrBadMessage
	}
	if c.status != conn.Connected {
		return nil
	}
	c.setPeerExt()
	if c.rx.ord == nil {
		r := &orderedRecv{}
		r.r.Init(orderedWindow, c.cfg.MaxMessageSize)
		r.deliver = func(msg []byte) { c.deliver(r.seq, msg) }
		c.rx.ord = r
	}
	r := c.rx.ord
	r.seq = m.Seq
	v := r.r.Add(o.Seq, o.Final, o.Data, r.deliver)
	switch v {
	case ordered.TooFar:
		c.fail(conn.ErrOutOfWindow)
		return conn.ErrOutOfWindow
	case ordered.TooLarge:
		c.fail(conn.ErrMessageTooLarge)
		return conn.ErrMessageTooLarge
	case ordered.Duplicate:
		c.stats.DuplicateMessages++
	}
	held := r.r.Held()
	if d := held - r.held; d > 0 {
		if err := c.reserve(d); err != nil {
			// The chunk was acknowledged with its packet: it cannot be
			// dropped and resent, so the connection ends.
			c.resetOrdered()
			c.mem.overBudget = false
			c.fail(conn.ErrOverBudget)
			return conn.ErrOverBudget
		}
	} else {
		c.unreserve(-d)
	}
	r.held = held
	return nil
}

// resetOrdered forgets the ordered chunks held and gives back their
// memory.
func (c *Conn) resetOrdered() {
	if r := c.rx.ord; r != nil {
		r.r.Reset()
		c.unreserve(r.held)
		r.held = 0
	}
}
