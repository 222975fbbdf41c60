package transport

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// A Network is an in-memory datagram network for tests: Conns on it
// exchange datagrams by address with no sockets and no system calls. A
// datagram to an address nobody listens on is lost, as over UDP; each
// Conn holds at most MemoryQueue datagrams not yet read, and drops (and
// counts as KernelDrops) the rest. Under testing/synctest, Wait follows
// the bubble's clock.
type Network struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
	port  uint16 // the last port handed out
	host  uint32 // the last host handed out by Dial
}

// MemoryQueue is how many unread datagrams a Conn of a Network holds.
const MemoryQueue = 4096

// NewNetwork returns an empty network.
func NewNetwork() *Network { return &Network{conns: make(map[netip.AddrPort]*memConn)} }

// Listen returns a Conn bound to addr. A port of 0 picks a free one; an
// unspecified address means 127.0.0.1.
func (n *Network) Listen(addr netip.AddrPort) (Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := addr.Addr()
	if !a.IsValid() || a.IsUnspecified() {
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	port := addr.Port()
	if port == 0 {
		port = n.freePort(a)
	}
	local := netip.AddrPortFrom(a, port)
	if n.conns[local] != nil {
		return nil, fmt.Errorf("transport: %s is in use", local)
	}
	c := newMemConn(n, local, netip.AddrPort{})
	n.conns[local] = c
	return c, nil
}

// Dial returns a Conn on an address of its own (a new one each time, as a
// client's new socket has a new port) whose datagrams go to peer, and
// which reads only datagrams from peer.
func (n *Network) Dial(peer netip.AddrPort) (Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.host++
	a := netip.AddrFrom4([4]byte{10, byte(n.host >> 16), byte(n.host >> 8), byte(n.host)})
	local := netip.AddrPortFrom(a, n.freePort(a))
	c := newMemConn(n, local, peer)
	n.conns[local] = c
	return c, nil
}

// DialFrom is Dial from a port of its own on the address local: the
// sockets of one host, which share its address.
func (n *Network) DialFrom(local netip.Addr, peer netip.AddrPort) (Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	addr := netip.AddrPortFrom(local, n.freePort(local))
	c := newMemConn(n, addr, peer)
	n.conns[addr] = c
	return c, nil
}

func (n *Network) freePort(a netip.Addr) uint16 {
	for {
		n.port++
		if n.port < 1024 {
			n.port = 1024
		}
		if n.conns[netip.AddrPortFrom(a, n.port)] == nil {
			return n.port
		}
	}
}

func (n *Network) deliver(from, to netip.AddrPort, b []byte) {
	n.mu.Lock()
	c := n.conns[to]
	n.mu.Unlock()
	if c != nil {
		c.push(from, b)
	}
}

func (n *Network) remove(c *memConn) {
	n.mu.Lock()
	if n.conns[c.local] == c {
		delete(n.conns, c.local)
	}
	n.mu.Unlock()
}

// memConn is a Conn of a Network.
type memConn struct {
	inbox
	net    *Network
	local  netip.AddrPort
	peer   netip.AddrPort // set by Dial
	writes atomic.Uint64
}

func newMemConn(n *Network, local, peer netip.AddrPort) *memConn {
	c := &memConn{net: n, local: local, peer: peer}
	c.init(MemoryQueue)
	return c
}

func (c *memConn) push(from netip.AddrPort, b []byte) {
	if c.peer.IsValid() && from != c.peer {
		return // a dialled socket hears only its peer
	}
	c.inbox.push(from, netip.Addr{}, b)
}

func (c *memConn) ReadBatch(ds []Datagram) (int, error) { return c.read(ds) }

func (c *memConn) WriteBatch(ds []Datagram) (int, error) {
	select {
	case <-c.done:
		return 0, ErrClosed
	default:
	}
	c.writes.Add(1)
	for _, d := range ds {
		to := d.Addr
		if c.peer.IsValid() {
			to = c.peer
		}
		c.net.deliver(c.local, to, d.Data)
	}
	return len(ds), nil
}

func (c *memConn) Wait(deadline time.Time) error { return c.wait(deadline) }

func (c *memConn) LocalAddr() netip.AddrPort { return c.local }

func (c *memConn) Stats() Stats {
	drops, reads := c.counts()
	return Stats{KernelDrops: drops, Reads: reads, Writes: c.writes.Load()}
}

func (c *memConn) Close() error {
	if !c.close() {
		return ErrClosed
	}
	c.net.remove(c)
	return nil
}
