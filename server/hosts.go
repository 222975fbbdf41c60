package server

import (
	"net/netip"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// hostCount is what one host holds: sessions (connected clients) and
// handshakes under way.
type hostCount struct {
	sessions, pending int32
}

// hostCounts counts the sessions and handshakes of each host
// (transport.HostKey), so that one host holds at most its share
// (Config.MaxSessionsPerHost). A host that holds nothing has no entry:
// the map is as large as the hosts with clients. Only the event goroutine
// uses it.
type hostCounts struct {
	limit int // -1: no bound
	m     map[netip.Addr]hostCount
}

func newHostCounts(limit int) hostCounts {
	return hostCounts{limit: limit, m: make(map[netip.Addr]hostCount)}
}

// hostOf returns the key of addr's host.
func hostOf(addr netip.AddrPort) netip.Addr { return transport.HostKey(addr.Addr()) }

// refuseHello reports whether a hello from addr is refused: its host holds
// its share of sessions, or, for a hello that did not prove its address,
// as many handshakes under way (a proven hello is never refused for
// handshakes that may be forged).
func (h *hostCounts) refuseHello(addr netip.AddrPort, proven bool) bool {
	if h.limit < 0 {
		return false
	}
	c := h.m[hostOf(addr)]
	return int(c.sessions) >= h.limit || (!proven && int(c.pending) >= h.limit)
}

// full reports whether addr's host holds its share of sessions.
func (h *hostCounts) full(addr netip.AddrPort) bool {
	return h.limit >= 0 && int(h.m[hostOf(addr)].sessions) >= h.limit
}

// add counts a handshake (pending) or a session of addr's host, or takes
// one back (n = -1).
func (h *hostCounts) add(addr netip.AddrPort, pending bool, n int32) {
	k := hostOf(addr)
	c := h.m[k]
	if pending {
		c.pending += n
	} else {
		c.sessions += n
	}
	if c.sessions <= 0 && c.pending <= 0 {
		delete(h.m, k)
		return
	}
	h.m[k] = c
}

// summary returns how many hosts hold something and the most one holds.
// It visits every host: call it once a second, not per datagram.
func (h *hostCounts) summary() (hosts, busiest int) {
	for _, c := range h.m {
		busiest = max(busiest, int(c.sessions+c.pending))
	}
	return len(h.m), busiest
}
