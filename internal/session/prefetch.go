package session

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// A server visits thousands of connections a tick, each of whose state
// has left the CPU caches since its last visit: the visit then waits on
// memory, a cache line at a time. The server tells the CPU which
// connections come next, in PrefetchSteps steps a visit apart
// (PrefetchStep), each of which reads only what the steps before brought
// in (reading anything else would wait on memory, which is what
// prefetching is to avoid):
//
//  0. the first half of the struct's hot part (what an exchange of
//     messages reads of it, first in the struct: hotBytes);
//  1. the second half of its hot part;
//  2. what the hot part points to, as far as the next visit reads it (a
//     receive or a poll: Pass): the cipher's state; the words of the
//     windows' bitmaps the next packets read, the oldest packet in flight,
//     the ends of the inline lane and of the send queue, the top of the
//     free list (a receive); the starts of the lane and of the queue, the
//     ring's next slot (a poll);
//  3. the messages those slots point to.
//
// The loads of one step are few enough to be in flight at once (a core
// tracks a couple of dozen), and they overlap with the work on the current
// connection. Prefetches are hints: they change no result.

// PrefetchSteps is the number of prefetch steps of a connection.
const PrefetchSteps = 4

// A Pass is what the visit that a prefetch prepares does with the
// connection: the steps through its pointers fetch what that reads.
type Pass uint8

const (
	Receiving Pass = 1 << iota // Receive (and the game's Send from its handler)
	Polling                    // Poll
	Both      = Receiving | Polling
)

// PrefetchStep takes prefetch step k (0 to PrefetchSteps-1) for the
// connection, whose next visit does pass. Step k pays when steps 0 to
// k-1 were taken a visit or more before; other steps do nothing.
func (c *Conn) PrefetchStep(k int, pass Pass) {
	const half = hotBytes / 2
	switch k {
	case 0:
		prefetch.Range(unsafe.Pointer(c), half)
	case 1:
		prefetch.Range(unsafe.Add(unsafe.Pointer(c), half), hotBytes-half)
	case 2:
		c.prefetchPointed(pass)
	case 3:
		c.prefetchMessages(pass)
	}
}

// prefetchPointed prefetches what the next Receive or Poll reads through
// the connection's pointers (its hot part read only): both decrypt or
// encrypt; a receive checks the windows, settles the packets its acks
// name and takes what the game sends in answer; a poll takes the oldest
// messages of the queues and puts its packet in flight.
func (c *Conn) prefetchPointed(pass Pass) {
	c.cipherState.Prefetch()
	r := &c.tx.inflight
	if pass&Receiving != 0 {
		prefetch.Line(unsafe.Pointer(c.seq.replay.HotWord()))
		prefetch.Line(unsafe.Pointer(c.seq.recvMsgs.HotWord()))
		prefetchWord(c.tx.inline.buf, len(c.tx.inline.buf))   // where Send appends to the lane
		prefetchWord(c.tx.small.items, len(c.tx.small.items)) // and to the queue
		prefetchWord(c.tx.free, len(c.tx.free)-1)
		if len(r.buf) > 0 {
			front := &r.buf[r.head]
			prefetch.Range(unsafe.Pointer(front), unsafe.Sizeof(*front))
		}
	}
	if pass&Polling != 0 {
		prefetchWord(c.tx.inline.buf, c.tx.inline.off) // the lane's oldest message
		prefetchWord(c.tx.small.items, c.tx.small.head)
		if len(r.buf) > 0 {
			next := &r.buf[(r.head+r.n)%len(r.buf)]
			prefetch.Range(unsafe.Pointer(next), unsafe.Sizeof(*next))
		}
		prefetchWord(c.tx.sel, 0)
		prefetchSlot(c.tx.scratch, 0)
	}
}

// prefetchMessages prefetches the messages the next Receive or Poll
// reads: the one the next Send takes from the free list, the one at the
// head of the send queue (it reads the slots prefetchPointed loads).
func (c *Conn) prefetchMessages(pass Pass) {
	if n := len(c.tx.free); n > 0 && pass&Receiving != 0 {
		prefetchMsg(c.tx.free[n-1])
	}
	if q := &c.tx.small; q.head < len(q.items) && pass&Polling != 0 {
		prefetchMsg(q.items[q.head])
	}
}

// prefetchSlot prefetches element i of s's backing array, if within its
// capacity.
func prefetchSlot[T any](s []T, i int) {
	if i >= 0 && i < cap(s) {
		prefetch.Range(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), uintptr(i)*unsafe.Sizeof(*new(T))), unsafe.Sizeof(*new(T)))
	}
}

// prefetchWord prefetches element i of s's backing array, if within its
// capacity, for elements of at most a word (within one line).
func prefetchWord[T byte | *outMsg](s []T, i int) {
	if i >= 0 && i < cap(s) {
		prefetch.Line(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), uintptr(i)*unsafe.Sizeof(*new(T))))
	}
}

// prefetchMsg prefetches a message (nil: none).
func prefetchMsg(m *outMsg) {
	if m != nil {
		prefetch.Range(unsafe.Pointer(m), unsafe.Sizeof(*m))
	}
}
