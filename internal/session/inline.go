package session

import (
	"encoding/binary"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// The inline lane holds the messages nobody tracks (application messages
// sent RetryNone without a callback, that fit a packet) as bytes in one
// buffer, each after its 2-byte length, instead of as a message object
// with a body of its own in the send queue: sending one then touches a
// cache line or two of the connection's instead of five or six objects.
// A message takes the lane only while the send queue is empty, so the
// lane's messages are always older than the queue's and go first: the
// order of sending is kept as the queue keeps it (there too, a message
// too big for what room a packet has left may be overtaken by smaller
// ones behind it). Their costs are charged as the queue's are.

// inlineHeader is the length before each message of the lane.
const inlineHeader = 2

// maxInlineKept bounds the lane's buffer kept while it is empty.
const maxInlineKept = 4 << 10

// inlineLane is the lane's state in sendSide.
type inlineLane struct {
	buf []byte // messages from off on are waiting
	off int
	n   int // messages waiting
}

// sendInline puts msg in the lane and reports true, or reports false when
// msg must take the send queue. cost is what admitSend reserved for it.
func (c *Conn) sendInline(msg []byte, retry conn.RetryMode, cb func(bool), cost int) bool {
	if retry != conn.RetryNone || cb != nil || c.status != conn.Connected || c.tx.small.len() > 0 {
		return false
	}
	l := &c.tx.inline
	if l.n == 0 {
		l.buf, l.off = l.buf[:0], 0
	}
	l.buf = binary.LittleEndian.AppendUint16(l.buf, uint16(len(msg)))
	l.buf = append(l.buf, msg...)
	l.n++
	c.mem.sendHeld += cost
	c.mem.liveMsgs++
	c.mem.queuedBytes += len(msg)
	return true
}

// peekInline returns the body of the lane's message at byte offset off
// and the offset of the next one.
func (l *inlineLane) peek(off int) (body []byte, next int) {
	n := int(binary.LittleEndian.Uint16(l.buf[off:]))
	start := off + inlineHeader
	return l.buf[start : start+n], start + n
}

// inlineTaken is what a packet takes from the lane: its first n messages,
// which end at byte end.
type inlineTaken struct {
	n, end int
}

// takeInline takes the lane's messages, oldest first, while they fit the
// packet b is packing.
func (b *packer) takeInline(l *inlineLane) {
	off := l.off
	if b.inl.n > 0 {
		off = b.inl.end
	}
	for k := b.inl.n; k < l.n && b.canNumber && !b.full(); k++ {
		body, next := l.peek(off)
		if !b.keyed || b.size+len(body)+protocol.Overhead(b.count()+1) > protocol.MaxPayloadSize {
			return
		}
		b.size += len(body)
		b.inl = inlineTaken{n: k + 1, end: next}
		off = next
	}
}

// appendInline appends the messages t took from the lane to msgs, each
// numbered with the next message seq.
func (c *Conn) appendInline(msgs []protocol.Message, t inlineTaken) []protocol.Message {
	l := &c.tx.inline
	for off, k := l.off, 0; k < t.n; k++ {
		body, next := l.peek(off)
		c.seq.msgSeq = c.seq.msgSeq.Next()
		msgs = append(msgs, protocol.Message{Seq: c.seq.msgSeq, Type: protocol.TypeApp, Body: body})
		off = next
	}
	return msgs
}

// dropInline takes the first n messages off the lane, which end at byte
// end, and gives back what they were charged.
func (c *Conn) dropInline(n, end int) {
	l := &c.tx.inline
	for off, k := l.off, 0; k < n; k++ {
		body, next := l.peek(off)
		cost := msgCost(len(body))
		c.mem.sendHeld -= cost
		c.mem.liveMsgs--
		c.mem.queuedBytes -= len(body)
		c.unreserve(cost)
		off = next
	}
	l.off, l.n = end, l.n-n
	if l.n == 0 {
		l.buf, l.off = l.buf[:0], 0
		if cap(l.buf) > maxInlineKept {
			l.buf = nil // a burst's buffer is not kept
		}
	}
}

// abandonInline forgets the lane's messages.
func (c *Conn) abandonInline() {
	if l := &c.tx.inline; l.n > 0 {
		c.dropInline(l.n, len(l.buf))
	}
}
