package session

import (
	"crypto/subtle"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// pathState (allocated for the sessions that have a path ID only) is a
// session's side of migration (protocol.CapsMigrate): the
// path ID that lets a datagram from a new address find the session, and
// the challenge that proves the new address answers.
type pathState struct {
	id    protocol.PathID
	reset protocol.ResetToken

	// server
	challenge   protocol.PathID // the data the new address must send back
	challenging bool
	validated   bool // a response to the challenge came in the last Receive
	migrates    bool // the client speaks extension messages and has a path ID

	// client
	moves bool // the server takes migrations: append the ID
}

// SetPathID gives a server connection the ID that names it in datagrams
// from an address the server does not know (protocol.CapsMigrate). Call it
// before the handshake completes: a client of ours is then told, with the
// server's caps, to append it to its datagrams. It does nothing for a
// client that does not speak extension messages (the reference).
//
// reset is the session's stateless reset token: the server that forgot the
// session (it restarted) sends it to a client whose datagram names the ID,
// and the client then knows the session is gone (conn.ErrReset) without
// waiting for its timeout. The server computes it from the ID and a secret
// of its own that survives a restart.
func (c *Conn) SetPathID(id protocol.PathID, reset protocol.ResetToken) {
	if c.role != RoleServer {
		return
	}
	c.path = &pathState{id: id, reset: reset}
}

// Migrates reports whether the client was given a path ID: it speaks
// extension messages and appends the ID, so that it can move.
func (c *Conn) Migrates() bool { return c.path != nil && c.path.migrates }

// Challenge returns a datagram to send to an address the client may have
// moved to: a packet of its own carrying a path challenge, or nil when
// none can be built now (the connection is not established, or its
// packets are at their bound). fresh draws new challenge data (a new
// address); otherwise the pending challenge is sent again.
func (c *Conn) Challenge(now time.Time, buf []byte, fresh bool) []byte {
	if c.role != RoleServer || c.status != conn.Connected || !c.Migrates() || c.tx.inflight.n >= maxInFlight {
		return nil
	}
	ctime := uint32(now.Unix())
	if ctime < c.seq.ctime {
		ctime = c.seq.ctime
	}
	if ctime == c.seq.ctime && c.seq.ctimeCount >= maxPacketsPerSecond {
		return nil
	}
	if fresh || !c.path.challenging {
		if _, err := io.ReadFull(c.cfg.Rand, c.path.challenge[:]); err != nil {
			return nil
		}
		c.path.challenging = true
	}
	m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryNone, nil)
	m.body = protocol.AppendPath(m.body, protocol.ExtPathChallenge, c.path.challenge)
	sel := append(c.tx.sel[:0], m)
	c.tx.sel = sel
	c.clock.now = c.instant(now)
	dg := c.encode(now, ctime, buf, sel, inlineTaken{})
	c.runCallbacks()
	return dg
}

// PathValidated reports whether the datagram just given to Receive carried
// the answer to the pending challenge, and clears it: the server moves the
// session to that datagram's address if it came from the challenged one.
func (c *Conn) PathValidated() bool {
	if c.path == nil {
		return false
	}
	v := c.path.validated
	c.path.validated = false
	if v {
		c.path.challenging = false
	}
	return v
}

// sendPathID follows the caps to a client of ours: the ID to append.
func (c *Conn) sendPathID() {
	m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryOnTimeout, nil)
	m.body = protocol.AppendPathID(m.body, c.path.id, c.path.reset)
	c.queueFirst(m)
	c.path.migrates = true
}

// handlePathID takes the server's path ID and reset token.
func (c *Conn) handlePathID(id protocol.PathID, reset protocol.ResetToken) error {
	if c.role != RoleClient {
		return conn.ErrBadMessage
	}
	c.path = &pathState{id: id, reset: reset, moves: true}
	return nil
}

// isReset reports whether d is the stateless reset of this client's
// session (compared in constant time: the token is a secret).
func (c *Conn) isReset(d []byte) bool {
	return c.role == RoleClient && c.path != nil && len(d) == protocol.ResetSize &&
		subtle.ConstantTimeCompare(d[protocol.ResetSize-protocol.ResetTokenSize:], c.path.reset[:]) == 1
}

// handlePath takes a path challenge or response.
func (c *Conn) handlePath(kind byte, data protocol.PathID) error {
	switch {
	case kind == protocol.ExtPathChallenge && c.role == RoleClient:
		if c.status != conn.Connected {
			return nil
		}
		// Answer at once, from wherever this end is now.
		m := c.newMsg(protocol.TypeKeepAlive, nil, conn.RetryNone, nil)
		m.body = protocol.AppendPath(m.body, protocol.ExtPathResponse, data)
		c.queueFirst(m)
		c.clock.lastBase = never // the next Poll sends
	case kind == protocol.ExtPathResponse && c.role == RoleServer:
		if c.path != nil && c.path.challenging && data == c.path.challenge {
			c.path.validated = true
		}
	default:
		return conn.ErrBadMessage
	}
	return nil
}

// appendTrailer appends the path ID to a client's encrypted datagram b
// when the server takes migrations and it fits the largest datagram (a
// full packet goes without: the next small one finds the session).
func (c *Conn) appendTrailer(b []byte) []byte {
	if c.role != RoleClient || c.path == nil || !c.path.moves || len(b)+protocol.PathIDSize > protocol.MaxDatagramSize {
		return b
	}
	return append(b, c.path.id[:]...)
}
