// Package netsim simulates an unreliable network path for tests and
// benchmarks: datagrams are dropped, duplicated, delayed and reordered
// according to a seeded random source, so a run can be repeated exactly.
//
// Link is sans-I/O (the caller passes the time); Wrap puts a Link on each
// side of any transport.Conn: a real socket, or an in-memory network's in
// tests (where, under testing/synctest, the delays follow the fake clock).
package netsim

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Profile describes how a link misbehaves. The zero Profile is a perfect
// link with no delay.
type Profile struct {
	// Loss is the probability that a datagram is dropped.
	Loss float64
	// Duplicate is the probability that a datagram is delivered twice (the
	// copy with its own delay).
	Duplicate float64
	// Delay is the base one-way delay.
	Delay time.Duration
	// Jitter adds a uniform random delay in [0, Jitter), which reorders
	// datagrams sent less than Jitter apart.
	Jitter time.Duration
	// Reorder is the probability that a datagram is held back by an extra
	// ReorderDelay, so that later datagrams overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered datagram.
	ReorderDelay time.Duration
}

// LinkStats counts what a Link did.
type LinkStats struct {
	Sent, Dropped, Duplicated, Reordered, Delivered uint64
}

type inFlight struct {
	at   time.Time
	seq  uint64 // tie-break: FIFO among equal times
	data []byte
	addr netip.AddrPort
}

type flightHeap []inFlight

func (h flightHeap) Len() int { return len(h) }
func (h flightHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h flightHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flightHeap) Push(x any)   { *h = append(*h, x.(inFlight)) }
func (h *flightHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = inFlight{}
	*h = old[:n-1]
	return x
}

// A Link carries datagrams one way. It is not safe for concurrent use.
type Link struct {
	p     Profile
	peers map[netip.AddrPort]Profile // profiles of their own, by address
	rng   *rand.Rand
	q     flightHeap
	seq   uint64
	stats LinkStats
}

// NewLink returns a link with profile p whose random choices follow seed.
func NewLink(p Profile, seed uint64) *Link {
	return &Link{p: p, rng: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))}
}

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats { return l.stats }

// Pending returns the number of datagrams in flight.
func (l *Link) Pending() int { return len(l.q) }

func (l *Link) delay(p *Profile) time.Duration {
	d := p.Delay
	if p.Jitter > 0 {
		d += time.Duration(l.rng.Int64N(int64(p.Jitter)))
	}
	if p.Reorder > 0 && l.rng.Float64() < p.Reorder {
		l.stats.Reordered++
		d += p.ReorderDelay
	}
	return d
}

func (l *Link) push(at time.Time, data []byte, addr netip.AddrPort) {
	l.seq++
	heap.Push(&l.q, inFlight{at: at, seq: l.seq, data: data, addr: addr})
}

// Send puts a copy of d on the link at now.
func (l *Link) Send(now time.Time, d []byte) { l.sendTo(now, d, netip.AddrPort{}) }

// sendTo puts a copy of d on the link at now, tagged with an address that
// nextFrom returns with it.
func (l *Link) sendTo(now time.Time, d []byte, addr netip.AddrPort) {
	l.stats.Sent++
	p := &l.p
	if len(l.peers) > 0 {
		if q, ok := l.peers[addr]; ok {
			p = &q
		}
	}
	if p.Loss > 0 && l.rng.Float64() < p.Loss {
		l.stats.Dropped++
		return
	}
	l.push(now.Add(l.delay(p)), append([]byte(nil), d...), addr)
	if p.Duplicate > 0 && l.rng.Float64() < p.Duplicate {
		l.stats.Duplicated++
		l.push(now.Add(l.delay(p)), append([]byte(nil), d...), addr)
	}
}

// Next returns the next datagram due at or before now, or nil. The caller
// owns the returned slice.
func (l *Link) Next(now time.Time) []byte {
	d, _ := l.nextFrom(now)
	return d
}

// nextFrom is Next that also returns the datagram's address.
func (l *Link) nextFrom(now time.Time) ([]byte, netip.AddrPort) {
	if len(l.q) == 0 || l.q[0].at.After(now) {
		return nil, netip.AddrPort{}
	}
	l.stats.Delivered++
	f := heap.Pop(&l.q).(inFlight)
	return f.data, f.addr
}

// NextAt returns when the next datagram is due, and false if none is in
// flight.
func (l *Link) NextAt() (time.Time, bool) {
	if len(l.q) == 0 {
		return time.Time{}, false
	}
	return l.q[0].at, true
}

// SetProfile changes how the link misbehaves from now on; datagrams in
// flight keep their delays.
func (l *Link) SetProfile(p Profile) { l.p = p }

// SetAddrProfile gives the datagrams to or from addr (on a link that
// carries addresses: a wrapped Conn's) a profile of their own, from now
// on; ClearAddrProfile gives them back the link's.
func (l *Link) SetAddrProfile(addr netip.AddrPort, p Profile) {
	if l.peers == nil {
		l.peers = make(map[netip.AddrPort]Profile)
	}
	l.peers[addr] = p
}

// ClearAddrProfile removes addr's own profile.
func (l *Link) ClearAddrProfile(addr netip.AddrPort) { delete(l.peers, addr) }
