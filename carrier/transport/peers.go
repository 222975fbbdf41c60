package transport

import "net/netip"

// A PeerConn is a Conn whose addresses are peers that live beyond their
// datagrams, each a connection of its own that holds memory and
// goroutines (carrier/rtc's browser peers). A server tells it what became
// of each address, so that it holds no peer the server has no session
// for, and which IP addresses are blocked. The server calls these methods
// from its event goroutine, never per datagram; they must not block.
type PeerConn interface {
	Conn
	// SessionOpened says a session at addr completed its handshake.
	SessionOpened(addr netip.AddrPort)
	// SessionClosed says the server forgot the session at addr: it ended,
	// timed out, was refused or never completed its handshake. The peer
	// at addr may be closed once what was sent to it has gone out.
	SessionClosed(addr netip.AddrPort)
	// SetBlocked gives the predicate of the IP addresses to refuse and
	// close. The server calls it when it starts and again whenever its
	// blocklist changes; each call closes the peers it now blocks.
	SetBlocked(blocked func(netip.Addr) bool)
	// PeerStats returns the peers' counts.
	PeerStats() PeerStats
}

// PeerStats count a PeerConn's peers: those that hold a place now, and
// those refused or closed since it started, by reason.
type PeerStats struct {
	// SettingUp counts the peers answered and not yet open; Open those
	// whose channel is open (with a session or on their way to one).
	SettingUp, Open int
	// Sessions counts the open peers with a completed handshake.
	Sessions int
	// Refused counts the peers refused before anything was set up, by
	// reason: the carrier was full, their host held its share, their
	// address was blocked, their offer was malformed or not allowed.
	RefusedFull, RefusedPerHost, RefusedBlocked, RefusedOffer uint64
	// Closed counts the peers closed by the carrier, by reason: their
	// channel did not open in time, they completed no handshake in time,
	// their session ended, their address was blocked.
	ClosedSetup, ClosedHandshake, ClosedSession, ClosedBlocked uint64
}

// HostKey returns the key that groups the addresses of one host: an IPv4
// address as it is, an IPv6 address by its /64 (one subscriber's
// network, which a host can fill with addresses at will). An IPv4-mapped
// IPv6 address is its IPv4 address. Limits per host count by it.
func HostKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is4() || !a.IsValid() {
		return a
	}
	b := a.As16()
	clear(b[8:])
	return netip.AddrFrom16(b)
}

// Unwrap returns the first Conn of c's chain of wrappers (c itself, then
// what each wrapper's Unwrap method returns, as netsim's simulated link
// has) that is a T, if any: how a server finds a carrier's extras (a
// PeerConn, the carrier's names of addresses) behind a wrapper.
func Unwrap[T any](c Conn) (T, bool) {
	for range 16 { // a chain of wrappers, never a cycle
		if t, ok := c.(T); ok {
			return t, true
		}
		u, ok := c.(interface{ Unwrap() Conn })
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	var zero T
	return zero, false
}
