package server

import (
	"encoding/binary"
	"net/netip"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// addrIndex finds the peer of a client address. IPv4 addresses, the common
// case, are kept under a 64-bit key (address and port), which hashes and
// compares in a fraction of the time of a netip.AddrPort; the others under
// the address itself.
type addrIndex struct {
	v4    map[uint64]*Peer
	other map[netip.AddrPort]*Peer
	gen   uint64 // counts the changes: a lookup stays true while it holds
}

func newAddrIndex() addrIndex {
	return addrIndex{v4: make(map[uint64]*Peer), other: make(map[netip.AddrPort]*Peer)}
}

// key4 returns the 64-bit key of an IPv4 address and port.
func key4(a netip.AddrPort) (uint64, bool) {
	if !a.Addr().Is4() {
		return 0, false
	}
	b := a.Addr().As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(a.Port()), true
}

func (x *addrIndex) get(a netip.AddrPort) *Peer {
	if k, ok := key4(a); ok {
		return x.v4[k]
	}
	return x.other[a]
}

func (x *addrIndex) set(a netip.AddrPort, p *Peer) {
	x.gen++
	if k, ok := key4(a); ok {
		x.v4[k] = p
		return
	}
	x.other[a] = p
}

func (x *addrIndex) delete(a netip.AddrPort) {
	x.gen++
	if k, ok := key4(a); ok {
		delete(x.v4, k)
		return
	}
	delete(x.other, a)
}

// carrierOf names how datagrams from addr travel: what the server's Conn
// says when it merges several ways (carrier/rtc.Merge), "udp" otherwise.
func (s *Server) carrierOf(addr netip.AddrPort) string {
	if c, ok := transport.Unwrap[interface{ Carrier(netip.AddrPort) string }](s.conn); ok {
		return c.Carrier(addr)
	}
	return "udp"
}
