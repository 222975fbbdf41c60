package server

import (
	"unsafe"

	"github.com/mpgs/mpgameserver/internal/dgram"
	"github.com/mpgs/mpgameserver/internal/prefetch"
	"github.com/mpgs/mpgameserver/internal/session"
)

// A tick visits thousands of peers whose state has left the CPU caches
// since their last visit. The receive pass and the poll pass tell the CPU
// which peers come next, in steps a visit apart, each of which reads only
// what the steps before brought in: aheadDepth visits ahead the peer
// (found by its address, for a datagram), then its connection's steps
// (session.Conn.PrefetchStep), the last of them with the peers next to it
// on the timer wheel. Their loads from memory then overlap with the work
// on the current peer instead of stalling it. Prefetches are hints: they
// change no result.

// aheadDepth is how many visits ahead the first step looks.
const aheadDepth = session.PrefetchSteps + 1

// lookahead is the peers of the next datagrams, found by routeAhead's
// first step, each with the address index's generation when it was
// found: route takes a peer found here while the index has not changed
// since, and looks its datagram up again otherwise.
type lookahead struct {
	peers [aheadRing]*Peer
	gens  [aheadRing]uint64
}

// aheadRing is the lookahead's size: more than aheadDepth, a power of two
// (an index is a mask, not a division).
const aheadRing = 8

// Checked as the package compiles: aheadDepth < aheadRing, and aheadRing
// is a power of two.
var (
	_ [aheadRing - aheadDepth - 1]struct{}
	_ [0]struct{} = [aheadRing & (aheadRing - 1)]struct{}{}
)

// peerHotBytes is the part of a Peer that routing a datagram and polling
// its connection read: the fields before carrier.
const peerHotBytes = unsafe.Offsetof(Peer{}.carrier)

// prefetch prefetches the hot part of the peer's struct.
func (p *Peer) prefetch() { prefetch.Range(unsafe.Pointer(p), peerHotBytes) }

// prefetchStep takes the step for p, d visits ahead (d < aheadDepth).
func prefetchStep(p *Peer, d int, pass session.Pass) {
	if p == nil {
		return
	}
	p.conn.PrefetchStep(session.PrefetchSteps-d, pass)
	if d == 1 {
		// the game's value for it (SetData), where its interface points
		if v := (*[2]unsafe.Pointer)(unsafe.Pointer(&p.data))[1]; v != nil {
			prefetch.Range(v, prefetch.LineSize)
		}
		// the peers next to it on the timer wheel, which schedule rewrites
		if q := p.wheelPrev; q != nil {
			prefetch.Range(unsafe.Pointer(&q.wheelPrev), 2*unsafe.Sizeof(q))
		}
		if q := p.wheelNext; q != nil {
			prefetch.Range(unsafe.Pointer(&q.wheelPrev), 2*unsafe.Sizeof(q))
		}
	}
}

// routeAhead prefetches for the datagrams after batch[i], and returns
// the peer of batch[i] if a lookup aheadDepth datagrams before found it
// and still holds (nil otherwise: route looks it up).
func (s *Server) routeAhead(batch []dgram.Datagram, i int) *Peer {
	a := &s.ahead.peers
	const mask = aheadRing - 1
	if j := i + aheadDepth; j < len(batch) {
		p := s.byAddr.get(batch[j].From)
		a[j&mask] = p
		s.ahead.gens[j&mask] = s.byAddr.gen
		if p != nil {
			p.prefetch()
		}
		prefetch.Range(unsafe.Pointer(unsafe.SliceData(batch[j].Data)), min(uintptr(len(batch[j].Data)), 2*prefetch.LineSize))
	}
	pass := session.Both // the visit polls too (replyNow)
	if s.cfg.CoalesceReplies {
		pass = session.Receiving
	}
	for d := 1; d < aheadDepth; d++ {
		prefetchStep(a[(i+d)&mask], d, pass) // nil past the batch's end
	}
	p := a[i&mask]
	a[i&mask] = nil
	if s.ahead.gens[i&mask] != s.byAddr.gen {
		return nil // who is where changed since (a hello, a move, a leave)
	}
	return p
}

// pollAhead prefetches for the peers after due[i].
func pollAhead(due []*Peer, i int) {
	if j := i + aheadDepth; j < len(due) {
		due[j].prefetch()
	}
	for d := 1; d < aheadDepth && i+d < len(due); d++ {
		prefetchStep(due[i+d], d, session.Polling)
	}
}
