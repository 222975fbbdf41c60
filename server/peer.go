package server

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/session"
)

// A Peer is the server's side of one client connection, as the
// EventHandler sees it (the reference's EventHandler.Client). Its methods
// must be called on the server's event goroutine: inside handler methods,
// or in a function given to Server.Post.
type Peer struct {
	// What routing a datagram and polling the connection read comes
	// first: the server prefetches only these bytes (peerHotBytes) of a
	// peer whose turn is near.
	conn       *session.Conn
	srv        *Server
	addr       netip.AddrPort
	data       any    // the game's value for the client (SetData)
	pending    bool   // in the temporary pool (handshake not complete)
	gone       bool   // Disconnect was raised
	visiting   bool   // in this tick's list of peers to poll
	backlogged bool   // in the server's list of peers with a backlog
	dueTick    uint64 // connected: the tick it is next polled at (0: none)
	// its place in its slot of the timer wheel (a list through the peers)
	wheelPrev, wheelNext *Peer

	// its share of the current tick
	tick       uint64        // the tick the counts below belong to
	tickDgram  int           // datagrams handled in it
	tickMsgs   int           // messages handed to the handler in it
	tickTime   time.Duration // spent on its datagrams in it
	dgramStart time.Time     // when the work on its current datagram began
	dgramMsgs  int           // messages of that datagram handed over so far

	// messages of accepted datagrams over its share, for the next ticks
	backlog []heldMessage

	path pathOf // its migration (path ID, the address being challenged)

	// The rest is read when a client comes, goes or is over its share.
	carrier      string // "udp", or what the server's Conn names (Carrier)
	label        string // the game's name for the client (SetLabel)
	log          *slog.Logger
	proven       bool      // its hello carried a valid cookie
	refused      bool      // completed its handshake beyond its host's share: disconnected, never announced
	announced    bool      // Connect was raised
	index        int       // position in the server's slice of its pool
	nextPoll     time.Time // pending: when to look at its timers again
	throttled    uint64    // datagrams dropped for going over its share
	backlogBytes int       // the bytes of backlog
	rowRound     uint64    // the round of the snapshot's rows it was taken in (rowGather)
	row          int       // its row in that round
}

// Addr returns the client's address. It identifies the client, but it is
// personal data: do not send it to other clients.
func (p *Peer) Addr() netip.AddrPort {
	return netip.AddrPortFrom(p.addr.Addr().Unmap(), p.addr.Port())
}

// Token returns the session token, a unique id of this connection that is
// safe to share with other clients.
func (p *Peer) Token() uint32 { return p.conn.Token() }

// Latency returns the smoothed one-way latency estimate (half the round
// trip).
func (p *Peer) Latency() time.Duration { return p.conn.Latency() }

// Log returns a logger that adds the client's address (unless an access
// log keeps addresses apart) and token, and lets at most a few lines a
// second through.
func (p *Peer) Log() *slog.Logger { return p.log }

// Stats returns the connection's counters.
func (p *Peer) Stats() conn.Stats { return p.conn.Stats() }

// Status returns the connection state.
func (p *Peer) Status() conn.Status { return p.conn.Status() }

// Err returns why the client left (nil while it is connected): it
// disconnected (conn.ErrPeerClosed), timed out (conn.ErrTimeout), was
// closed by the server (conn.ErrLocalClose) or for abuse
// (conn.ErrOverBudget, conn.ErrOutOfWindow).
func (p *Peer) Err() error { return p.conn.Err() }

// Connected reports whether the client can be sent to.
func (p *Peer) Connected() bool { return p.conn.Status() == conn.Connected && !p.gone }

// Send queues payload for the client; the tick's network phase sends it.
// Messages over conn.MaxSingleMessage bytes are fragmented. callback, when
// not nil, is called once on the event goroutine: true when the client
// acknowledged the message, false when it timed out or the connection
// closed.
func (p *Peer) Send(payload []byte, retry conn.RetryMode, callback func(ok bool)) error {
	if p.gone {
		return conn.ErrNotConnected
	}
	p.srv.touch(p)
	return p.conn.Send(payload, retry, callback)
}

// Hold charges n bytes that the game keeps for this client (a
// replicator's baselines, say) to the connection's memory, under
// Config.MemoryBudget like the messages queued for it: when memory is
// short and the client holds more than its share, it is refused with
// conn.ErrOverBudget and the client is disconnected. What is held is given
// back when the client leaves, or with Release.
func (p *Peer) Hold(n int) error {
	if p.gone {
		return conn.ErrNotConnected
	}
	return p.conn.Hold(n)
}

// Release gives back n bytes of what Hold charged.
func (p *Peer) Release(n int) {
	if !p.gone {
		p.conn.Release(n)
	}
}

// SendGuaranteed sends payload with conn.RetryOnTimeout: it is resent
// until the client acknowledges it.
func (p *Peer) SendGuaranteed(payload []byte, callback func(ok bool)) error {
	return p.Send(payload, conn.RetryOnTimeout, callback)
}

// SendOrdered sends payload reliably and in order: the client's handler
// gets the messages given to SendOrdered in that order, each exactly once,
// whatever the network loses, duplicates or reorders. Messages sent with
// Send are not ordered with them and are never held back by them. A
// client of this implementation takes them at the connection's pace; a
// client of the Python original gets them one per round trip, each sent
// once the one before it is acknowledged (see session.Conn.SendOrdered).
func (p *Peer) SendOrdered(payload []byte, callback func(ok bool)) error {
	if p.gone {
		return conn.ErrNotConnected
	}
	p.srv.touch(p)
	return p.conn.SendOrdered(payload, callback)
}

// Disconnect closes the connection gracefully: the client is sent a
// DISCONNECT and the handler gets Disconnect at the end of the current
// event.
func (p *Peer) Disconnect() {
	p.srv.touch(p)
	p.conn.Disconnect(p.srv.now)
}

// MaxLabel is the longest label SetLabel keeps, in bytes.
const MaxLabel = 32

// SetLabel gives the client the game's name for it (a player's name, a
// team), which snapshots carry (PeerSnapshot.Label) for monitors to show
// beside its address. The label is cleaned: control and invisible
// characters are dropped and it is cut to MaxLabel bytes on a character's
// edge. Like the other methods, call it from the handler.
func (p *Peer) SetLabel(label string) { p.label = cleanLabel(label) }

// Label returns the label SetLabel gave, or "".
func (p *Peer) Label() string { return p.label }

// SetData keeps v with the client for the game: its player, its counters,
// whatever it keeps for each client, which Data then returns from any
// event of the client without a lookup by token or address. Give a
// pointer: the server prefetches the start of what it points to with the
// client's state, before the client's next events. The server never
// reads v; Data returns it until the client's Disconnect event is done.
func (p *Peer) SetData(v any) { p.data = v }

// Data returns the value SetData kept, or nil.
func (p *Peer) Data() any { return p.data }

// cleanLabel keeps the printable characters of s (spaces become one
// space), at most MaxLabel bytes of them.
func cleanLabel(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == utf8.RuneError || !unicode.IsPrint(r):
			continue
		}
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > MaxLabel {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// String describes the client for logs.
func (p *Peer) String() string {
	return p.addr.String() + " token=" + strconv.FormatUint(uint64(p.conn.Token()), 10)
}

// deliver passes a client's message to the handler, announcing the client
// first if the message came in the same datagram as its handshake's end.
func (p *Peer) deliver(seq conn.Seq, msg []byte) {
	s := p.srv
	if p.pending && !s.promote(p) {
		return // refused: its host holds its share
	}
	// A datagram can carry 255 messages: the client's share of the tick
	// is checked for each, so that no handler work one client causes runs
	// past it. The packet is accepted already, so the messages over the
	// share wait for the next ticks.
	if len(p.backlog) > 0 || p.overShare(p.dgramMsgs) {
		s.hold(p, seq, msg)
		return
	}
	p.tickMsgs++
	p.dgramMsgs++
	s.callHandleMessage(p, seq, msg)
}

// beginTick starts counting the client's share of tick n.
func (p *Peer) beginTick(n uint64) {
	if p.tick != n {
		p.tick, p.tickDgram, p.tickMsgs, p.tickTime = n, 0, 0, 0
	}
}

// overShare reports whether the client used its share of the tick: its
// messages, or its time, counting the datagram under way, of which done
// messages were handed over. (The clock is read every eighth message: a
// datagram of a few messages costs no clock read here.)
func (p *Peer) overShare(done int) bool {
	cfg := &p.srv.cfg
	if p.tickMsgs >= cfg.ClientMessages {
		return true
	}
	return done&7 == 7 && p.tickTime+time.Since(p.dgramStart) >= cfg.Interval/clientTimeShare
}

// heldMessage is a message over its client's share, waiting.
type heldMessage struct {
	seq  conn.Seq
	data []byte
}
