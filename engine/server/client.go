package server

import (
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/internal/protocol"
)

// A Client is the server's side of one client connection, as the
// EventHandler sees it. Its methods must be called from the server's event
// goroutine: inside handler methods, or in a function passed to
// Server.Post.
type Client struct {
	srv  *Server
	addr netip.AddrPort
	c    *conn.Conn
	log  *slog.Logger

	pending   bool      // in the temporary pool (handshake not complete)
	proven    bool      // its hello carried a valid cookie
	announced bool      // Connect was raised
	gone      bool      // Disconnect was raised
	index     int       // position in the server's slice of its pool
	nextPoll  time.Time // pending: when to look at its timers again

	// its share of the current tick
	tick       uint64        // the tick the counts below belong to
	tickDgram  int           // datagrams handled in it
	tickMsgs   int           // messages handed to the handler in it
	tickTime   time.Duration // spent on its datagrams in it
	dgramStart time.Time     // when the work on its current datagram began
	dgramMsgs  int           // messages of that datagram handed over so far
	throttled  uint64        // datagrams dropped for going over its share

	// messages of accepted datagrams over its share, for the next ticks
	backlog      []heldMessage
	backlogBytes int
	backlogged   bool // in the server's list of clients with a backlog
}

// Addr returns the client's address. It identifies the client, but it is
// personal data: do not send it to other clients.
func (c *Client) Addr() netip.AddrPort {
	return netip.AddrPortFrom(c.addr.Addr().Unmap(), c.addr.Port())
}

// Token returns the session token, a unique id of this connection that is
// safe to share with other clients.
func (c *Client) Token() uint32 { return c.c.Token() }

// Latency returns the smoothed one-way latency estimate (half the round
// trip).
func (c *Client) Latency() time.Duration { return c.c.Latency() }

// Log returns a logger that adds the client's address and token.
func (c *Client) Log() *slog.Logger { return c.log }

// Stats returns the connection's statistics (live: read them on the event
// goroutine).
func (c *Client) Stats() *conn.Stats { return c.c.Stats() }

// Status returns the connection state.
func (c *Client) Status() conn.Status { return c.c.Status() }

// Err returns why the client left (nil while it is connected): the client
// disconnected (conn.ErrPeerClosed), timed out (conn.ErrTimeout), or the
// server closed it (conn.ErrLocalClose).
func (c *Client) Err() error { return c.c.Err() }

// Connected reports whether the client can be sent to.
func (c *Client) Connected() bool { return c.c.Status() == conn.Connected && !c.gone }

// Send queues payload for the client. Messages over
// protocol.MaxSingleMessage bytes are fragmented. callback, when not nil,
// is called once on the event goroutine: true when the client acknowledged
// the message, false when it timed out or the connection closed.
func (c *Client) Send(payload []byte, retry conn.RetryMode, callback func(ok bool)) error {
	if c.gone {
		return conn.ErrNotConnected
	}
	return c.c.Send(payload, retry, callback)
}

// SendGuaranteed sends payload with conn.RetryOnTimeout: it is resent until
// the client acknowledges it.
func (c *Client) SendGuaranteed(payload []byte, callback func(ok bool)) error {
	return c.Send(payload, conn.RetryOnTimeout, callback)
}

// Disconnect closes the connection gracefully: the client is sent a
// DISCONNECT and the handler gets Disconnect at the end of the current
// event.
func (c *Client) Disconnect() {
	c.c.Disconnect(c.srv.now)
}

// String describes the client for logs.
func (c *Client) String() string {
	return c.addr.String() + " token=" + strconv.FormatUint(uint64(c.c.Token()), 10)
}

// deliver passes a client's message to the handler, announcing the client
// first if the message came in the same datagram as its handshake's end.
func (c *Client) deliver(seq protocol.Seq, msg []byte) {
	s := c.srv
	if c.pending {
		s.promote(c)
	}
	// A datagram can carry 255 messages: its client's share of the tick
	// is checked for each, so that no handler work one client causes runs
	// past it. The packet is accepted already, so the messages over the
	// share wait for the next ticks.
	if len(c.backlog) > 0 || c.overShare(c.dgramMsgs) {
		s.hold(c, seq, msg)
		return
	}
	c.tickMsgs++
	c.dgramMsgs++
	s.callHandleMessage(c, seq, msg)
}

// beginTick starts counting the client's share of tick n.
func (c *Client) beginTick(n uint64) {
	if c.tick != n {
		c.tick, c.tickDgram, c.tickMsgs, c.tickTime = n, 0, 0, 0
	}
}

// overShare reports whether the client used its share of the tick: its
// messages, or its time, counting the datagram under way, of which done
// messages were handed over. (The clock is read every eighth message: a
// datagram of a few messages costs no clock read here.)
func (c *Client) overShare(done int) bool {
	ctx := c.srv.ctx
	if c.tickMsgs >= ctx.clientMessages {
		return true
	}
	return done&7 == 7 && c.tickTime+time.Since(c.dgramStart) >= ctx.interval/clientTimeShare
}

// heldMessage is a message over its client's share, waiting.
type heldMessage struct {
	seq  protocol.Seq
	data []byte
}
