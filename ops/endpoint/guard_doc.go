// This file says what the hardening defends against.
//
// An http.Server left at its zero values serves any number of
// connections, waits forever for a request's header, its body, the next
// request on an idle keep-alive and a client that reads its response
// slowly, and reads headers of up to 1 MB. One host that opens
// connections and keeps them (busy with a request every few seconds, or
// idle, or sending a header a byte at a time) then takes every descriptor
// or every slot a listener has, and nobody else is answered. A cap on
// the total alone, such as golang.org/x/net/netutil.LimitListener, does
// not help: connections over it wait in the kernel's backlog, behind the
// one host's.
//
// Listen wraps a net.Listener so that one host (an IPv4 address, or the
// /64 of an IPv6 address, which is what one subscriber is usually given)
// holds at most DefaultPerHost connections at a time and all hosts
// together DefaultTotal; a connection over either cap is closed as soon
// as it is accepted, so the backlog keeps moving and a new client is
// answered however many connections one host opens. NewServer builds an
// http.Server with bounds on every wait (PublicTimeouts for a listener
// that faces the internet, AdminTimeouts for a status or admin one), a
// 16 KiB header cap, and its error log sent to debug level, since what
// clients cause (failed TLS handshakes, say) must not fill the server's
// log.
//
// Behind a reverse proxy every connection comes from the proxy: raise
// Limits.PerHost to the proxy's own connection pool, or set it to -1.
//
// What these bounds do not stop: many hosts (a botnet, or a host with
// many /64s of IPv6) can still take the Total between them, and a client
// that completes requests within the timeouts is served as often as it
// asks; rate limits per request are the handlers' business.

package endpoint
