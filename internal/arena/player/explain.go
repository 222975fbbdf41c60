package player

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/mpgs/mpgameserver/conn"
)

// firefoxLoopback is the advice for a browser that got no answer from a
// server on the loopback. With its default settings Firefox gathers ICE
// candidates on the default route's interface only (always so for a page
// without camera or microphone permission, whatever
// media.peerconnection.ice.loopback says), and never pairs them with the
// server's loopback candidate, so it sends the server no connectivity
// check; a server offering a routable address works.
const firefoxLoopback = "Firefox does not connect to a game server on the loopback: " +
	"have it listen on this machine's network address (the default --listen :1474 does) " +
	"and open the page at that address, or use Chrome."

// browserLoopback reports whether server is the signaling URL of a server
// on this machine's loopback, reached over the browser carrier: an
// http:// or https:// URL (what the client dials WebRTC for) whose host
// is localhost, a name under .localhost, or a loopback address
// (127.0.0.0/8, ::1).
func browserLoopback(server string) bool {
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return false
	}
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Explain says in a sentence a player understands why the game at server
// ("host:port") could not be joined, or ended: err is what Connect
// returned or what Err says. A nil err, or a close the player asked for,
// is "disconnected". The sentence starts in lower case, so that it can
// follow a prefix ("mpgameserver bots: ..."). When no answer came from a
// server on the loopback over the browser carrier (server is its
// http:// or https:// signaling URL), it adds what to do in Firefox,
// which cannot reach such a server with its default settings.
func Explain(err error, server string) string {
	host := server
	if h, _, e := net.SplitHostPort(server); e == nil {
		host = h
	}
	var (
		dns  *net.DNSError
		addr *net.AddrError
		ver  *VersionError
	)
	switch {
	case err == nil || errors.Is(err, conn.ErrLocalClose):
		return "disconnected"
	case errors.As(err, &ver):
		if ver.Server == 0 {
			return fmt.Sprintf("the server at %s runs an older version of the arena, from before v1: this client is v%d", server, ver.Client)
		}
		return fmt.Sprintf("the server at %s runs another version of the arena: server v%d, this client v%d", server, ver.Server, ver.Client)
	case errors.Is(err, ErrNotArena):
		return fmt.Sprintf("the server at %s hosts another game, not the arena", server)
	case errors.As(err, &dns):
		switch {
		case strings.HasPrefix(dns.Name, "udp/"):
			return fmt.Sprintf("the port in %s is not a number: write host:port, like 127.0.0.1:1474", server)
		case dns.IsNotFound:
			return fmt.Sprintf("cannot find the server %s: check the address", host)
		}
		return fmt.Sprintf("cannot look up the server %s: check the address and the network", host)
	case errors.As(err, &addr):
		return fmt.Sprintf("%q is not a server address: write host:port, like 127.0.0.1:1474", server)
	case errors.Is(err, conn.ErrBadSignature):
		return "the server's key does not match the pinned --pubkey: is it the right server, and the right key file?"
	case errors.Is(err, conn.ErrHandshakeTimeout), errors.Is(err, syscall.ECONNREFUSED):
		if browserLoopback(server) {
			return fmt.Sprintf("no answer from the server at %s: is it running? %s", server, firefoxLoopback)
		}
		return fmt.Sprintf("no answer from the server at %s: is it running?", server)
	case errors.Is(err, conn.ErrHandshake):
		return fmt.Sprintf("the server at %s answered, but not as an mpgameserver server", server)
	case errors.Is(err, conn.ErrReset):
		return fmt.Sprintf("lost the connection: the server at %s restarted and no longer knows this player", server)
	case errors.Is(err, conn.ErrTimeout):
		return fmt.Sprintf("lost the connection: the server at %s stopped answering", server)
	case errors.Is(err, conn.ErrPeerClosed):
		return fmt.Sprintf("the server at %s closed the connection (it stopped, or let this player go)", server)
	}
	return fmt.Sprintf("cannot play at %s: %v", server, err)
}
