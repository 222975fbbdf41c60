package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// parseClear parses and CRC-checks a hello datagram going in direction
// want, returning its header and payload. Anyone can send hellos, so its
// refusals are errors made once (no allocation).
func parseClear(d []byte, want protocol.Direction) (protocol.Header, []byte, error) {
	h, err := protocol.ParseHeaderFrom(d, want)
	if err != nil {
		return h, nil, headerRejection(err)
	}
	if !h.Type.UsesCRC() {
		return h, nil, conn.ErrHandshake
	}
	end := protocol.HeaderSize + int(h.Length)
	if len(d) < end+protocol.CRCSize {
		return h, nil, headerRejection(protocol.ErrShortPayload)
	}
	if crypto.CheckCRC(d, end) != nil {
		return h, nil, conn.ErrAuth
	}
	payload := d[protocol.HeaderSize:end:end]
	if protocol.ValidatePayload(h.Type, h.Count, payload) != nil {
		return h, nil, conn.ErrBadPayload
	}
	return h, payload, nil
}

// helloMessage returns the single message of a hello packet, which must be
// of type want, decoded when it is a CLIENT_HELLO. Its refusals allocate
// nothing.
func helloMessage(h protocol.Header, payload []byte, want protocol.PacketType) (protocol.ClientHello, protocol.Message, error) {
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, payload)
	m, ok := r.Next()
	if !ok || h.Count != 1 || m.Type != want {
		return protocol.ClientHello{}, m, errNotOneHello
	}
	if want != protocol.TypeClientHello {
		return protocol.ClientHello{}, m, nil
	}
	hm, err := protocol.SplitClientHello(m.Body)
	if err != nil {
		return hm, m, errHelloLayout
	}
	return hm, m, nil
}

// Hello refusals, made once.
var (
	errNotOneHello = fmt.Errorf("%w: a hello packet must carry one hello message", conn.ErrHandshake)
	errHelloLayout = fmt.Errorf("%w: %w", conn.ErrHandshake, protocol.ErrClientHelloLayout)
)

// Receive processes one datagram received at now. It decrypts the datagram
// in place, so the caller must not use its contents afterwards; message
// bodies passed to the handler point into it.
//
// A datagram that fails any check (header, length, CRC or tag, payload
// framing, duplicate or replayed packet, handshake) is rejected: Receive
// returns an error that wraps one of ErrBadHeader, ErrAuth, ErrBadPayload,
// ErrDuplicate, ErrStale, ErrHandshake, ErrNoSession or ErrClosed, counts it
// in Stats().Drops, and leaves the connection as it was. An error wrapping
// ErrBadMessage means the packet was accepted (its acks count) but one of
// its messages was refused. A client's stateless reset (see SetPathID)
// closes the connection: Receive returns conn.ErrReset, as Err does.
func (c *Conn) Receive(now time.Time, d []byte) error {
	if c.isReset(d) {
		return c.reset(now)
	}
	h, herr := protocol.ParseHeaderFrom(d, c.in)
	err := c.receive(now, d, h, herr)
	c.runCallbacks()
	return err
}

// ReceiveParsed is Receive for a datagram whose header the caller has
// parsed already, with protocol.ParseHeaderFrom and the direction the
// connection receives (a server routing datagrams reads it anyway), and
// found valid: h must be what that parse returned for d.
func (c *Conn) ReceiveParsed(now time.Time, h protocol.Header, d []byte) error {
	if c.isReset(d) {
		return c.reset(now)
	}
	err := c.receive(now, d, h, nil)
	c.runCallbacks()
	return err
}

// reset closes the connection on the peer's stateless reset.
func (c *Conn) reset(now time.Time) error {
	c.clock.now = c.instant(now)
	c.close(conn.Disconnected, conn.ErrReset)
	c.runCallbacks()
	return conn.ErrReset
}

// receive processes d, whose header parsed as h (herr: it did not).
func (c *Conn) receive(now time.Time, d []byte, h protocol.Header, herr error) error {
	c.clock.now = c.instant(now)
	if c.status.Closed() {
		drop(&c.stats, &c.stats.Drops.Closed)
		return conn.ErrClosed
	}
	// The refusals up to the decryption return bare errors: they cost no
	// allocation, whoever sends them and however often.
	if err := herr; err != nil {
		drop(&c.stats, &c.stats.Drops.Header)
		return headerRejection(err)
	}
	if h.Type.UsesCRC() {
		return c.receiveHello(now, d)
	}
	end := protocol.HeaderSize + int(h.Length)
	if len(d) < end+protocol.TagSize {
		drop(&c.stats, &c.stats.Drops.Header)
		return headerRejection(protocol.ErrShortPayload)
	}
	n, v := c.seq.replay.Check(h.Seq)
	switch v {
	case protocol.Duplicate:
		// Checked before decryption too: a duplicate costs no AES work.
		drop(&c.stats, &c.stats.Drops.Duplicate)
		return conn.ErrDuplicate
	case protocol.Stale, protocol.Far:
		drop(&c.stats, &c.stats.Drops.Stale)
		return conn.ErrStale
	}
	if c.aead == nil {
		if c.role != RoleServer || c.status != conn.Connecting || c.sess.ephemeral == nil {
			drop(&c.stats, &c.stats.Drops.NoSession)
			return conn.ErrNoSession
		}
		// The ECDH deferred since the hello, once per connection.
		if err := c.deriveKey(); err != nil {
			drop(&c.stats, &c.stats.Drops.Handshake)
			return err
		}
	}
	sealed := d[protocol.HeaderSize : end+protocol.TagSize]
	payload, err := c.aead.Open(sealed[:0], d[:protocol.HeaderSize], sealed)
	if err != nil {
		drop(&c.stats, &c.stats.Drops.Auth)
		return conn.ErrAuth
	}
	if err := protocol.ValidatePayload(h.Type, h.Count, payload); err != nil {
		drop(&c.stats, &c.stats.Drops.Payload)
		return fmt.Errorf("%w: %w", conn.ErrBadPayload, err)
	}
	if n > c.seq.replay.Newest() && h.CTime+ctimeSlack < c.seq.newestCTime {
		// A seq ahead of the window with an old clock: a copy of a packet
		// from before the ring wrapped.
		drop(&c.stats, &c.stats.Drops.Stale)
		return conn.ErrStale
	}
	if c.status == conn.Connecting {
		// Only the server has a key while connecting, and it accepts
		// nothing but a packet led by the right CHALLENGE_RESP.
		if err := c.checkChallenge(h, payload); err != nil {
			drop(&c.stats, &c.stats.Drops.Handshake)
			return err
		}
	}
	c.accept(now, h, n, len(d))
	armed := h.Count > 0 && c.clock.ackDue == never
	if armed {
		c.clock.ackDue = c.clock.now.add(c.cfg.AckDelay)
	}
	c.processAcks(now, h)
	c.recv.lazy = false
	err = c.dispatch(now, h, payload)
	if armed && c.recv.lazy {
		// A client of ours says nothing in it waits for the ack: it goes
		// with the next packet we send.
		c.clock.ackDue = never
	}
	return err
}

// accept records an authenticated, fresh packet whose seq stands for n.
func (c *Conn) accept(now time.Time, h protocol.Header, n uint64, size int) {
	if n > c.seq.replay.Newest() {
		c.seq.newestCTime = h.CTime
	}
	c.seq.replay.Accept(n)
	c.counts.received++
	c.counts.bytesRecv += uint64(size)
	c.clock.lastRecv = c.clock.now
	c.clock.unacked++
}

// processAcks settles the packets acknowledged by the header's ack fields.
// An ack of 0 acknowledges nothing (the reference reads it as 65535).
func (c *Conn) processAcks(now time.Time, h protocol.Header) {
	if h.Ack == 0 || c.tx.inflight.n == 0 {
		return
	}
	// The packets in flight have consecutive seqs from the front's, so
	// the one acknowledged d packets before h.Ack sits at index top-d.
	// Walk from the newest acknowledged to the oldest (d = 0..32), only
	// over packets that are in flight.
	top := h.Ack.Diff(c.tx.inflight.front().seq)
	if top < 0 {
		return // acknowledges only packets settled already
	}
	for i := min(top, c.tx.inflight.n-1); i >= 0 && i >= top-32; i-- {
		d := top - i
		if d > 0 && h.AckBits&(1<<uint(32-d)) == 0 {
			continue
		}
		if p := c.tx.inflight.at(i); !p.done {
			c.ackPacket(p)
		}
	}
	c.detectLosses(min(top, c.tx.inflight.n-1))
	c.popAcked()
}

// lossThreshold: a packet still unacknowledged when one sent this many
// packets after it is acknowledged is lost (QUIC's packet threshold,
// RFC 9002 §6.1.1).
const lossThreshold = 3

// detectLosses declares lost the packets in flight sent lossThreshold or
// more before the newest acknowledged one (at index top): the congestion
// window stops counting them, and the messages they carried that must
// arrive are resent at once rather than after their resend delay. Each
// packet is looked at once.
func (c *Conn) detectLosses(top int) {
	r := &c.tx.inflight
	for ; r.scanned <= top-lossThreshold; r.scanned++ {
		p := r.at(r.scanned)
		if p.done || !p.cc.InFlight() {
			continue
		}
		c.cc.OnLost(&p.cc)
		c.stats.Lost++
		for _, m := range p.msgs {
			if m.retrying && !m.done && m.lastSent.Equal(c.cc.SentAt(&p.cc)) {
				c.resendsOf(m).pushFront(resendEntry{m: m, gen: m.gen, at: m.lastSent, lost: true})
			}
		}
	}
}

// checkChallenge vets a packet reaching a server that is still connecting:
// its first message must be a new CHALLENGE_RESP with the issued token.
func (c *Conn) checkChallenge(h protocol.Header, payload []byte) error {
	if h.Type != protocol.TypeChallengeResp {
		return fmt.Errorf("%w: %s packet before the challenge response", conn.ErrHandshake, h.Type)
	}
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, payload)
	m, _ := r.Next()
	if _, v := c.seq.recvMsgs.Check(m.Seq); m.Type != protocol.TypeChallengeResp || v != protocol.Fresh {
		return fmt.Errorf("%w: no new challenge response", conn.ErrHandshake)
	}
	tok, err := protocol.ParseChallengeResponse(m.Body)
	if err != nil {
		return fmt.Errorf("%w: %w", conn.ErrHandshake, err)
	}
	if tok != int64(c.sess.token) {
		return fmt.Errorf("%w: challenge token %d, issued %d", conn.ErrHandshake, tok, c.sess.token)
	}
	return nil
}

// receiveHello handles a CRC-protected datagram. Hellos are not
// authenticated, so they are fully checked before anything changes, and
// once the session key exists they change nothing: a client ignores them
// and a server that is still connecting answers a repeated CLIENT_HELLO
// with its SERVER_HELLO again.
func (c *Conn) receiveHello(now time.Time, d []byte) error {
	h, payload, err := parseClear(d, c.in)
	if err != nil {
		switch {
		case errors.Is(err, conn.ErrAuth):
			drop(&c.stats, &c.stats.Drops.Auth)
		case errors.Is(err, conn.ErrBadPayload):
			drop(&c.stats, &c.stats.Drops.Payload)
		case errors.Is(err, conn.ErrHandshake):
			drop(&c.stats, &c.stats.Drops.Handshake)
		default:
			drop(&c.stats, &c.stats.Drops.Header)
		}
		return err
	}
	if c.status != conn.Connecting {
		// A hello after the handshake: a late copy, or anyone's forgery.
		drop(&c.stats, &c.stats.Drops.Duplicate)
		return conn.ErrDuplicate
	}
	if c.role == RoleServer {
		hm, _, err := helloMessage(h, payload, protocol.TypeClientHello)
		if err != nil || string(hm.PublicKey) != string(c.sess.helloKey) {
			drop(&c.stats, &c.stats.Drops.Handshake)
			return errHelloMismatch
		}
		if !c.sess.hello.queued {
			c.sess.hello.done = false
			c.enqueue(c.sess.hello)
		}
		return nil
	}
	n, v := c.seq.replay.Check(h.Seq)
	if v != protocol.Fresh {
		drop(&c.stats, &c.stats.Drops.Duplicate)
		return conn.ErrDuplicate
	}
	return c.receiveServerHello(now, h, n, payload)
}

// errHelloMismatch: a repeated CLIENT_HELLO that is not the first one.
var errHelloMismatch = fmt.Errorf("%w: repeated client hello does not match", conn.ErrHandshake)

// receiveServerHello verifies a SERVER_HELLO and, if it is genuine,
// derives the session key, queues the CHALLENGE_RESP and connects.
func (c *Conn) receiveServerHello(now time.Time, h protocol.Header, n uint64, payload []byte) error {
	fail := func(err error) error {
		c.sess.helloErr = err
		drop(&c.stats, &c.stats.Drops.Handshake)
		return err
	}
	_, msg, err := helloMessage(h, payload, protocol.TypeServerHello)
	if err != nil {
		return fail(err)
	}
	if protocol.IsCookieReply(msg.Body) {
		return c.receiveCookie(msg.Body)
	}
	sh, err := protocol.ParseServerHello(msg.Body)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", conn.ErrHandshake, err))
	}
	key := c.cfg.ServerKey
	if key == nil {
		if key, err = conn.ParsePublicKeyDER(sh.RootKey); err != nil {
			return fail(fmt.Errorf("%w: server root key: %w", conn.ErrHandshake, err))
		}
	}
	if !key.Verify(sh.Signed, sh.Signature) {
		return fail(conn.ErrBadSignature)
	}
	sp, err := protocol.ParseSignedPayload(sh.Signed)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", conn.ErrHandshake, err))
	}
	if sp.Token < 0 || sp.Token > 0xFFFFFFFF {
		return fail(fmt.Errorf("%w: token %d out of range", conn.ErrHandshake, sp.Token))
	}
	if err := c.setKey(sp.PublicKey, sp.Salt); err != nil {
		return fail(err)
	}
	c.sess.token = uint32(sp.Token)
	c.sess.helloErr = nil
	c.accept(now, h, n, len(payload)+protocol.HeaderSize+protocol.CRCSize)
	c.seq.recvMsgs.Insert(msg.Seq)
	c.processAcks(now, h)
	c.resolve(c.sess.hello, true) // stop repeating the hello
	c.sess.hello = nil
	ch := c.newMsg(protocol.TypeChallengeResp, nil, conn.RetryOnTimeout, nil)
	ch.body = protocol.AppendChallengeResponse(ch.body, int64(c.sess.token))
	// The challenge response leads the first encrypted packet, ahead of
	// anything the application queued while connecting.
	c.queueFirst(ch)
	c.status = conn.Connected
	c.joinBudget()
	c.sess.ephemeral = nil // the session key is all that is needed from now on
	c.log.Debug("connected", "token", c.sess.token)
	return nil
}

// dispatch processes the messages of an accepted packet.
func (c *Conn) dispatch(now time.Time, h protocol.Header, payload []byte) error {
	var r protocol.PayloadReader
	var bad error
	r.Reset(h.Type, h.Count, payload)
	for m, ok := r.Next(); ok; m, ok = r.Next() {
		switch c.seq.recvMsgs.Insert(m.Seq) {
		case protocol.Duplicate, protocol.Stale:
			// Older than the filter remembers, a stale message may be a
			// copy of one already delivered: it is dropped too.
			c.stats.DuplicateMessages++
			continue
		case protocol.Far:
			// Too far ahead to tell from a number before the last wrap.
			c.stats.FarMessages++
			if c.seq.farRun++; c.seq.farRun >= maxFarRun {
				c.fail(conn.ErrOutOfWindow)
				return conn.ErrOutOfWindow
			}
			continue
		}
		c.seq.farRun = 0
		if err := c.handle(now, m); err != nil {
			c.stats.BadMessages++
			if bad == nil {
				bad = err
			}
		}
		if c.mem.overBudget {
			c.mem.overBudget = false
			c.fail(conn.ErrOverBudget)
			return conn.ErrOverBudget
		}
	}
	return bad
}

// handle acts on one new message.
func (c *Conn) handle(now time.Time, m protocol.Message) error {
	switch m.Type {
	case protocol.TypeApp:
		if c.status == conn.Connected {
			c.deliver(m.Seq, m.Body)
		}
	case protocol.TypeAppFragment:
		if c.status != conn.Connected {
			return nil
		}
		msg, seq, err := c.rx.reasm.Add(now, m.Seq, m.Body)
		if err != nil {
			if err == protocol.ErrDuplicateFragment {
				return nil
			}
			return conn.ErrBadMessage // no formatting: a peer may send many
		}
		if msg != nil {
			c.deliver(seq, msg)
		}
	case protocol.TypeDisconnect:
		c.peerDisconnect(now)
	case protocol.TypeChallengeResp:
		if c.role == RoleServer && c.status == conn.Connecting {
			// checkChallenge vetted it before the packet was accepted.
			c.status = conn.Connected
			c.joinBudget()
			c.sess.helloKey = nil
			if h := c.sess.hello; h != nil {
				c.sess.hello = nil
				c.release(h) // unless a packet in flight still carries it
			}
			if c.peer.ext {
				c.sendCaps()
			}
			c.log.Debug("connected", "token", c.sess.token)
		}
	case protocol.TypeKeepAlive:
		if len(m.Body) > 0 {
			return c.handleExt(m)
		}
	case protocol.TypeUnknown:
	default:
		return fmt.Errorf("%w: %s message inside an encrypted packet", conn.ErrBadMessage, m.Type)
	}
	return nil
}

func (c *Conn) deliver(seq protocol.Seq, msg []byte) {
	c.counts.delivered++
	if c.recv.handler != nil {
		c.recv.handler(seq, msg)
	}
}

// peerDisconnect handles the peer's DISCONNECT: a connected end answers with
// its own DISCONNECT (which acknowledges the peer's) and closes once that is
// sent; an end that is closing itself takes it as the answer.
func (c *Conn) peerDisconnect(now time.Time) {
	switch c.status {
	case conn.Connected:
		c.closing.peerClose = true
		c.beginClose(now, conn.ErrPeerClosed, conn.RetryNone)
	case conn.Disconnecting:
		c.closing.peerClose = true
	}
}
