package server

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/dgram"
	"github.com/mpgs/mpgameserver/internal/prefetch"
)

// A tick visits thousands of peers whose state has left the CPU caches
// since their last visit. The receive pass and the poll pass tell the CPU
// which peers come next, in steps a visit apart, each of which reads only
// what the step before brought in: four visits ahead the peer (found by
// its address, for a datagram), then its connection's struct, what that
// points to, and the messages that points to (session.Conn.Prefetch and
// what follows it). Their loads from memory then overlap with the work on
// the current peer instead of stalling it. Prefetches are hints: they
// change no result.

// aheadDepth is how many visits ahead the first step looks.
const aheadDepth = 4

// lookahead is the peers of the next datagrams, found by routeAhead's
// first step.
type lookahead [aheadDepth + 1]*Peer

// prefetch prefetches the peer's struct.
func (p *Peer) prefetch() { prefetch.Range(unsafe.Pointer(p), unsafe.Sizeof(*p)) }

// prefetchSteps takes the steps after the first for the peers three, two
// and one visits ahead (nil: none).
func prefetchSteps(p3, p2, p1 *Peer) {
	if p3 != nil {
		p3.conn.Prefetch()
	}
	if p2 != nil {
		p2.conn.PrefetchDeep()
	}
	if p := p1; p != nil {
		p.conn.PrefetchMessages()
		// the peers next to it on the timer wheel, which schedule
		// rewrites
		if q := p.wheelPrev; q != nil {
			prefetch.Range(unsafe.Pointer(&q.wheelPrev), 2*unsafe.Sizeof(q))
		}
		if q := p.wheelNext; q != nil {
			prefetch.Range(unsafe.Pointer(&q.wheelPrev), 2*unsafe.Sizeof(q))
		}
	}
}

// routeAhead prefetches for the datagrams after batch[i]. A peer found
// here only guides the prefetches: route looks its datagram's peer up
// again, as the datagrams before it may have changed who is where.
func (s *Server) routeAhead(batch []dgram.Datagram, i int) {
	a := &s.ahead
	if j := i + aheadDepth; j < len(batch) {
		p := s.byAddr.get(batch[j].From)
		a[j%len(a)] = p
		if p != nil {
			p.prefetch()
		}
		prefetch.Range(unsafe.Pointer(unsafe.SliceData(batch[j].Data)), min(uintptr(len(batch[j].Data)), 2*prefetch.LineSize))
	}
	prefetchSteps(a[(i+3)%len(a)], a[(i+2)%len(a)], a[(i+1)%len(a)])
	a[i%len(a)] = nil
}

// pollAhead prefetches for the peers after due[i].
func pollAhead(due []*Peer, i int) {
	if j := i + aheadDepth; j < len(due) {
		due[j].prefetch()
	}
	prefetchSteps(peerAt(due, i+3), peerAt(due, i+2), peerAt(due, i+1))
}

func peerAt(ps []*Peer, i int) *Peer {
	if i < len(ps) {
		return ps[i]
	}
	return nil
}
