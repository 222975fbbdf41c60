package endpoint

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Default caps of Limits.
const (
	// DefaultPerHost is how many connections one host may hold at a
	// time. A browser opens at most six to one origin over HTTP/1.1, one
	// over HTTP/2; the rest leaves room for a few users behind one NAT
	// address. A listener whose clients share an address (a proxy, a
	// carrier-grade NAT, a school) needs more.
	DefaultPerHost = 32
	// DefaultTotal is how many connections all hosts together may hold
	// at a time.
	DefaultTotal = 4096
)

// Limits are the caps of a Listener.
type Limits struct {
	// PerHost is how many connections one host (an IPv4 address, or the
	// /64 of an IPv6 address) may hold open at a time: 0 means
	// DefaultPerHost, -1 (any negative value) no cap. Behind a reverse
	// proxy every connection comes from the proxy, so raise it there.
	// Connections whose remote address is not an IP address (a Unix
	// socket's) count towards Total only.
	PerHost int
	// Total is how many connections may be open at a time: 0 (or less)
	// means DefaultTotal. There is always a total cap.
	Total int
}

// Stats are the counts of a Listener.
type Stats struct {
	// Open is the connections accepted and not closed yet.
	Open int
	// Hosts is how many hosts hold open connections.
	Hosts int
	// RefusedPerHost is the connections closed at accept since Listen
	// because their host held PerHost already.
	RefusedPerHost uint64
	// RefusedTotal is the connections closed at accept since Listen
	// because Total were open already.
	RefusedTotal uint64
}

// Listener is a net.Listener that caps the connections open at a time,
// per host and in total. Its methods are safe for concurrent use.
type Listener struct {
	ln      net.Listener
	perHost int // < 0: no cap
	total   int

	mu    sync.Mutex
	open  int
	hosts map[netip.Addr]int // open connections by host; never holds a 0

	refusedPerHost atomic.Uint64
	refusedTotal   atomic.Uint64
}

// Listen wraps ln so that Accept returns only connections within lim.
// A connection over either cap is closed at once (with a reset, so that
// neither end keeps its socket) and Accept goes on to the next one; a
// connection Accept returns holds its place until it is closed, however
// it is closed: by the http.Server, by a handler that hijacked it, or
// through a tls.Conn wrapped around it (tls.NewListener, or
// http.Server.ServeTLS over the Listener).
func Listen(ln net.Listener, lim Limits) *Listener {
	l := &Listener{ln: ln, perHost: lim.PerHost, total: lim.Total, hosts: make(map[netip.Addr]int)}
	if l.perHost == 0 {
		l.perHost = DefaultPerHost
	}
	if l.total <= 0 {
		l.total = DefaultTotal
	}
	return l
}

// Accept waits for the next connection within the caps and returns it.
// Errors of the wrapped listener, temporary ones included, are returned
// as they come: http.Server backs off on temporary ones.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return nil, err
		}
		key, isIP := hostKey(c.RemoteAddr())
		if l.take(key, isIP) {
			return &conn{Conn: c, l: l, key: key, isIP: isIP}, nil
		}
		refuse(c)
	}
}

// take counts a connection from key if the caps let it in.
func (l *Listener) take(key netip.Addr, isIP bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isIP && l.perHost > 0 && l.hosts[key] >= l.perHost {
		l.refusedPerHost.Add(1)
		return false
	}
	if l.open >= l.total {
		l.refusedTotal.Add(1)
		return false
	}
	l.open++
	if isIP {
		l.hosts[key]++
	}
	return true
}

// release uncounts a connection take let in.
func (l *Listener) release(key netip.Addr, isIP bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if !isIP {
		return
	}
	if n := l.hosts[key] - 1; n > 0 {
		l.hosts[key] = n
	} else {
		delete(l.hosts, key)
	}
}

// refuse closes a connection over a cap, with a reset where it can: the
// client learns at once, and the socket does not linger in TIME_WAIT.
func refuse(c net.Conn) {
	if s, ok := c.(interface{ SetLinger(int) error }); ok {
		s.SetLinger(0)
	}
	c.Close()
}

// Close closes the wrapped listener. Connections it accepted stay open.
func (l *Listener) Close() error { return l.ln.Close() }

// Addr is the wrapped listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Stats returns the listener's counts.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	s := Stats{Open: l.open, Hosts: len(l.hosts)}
	l.mu.Unlock()
	s.RefusedPerHost = l.refusedPerHost.Load()
	s.RefusedTotal = l.refusedTotal.Load()
	return s
}

// hostKey is what a remote address counts under: an IPv4 address (an
// IPv4-mapped IPv6 one unmapped), or the first address of an IPv6
// address's /64, without its zone. isIP is false for an address that is
// not an IP address.
func hostKey(a net.Addr) (key netip.Addr, isIP bool) {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	case *net.UDPAddr:
		ip = a.AddrPort().Addr()
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	if !ip.IsValid() {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip, true
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return netip.Addr{}, false
	}
	return p.Addr(), true
}

// conn is a connection a Listener counts until it is closed.
type conn struct {
	net.Conn
	l      *Listener
	key    netip.Addr
	isIP   bool
	closed atomic.Bool
}

// Close releases the connection's place, the first time it is called,
// and closes it.
func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key, c.isIP)
	}
	return c.Conn.Close()
}

// CloseWrite shuts the connection's sending side where the wrapped
// connection can (a TCP one): http.Server does so before it closes a
// connection on which it answered an error, so that the client reads the
// answer rather than a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom copies r to the connection with the wrapped connection's
// ReadFrom where it has one: http.Server uses it to send a file with
// sendfile.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// NetConn returns the wrapped connection.
func (c *conn) NetConn() net.Conn { return c.Conn }
