package session

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// A server visits thousands of connections a tick, each of whose state
// has left the CPU caches since its last visit: the visit then waits on
// memory, a cache line at a time. The server tells the CPU which
// connections come next, in steps a visit apart, each of which reads only
// what the step before brought in (reading anything else would wait on
// memory, which is what prefetching is to avoid):
//
//   - Prefetch: the connection's struct, with its windows and timers;
//   - PrefetchDeep: what the struct points to: the cipher's state, the
//     ends of the send queue and of the ring of packets in flight, the top
//     of the free list;
//   - PrefetchMessages: the messages those slots point to.
//
// Their loads from memory then overlap with the work on the current
// connection. Prefetches are hints: they change no result.

// Prefetch asks the CPU to load the connection's struct into its caches.
func (c *Conn) Prefetch() { prefetch.Range(unsafe.Pointer(c), unsafe.Sizeof(*c)) }

// PrefetchDeep asks the CPU to load what the next Receive or Poll reads
// through the connection's pointers (its struct read only).
func (c *Conn) PrefetchDeep() {
	prefetch.Range(c.sess.cipherState, uintptr(c.sess.cipherSize))
	prefetchSlot(c.tx.small.items, c.tx.small.head)
	prefetchSlot(c.tx.small.items, len(c.tx.small.items)) // where Send appends
	prefetchSlot(c.tx.free, len(c.tx.free)-1)
	if r := &c.tx.inflight; len(r.buf) > 0 {
		front := &r.buf[r.head]
		prefetch.Range(unsafe.Pointer(front), unsafe.Sizeof(*front))
		next := &r.buf[(r.head+r.n)%len(r.buf)]
		prefetch.Range(unsafe.Pointer(next), unsafe.Sizeof(*next))
	}
	prefetchSlot(c.tx.sel, 0)
	prefetchSlot(c.tx.scratch, 0)
}

// PrefetchMessages asks the CPU to load the messages the next Receive or
// Poll reads: the one at the head of the send queue and the one the next
// Send takes from the free list. It reads the slots PrefetchDeep loads.
func (c *Conn) PrefetchMessages() {
	if q := &c.tx.small; q.head < len(q.items) {
		prefetchMsg(q.items[q.head])
	}
	if n := len(c.tx.free); n > 0 {
		prefetchMsg(c.tx.free[n-1])
	}
}

// prefetchSlot prefetches element i of s's backing array, if within its
// capacity.
func prefetchSlot[T any](s []T, i int) {
	if i >= 0 && i < cap(s) {
		prefetch.Range(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), uintptr(i)*unsafe.Sizeof(*new(T))), unsafe.Sizeof(*new(T)))
	}
}

// prefetchMsg prefetches a message (nil: none).
func prefetchMsg(m *outMsg) {
	if m != nil {
		prefetch.Range(unsafe.Pointer(m), unsafe.Sizeof(*m))
	}
}
