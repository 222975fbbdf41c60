package player

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/mpgs/mpgameserver/engine/conn"
)

// Explain says in a sentence a player understands why the game at server
// ("host:port") could not be joined, or ended: err is what Connect
// returned or what Err says. A nil err, or a close the player asked for,
// is "disconnected". The sentence starts in lower case, so that it can
// follow a prefix ("mpgameserver bots: ...").
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
		return fmt.Sprintf("no answer from the server at %s: is it running?", server)
	case errors.Is(err, conn.ErrHandshake):
		return fmt.Sprintf("the server at %s answered, but not as an mpgameserver server", server)
	case errors.Is(err, conn.ErrTimeout):
		return fmt.Sprintf("lost the connection: the server at %s stopped answering", server)
	case errors.Is(err, conn.ErrPeerClosed):
		return fmt.Sprintf("the server at %s closed the connection (it stopped, or let this player go)", server)
	}
	return fmt.Sprintf("cannot play at %s: %v", server, err)
}
