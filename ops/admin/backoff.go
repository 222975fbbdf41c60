package admin

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// The back-off of wrong tokens: after backoffFailures wrong tokens from
// one address within backoffWindow of the first, the address is refused
// until that window ends. At most backoffAddrs addresses are tracked.
const (
	backoffFailures = 5
	backoffWindow   = time.Minute
	backoffAddrs    = 4096
)

// backoff counts wrong tokens by address. Every entry's window is as
// long, so the order in which entries are made is the order in which
// their windows end: the list keeps it, and the entries to drop (expired,
// or the first to expire when the table is full) are at its front.
type backoff struct {
	mu    sync.Mutex
	byKey map[netip.Prefix]*list.Element // of *strikes
	order list.List                      // *strikes, earliest window first
}

// strikes are the wrong tokens of one address in its window.
type strikes struct {
	key   netip.Prefix
	start time.Time
	n     int
}

func newBackoff() *backoff {
	return &backoff{byKey: map[netip.Prefix]*list.Element{}}
}

// end returns when s's window ends.
func (s *strikes) end() time.Time { return s.start.Add(backoffWindow) }

// prune drops the entries whose window has ended.
func (b *backoff) prune(now time.Time) {
	for e := b.order.Front(); e != nil; e = b.order.Front() {
		s := e.Value.(*strikes)
		if now.Before(s.end()) {
			return
		}
		b.remove(e)
	}
}

func (b *backoff) remove(e *list.Element) {
	delete(b.byKey, e.Value.(*strikes).key)
	b.order.Remove(e)
}

// wait returns how long key is still refused (0: it is not).
func (b *backoff) wait(key netip.Prefix, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	e, ok := b.byKey[key]
	if !ok {
		return 0
	}
	s := e.Value.(*strikes)
	if s.n < backoffFailures {
		return 0
	}
	return s.end().Sub(now)
}

// fail counts a wrong token from key; it reports whether this one
// started the key's back-off.
func (b *backoff) fail(key netip.Prefix, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	if e, ok := b.byKey[key]; ok {
		s := e.Value.(*strikes)
		s.n++
		return s.n == backoffFailures
	}
	for b.order.Len() >= backoffAddrs {
		b.remove(b.order.Front())
	}
	s := &strikes{key: key, start: now, n: 1}
	b.byKey[key] = b.order.PushBack(s)
	return s.n == backoffFailures
}

// len returns how many addresses are tracked.
func (b *backoff) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byKey)
}

// clientKey returns what wrong tokens are counted by for a request from
// remoteAddr (http.Request.RemoteAddr): an IPv4 address, or an IPv6
// address's /64 (one host usually has a whole /64). Requests from an
// address that does not parse (not a TCP server's) share the zero key.
func clientKey(remoteAddr string) netip.Prefix {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(remoteAddr); err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 32
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// isLoopback reports whether remoteAddr (http.Request.RemoteAddr) is in
// 127.0.0.0/8 or ::1.
func isLoopback(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
