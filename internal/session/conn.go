// Package session is one peer's mpgameserver connection as a sans-I/O
// state machine, used for both ends: a client (NewClient) and the
// server's side of one client (NewServer). server and client run
// it; its vocabulary (Status, RetryMode, Stats, the errors) is
// conn's.
//
// A Conn never touches a socket or a clock. The owner feeds it datagrams
// with Receive(now, datagram), asks it for the next datagram with
// Poll(now, buf) (which also runs its timers), and queues messages with
// Send. Application messages are handed to the function set with
// SetHandler; delivery callbacks passed to Send run at the end of the
// Receive or Poll call that resolved them, never in the middle of the
// connection's own bookkeeping.
//
// The wire behaviour is the Python mpgameserver 0.2.4's (see docs/protocol.md), with
// these improvements that stay wire-compatible:
//
//   - every delivery callback runs exactly once, fragmented messages
//     included (true when acknowledged, false on timeout or close);
//   - fragments are resent with their sub-header, and sizes have no holes;
//   - the client repeats its CLIENT_HELLO and the server answers each copy,
//     and the CHALLENGE_RESP is resent until acknowledged, so one lost
//     handshake packet no longer fails a connection;
//   - a bad SERVER_HELLO (for example a spoofed one) is dropped rather than
//     ending the attempt; the attempt fails at the handshake timeout with
//     the reason;
//   - hello packets, which are not authenticated, change nothing once the
//     session key exists; an ack of 0 acknowledges nothing;
//   - the received-message duplicate filter is 960 messages wide and
//     drops messages older than it, and a sender never lets its oldest
//     message awaiting an ack fall 240 message seqs behind its newest, so a
//     resent message is never delivered twice, even to the reference's
//     256-message filter;
//   - every packet seq is read as a 64-bit number and goes through an
//     anti-replay window of 960 packets (RFC 6479): a datagram is
//     accepted once, never when it is older than the window, and a seq
//     that would move the window forward needs a ctime no more than 2 s
//     behind the newest, which tells it from a copy made a wrap of the
//     16-bit ring ago (a sender here builds at most 16,000 packets a
//     second, so a wrap takes more than 3 s); message seqs go through the
//     same kind of window, so no message is delivered twice across any
//     number of wraps;
//   - memory is bounded and charged at its real cost: a connection's send
//     queue (bytes and messages) and partly received messages (bytes and
//     count) have limits, and connections may share a Budget that closes
//     one taking more than its share while memory is short;
//   - a server answers a hello from a template made ahead of time
//     (NewHelloTemplate) and defers the ECDH to the client's first
//     encrypted datagram, and a client understands the cookie replies of
//     a server under a flood of forged hellos;
//   - packets carrying messages are acknowledged within 25 ms, and a peer
//     that receives 16 packets without sending acks them at once (PollAck);
//   - a connection sends as many datagrams per send interval as a
//     congestion window allows (internal/cc, BBR's model), small messages
//     ahead of bulk (fragments, ordered chunks), and resends at once what
//     a later ack shows lost; a client that may be the reference gets one
//     datagram a send interval (its update reads one a frame), a server
//     that may be the reference at most 26 packets in flight, a peer of
//     ours (it says so in its hello, a server answers with a caps message)
//     256;
//   - SendOrdered delivers in order, exactly once: chunks with a 6-byte
//     header in KEEP_ALIVE messages between two ends of ours (the
//     reference ignores such messages), one plain guaranteed message per
//     round trip to a peer that may be the reference.
package session

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unsafe"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/cc"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/prefetch"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Tuning constants of this implementation.
const (
	// msgSeqSpan bounds the distance between the newest message seq sent
	// and the oldest message still being resent, below the reference's
	// 256-message duplicate filter.
	msgSeqSpan = 240
	// ackPressure: after receiving this many packets without sending one,
	// an ack goes out at once (PollAck, or the next Poll), well before the
	// ack field (33 packets) can no longer report them all.
	ackPressure = 16
	// refWindow bounds the packets in flight to a server that may be the
	// reference, which acks only every 100 ms when it has nothing to send
	// (a client that may be the reference gets one datagram an interval):
	// with the send interval's own packets, no more than its ack field
	// reports go unacknowledged.
	refWindow = 26
	// refAckInterval is how long a reference peer may go without acking:
	// its keep-alive interval.
	refAckInterval = 100 * time.Millisecond
	// wideWindow bounds the packets in flight to a peer of ours, which
	// acks every ackPressure packets.
	wideWindow = 256
	// wideSpan is msgSeqSpan for a peer of ours, whose duplicate filter is
	// 960 messages wide.
	wideSpan = 896
	// maxInFlight bounds the packets awaiting an ack.
	maxInFlight = 16384
	// ctimeSlack: a packet that would move the anti-replay window forward
	// may have a ctime at most this many seconds behind the newest
	// packet's (clocks are whole seconds and a peer's may step back a
	// little).
	ctimeSlack = 2
	// maxPacketsPerSecond bounds the packets built in one ctime second, so
	// that the 16-bit seq cannot wrap within ctimeSlack+1 seconds (and so
	// that a (ctime, seq) nonce never repeats).
	maxPacketsPerSecond = 16000
	// replayWidth is how many packets behind the newest the anti-replay
	// window remembers; older ones are refused.
	replayWidth = protocol.DefaultFilterWidth
	// maxFarRun closes a connection whose peer sent this many message seqs
	// in a row too far ahead of the window to place.
	maxFarRun = 256
	// maxScanSkips bounds how many queued messages that do not fit one
	// packet are stepped over while filling it.
	maxScanSkips = 64
	// expireEvery is how often partial fragmented messages are expired.
	expireEvery = time.Second
)

// Conn is one end of a connection. It is not safe for concurrent use: a
// Conn belongs to one goroutine (the server's tick loop, a game's frame
// loop), which also runs its callbacks.
type Conn struct {
	// The hot part: what a connection exchanging messages reads in its
	// every Receive and Poll, packed in as few cache lines as it fits
	// (hotBytes, through cc's first fields), which PrefetchStep fetches.
	cfg         *Config // resolved; shared with other connections (Resolve)
	role        Role
	out         protocol.Direction // direction of the datagrams we send
	in          protocol.Direction // direction we accept
	status      conn.Status
	closing     closeState
	aead        *crypto.AEAD  // the session key's cipher; nil until derived
	cipherState prefetch.Span // what aead reads of its state, for PrefetchStep
	seq         numbering     // our sequence numbers, and the peer's windows
	clock       timers
	mem         holdings // memory held for the peer
	tx          sendSide
	recv        recvState
	counts      counts        // the counters of conn.Stats every echo moves
	cc          cc.Controller // its hot fields first: the hot part ends among them

	// The rest: read on the way in and out of the session, on losses,
	// rarely.
	reason error
	log    *slog.Logger
	peer   peerCaps
	path   *pathState // nil: the session cannot move (no path ID)
	sess   keys       // the handshake
	bits   filterBits // the windows' bitmaps
	rx     recvSide
	stats  conn.Stats // but for the counters in counts
}

// hotBytes is the size of a Conn's hot part.
const hotBytes = unsafe.Offsetof(Conn{}.cc) + cc.HotBytes

// keys are what the handshake sets up.
type keys struct {
	key       [crypto.KeySize]byte
	ephemeral *conn.PrivateKey
	token     uint32
	padOff    int32  // client: where the hello's padding starts
	helloKey  []byte // server: the client's hello key while connecting
	salt      [crypto.SaltSize]byte
	hello     *outMsg // our hello message until the handshake completes
	helloErr  error   // client: why the last SERVER_HELLO was refused
	helloFrom instant // client: when the handshake's timeout starts (0: at creation)
}

// numbering is the sequence numbers we give, and the windows that place
// the peer's.
type numbering struct {
	pktSeq      protocol.Seq
	msgSeq      protocol.Seq
	fragID      protocol.Seq
	newestCTime uint32             // ctime of the peer's newest packet
	ctime       uint32             // ctime of the last packet sent (kept monotonic)
	farRun      int32              // message seqs in a row too far ahead
	ctimeCount  int32              // packets built in that ctime second
	replay      protocol.SeqFilter // the peer's packets: against replays, and our ack fields
	recvMsgs    protocol.SeqFilter // the peer's messages, against duplicates
}

// filterBits are the bitmaps of numbering's windows, of which a packet
// reads a word or two (prefetched by PrefetchStep).
type filterBits struct {
	replay, recvMsgs [protocol.FilterWords]uint64
}

// counts are the counters of conn.Stats that every echo moves, kept in
// the hot part; Stats adds them to the rest.
type counts struct {
	assembled, sent, received, bytesSent, bytesRecv, acked, delivered, resent uint64
}

// timers are the times the connection acts on.
type timers struct {
	created    time.Time // what the instants count from
	now        instant   // the latest time given to Receive
	lastRecv   instant
	lastSend   instant
	lastBase   instant // the send interval's first packet
	burst      int     // packets sent in this send interval
	lastExpire instant
	closeStart instant
	latency    time.Duration
	unacked    int     // packets received since we last sent
	ackDue     instant // when a received packet with messages must be acked
	eagerAt    instant // when the last unmarked unreliable packet went (lazy acks)
	sampledAt  instant // when the latency estimate last took a sample
}

// closeState is the close handshake.
type closeState struct {
	localClose  bool
	peerClose   bool
	closeAcked  bool
	closeOnSend bool // close once our DISCONNECT is sent
}

// holdings is the memory the connection holds for the peer.
type holdings struct {
	held        int  // bytes charged: messages alive plus reassembly
	sendHeld    int  // of which messages alive (queued, resent, in flight)
	liveMsgs    int  // messages alive
	queuedBytes int  // bodies in the send queue
	app         int  // of which the application holds (Hold)
	inBudget    bool // counted among the budget's connections
	overBudget  bool // a request went over our share while memory is short
}

// peerCaps is what the peer speaks beyond the reference's protocol.
type peerCaps struct {
	ext  bool // extension messages: a wide window and ordered messages
	lazy bool // it takes lazy markers (protocol.CapsLazyAcks)
}

type sendSide struct {
	inline      inlineLane // untracked messages that fit a packet, ahead of small
	small       msgQueue   // messages that fit a packet
	bulk        msgQueue   // fragments and ordered chunks, paced by the window
	retrying    []*outMsg
	sweepAt     int // trimRetrying sweeps the whole list at this length
	resendSmall resendQueue
	resendBulk  resendQueue
	ord         *orderedSend // made by the first SendOrdered
	inflight    packetRing
	timeoutAt   instant // the oldest packet in flight times out
	free        []*outMsg
	sel         []*outMsg
	scratch     []protocol.Message
	lazyNext    bool // the packet being encoded carries a lazy marker
	callbacks   []callback
	inCallbacks bool
}

// recvState is what every Receive reads of the receiving side.
type recvState struct {
	lazy    bool // the packet being read carries a lazy marker
	handler func(seq protocol.Seq, msg []byte)
}

// recvSide is the rest of the receiving side.
type recvSide struct {
	reasm protocol.Reassembler
	ord   *orderedRecv // made by the first ordered chunk
}

type callback struct {
	fn func(bool)
	ok bool
}

// NewToken draws a session token from r the way the reference does: four
// random bytes, masked into 0x40000000..0x7FFFFFFF.
func NewToken(r io.Reader) (uint32, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("conn: reading token randomness: %w", err)
	}
	return binary.BigEndian.Uint32(b[:])&0x7FFFFFFF | 0x40000000, nil
}

func newConn(cfg *Config, role Role, now time.Time) (*Conn, error) {
	rc := cfg
	if cfg == nil || !cfg.shared {
		r, err := cfg.resolved()
		if err != nil {
			return nil, err
		}
		rc = &r
	}
	c := &Conn{cfg: rc, role: role, status: conn.Connecting, clock: timers{
		created: now, lastRecv: never, lastSend: never, lastBase: never,
		closeStart: never, ackDue: never, eagerAt: never, sampledAt: never,
	}}
	if role == RoleServer {
		c.out, c.in = protocol.ToClient, protocol.ToServer
	} else {
		c.out, c.in = protocol.ToServer, protocol.ToClient
	}
	c.log = rc.Logger
	c.seq.replay.InitIn(replayWidth, protocol.DefaultFilterAhead, c.bits.replay[:])
	c.seq.recvMsgs.InitIn(rc.MessageWindow, protocol.DefaultFilterAhead, c.bits.recvMsgs[:])
	c.rx.reasm.Limit = rc.MaxReassemblyBytes
	c.rx.reasm.MaxMessage = rc.MaxMessageSize
	c.rx.reasm.MaxPartial = rc.MaxPartialMessages
	c.rx.reasm.Budget = reasmBudget{c}
	c.cc.Init(protocol.MaxDatagramSize, refWindow)
	c.cc.SetEpoch(now) // packet times are instants
	// The reference acks only with what it sends, at the least with its
	// keep-alives every 100 ms.
	c.cc.SetQuantum(max(rc.SendInterval, refAckInterval))
	c.tx.sweepAt = 64
	return c, nil
}

// SetLogger sets the logger of the connection's lines, in place of its
// Config's.
func (c *Conn) SetLogger(l *slog.Logger) { c.log = l }

// SetHandler sets the function that receives application messages. msg is
// only valid during the call: copy it to keep it. Without a handler,
// messages are counted and discarded.
func (c *Conn) SetHandler(h func(seq protocol.Seq, msg []byte)) { c.recv.handler = h }

// Role returns whether c is the client or the server end.
func (c *Conn) Role() Role { return c.role }

// Status returns the connection state.
func (c *Conn) Status() conn.Status { return c.status }

// Err returns why the connection is closed or closing, nil before that.
func (c *Conn) Err() error { return c.reason }

// Token returns the session token (0 until the client has a SERVER_HELLO).
func (c *Conn) Token() uint32 { return c.sess.token }

// Latency returns the smoothed estimate of the one-way delay: an
// exponentially weighted average (alpha 0.1) of half the round trip.
func (c *Conn) Latency() time.Duration { return c.clock.latency }

// Stats returns the connection's counters. Per-second figures are the
// difference of two calls a second apart (a monitor samples them).
func (c *Conn) Stats() conn.Stats {
	s, n := c.stats, &c.counts
	s.Assembled, s.Sent, s.Received, s.BytesSent = n.assembled, n.sent, n.received, n.bytesSent
	s.BytesRecv, s.Acked, s.Delivered, s.Resent = n.bytesRecv, n.acked, n.delivered, n.resent
	return s
}

// PendingAcks returns the number of sent packets awaiting an ack.
func (c *Conn) PendingAcks() int {
	n := 0
	for i := 0; i < c.tx.inflight.n; i++ {
		if !c.tx.inflight.at(i).done {
			n++
		}
	}
	return n
}

// Congestion returns the congestion window in bytes and the estimated
// bandwidth of the path to the peer in bytes a second (0 before the first
// measurement).
func (c *Conn) Congestion() (window int, bandwidth float64) {
	return c.cc.Window(), c.cc.Bandwidth()
}

// QueuedBytes returns the bytes of message bodies waiting in the send
// queue.
func (c *Conn) QueuedBytes() int { return c.mem.queuedBytes }

// Held returns the bytes of memory the connection holds for its peer, as
// charged against its limits and Budget: every message alive (queued,
// waiting for a resend or for its ack) and the partly received messages,
// each at its real cost.
func (c *Conn) Held() int { return c.mem.held }

// Messages returns the messages alive: queued, waiting for a resend or for
// their ack.
func (c *Conn) Messages() int { return c.mem.liveMsgs }

// LastReceive returns when the last datagram was accepted.
func (c *Conn) LastReceive() time.Time { return c.timeOf(c.clock.lastRecv) }

// Disconnect starts a graceful close at now. A connected peer is sent a
// DISCONNECT; the connection is Disconnecting until the peer acknowledges
// it or answers with its own, or the disconnect timeout passes, and then
// Disconnected. Before the handshake finished it closes at once. Every
// message not yet acknowledged gets its callback with false.
func (c *Conn) Disconnect(now time.Time) {
	switch {
	case c.status == conn.Connected:
		c.closing.localClose = true
		c.beginClose(now, conn.ErrLocalClose, conn.RetryBestEffort)
	case c.status == conn.Connecting:
		c.close(conn.Disconnected, conn.ErrLocalClose)
	}
	c.runCallbacks()
}

// Close ends the connection at once, without telling the peer (which
// drops it after its connection timeout). Every message not yet
// acknowledged gets its callback with false.
func (c *Conn) Close() {
	c.close(conn.Disconnected, conn.ErrLocalClose)
	c.runCallbacks()
}

// Fail ends the connection at once because its carrier failed for good,
// with err as the reason: Dropped, as a timeout is, and every message not
// yet acknowledged gets its callback with false. A closed connection
// stays as it is. A client still in its handshake that refused the
// server's answer (a bad signature, say) gives that reason too: the
// carrier's end (the server closing a peer that never completed its
// handshake) follows from it.
func (c *Conn) Fail(err error) {
	if c.sess.helloErr != nil && c.status == conn.Connecting {
		err = fmt.Errorf("%w: %w", err, c.sess.helloErr)
	}
	c.close(conn.Dropped, err)
	c.runCallbacks()
}

// beginClose fails everything pending and queues our DISCONNECT: resent
// until acknowledged when we close, sent once when answering the peer.
func (c *Conn) beginClose(now time.Time, reason error, retry conn.RetryMode) {
	c.abandon()
	c.status, c.reason, c.clock.closeStart = conn.Disconnecting, reason, c.instant(now)
	c.enqueue(c.newMsg(protocol.TypeDisconnect, nil, retry, nil))
	c.log.Debug("disconnecting", "reason", reason)
}

// close moves to a final state, failing whatever is still pending and
// giving back every byte held.
func (c *Conn) close(s conn.Status, reason error) {
	if c.status.Closed() {
		return
	}
	c.abandon()
	c.rx.reasm.Reset()
	c.resetOrdered()
	if h := c.sess.hello; h != nil {
		c.sess.hello = nil
		h.done = true
		c.release(h)
	}
	c.status, c.reason = s, reason
	c.sess.helloKey, c.sess.ephemeral = nil, nil
	c.Release(c.mem.app)
	c.leaveBudget()
	c.log.Debug("connection closed", "status", s, "reason", reason)
}

// fail ends a connection its peer abused (it took more than its memory
// share, or sent what cannot be placed): everything held is released at
// once and a connected peer is told with one DISCONNECT, after which the
// connection is Disconnected with reason.
func (c *Conn) fail(reason error) {
	if c.status != conn.Connected {
		c.close(conn.Disconnected, reason)
		return
	}
	c.abandon()
	c.rx.reasm.Reset()
	c.resetOrdered()
	c.status, c.reason, c.clock.closeStart = conn.Disconnecting, reason, c.clock.now
	c.closing.closeOnSend = true
	c.enqueue(c.newMsg(protocol.TypeDisconnect, nil, conn.RetryNone, nil))
	c.log.Debug("closing an abusive peer", "reason", reason)
}

// abandon resolves every unacknowledged message with false and forgets
// the send queue, the resend list and the packets in flight.
func (c *Conn) abandon() {
	for _, q := range [...]*msgQueue{&c.tx.small, &c.tx.bulk} {
		for m := q.pop(); m != nil; m = q.pop() {
			m.queued = false
			c.resolve(m, false)
			c.release(m)
		}
	}
	c.abandonInline()
	c.mem.queuedBytes = 0
	c.tx.resendSmall.reset()
	c.tx.resendBulk.reset()
	c.abandonOrdered()
	for _, m := range c.tx.retrying {
		m.retrying = false
		c.resolve(m, false)
		c.release(m)
	}
	clear(c.tx.retrying)
	c.tx.retrying = c.tx.retrying[:0]
	for c.tx.inflight.n > 0 {
		p := c.tx.inflight.front()
		for _, m := range p.msgs {
			m.refs--
			c.resolve(m, false)
			c.release(m)
		}
		c.tx.inflight.pop()
	}
}

// runCallbacks runs the delivery callbacks collected so far, in order.
// Callbacks may call Send or Disconnect.
func (c *Conn) runCallbacks() {
	if c.tx.inCallbacks {
		return
	}
	c.tx.inCallbacks = true
	for i := 0; i < len(c.tx.callbacks); i++ {
		cb := c.tx.callbacks[i]
		c.tx.callbacks[i] = callback{}
		cb.fn(cb.ok)
	}
	c.tx.callbacks = c.tx.callbacks[:0]
	c.tx.inCallbacks = false
}

// String describes the connection for logs.
func (c *Conn) String() string {
	return fmt.Sprintf("conn(%s %s token=%d)", c.role, c.status, c.sess.token)
}
