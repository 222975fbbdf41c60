package attack

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Client timing.
const (
	// DefaultDialTimeout bounds a handshake when Dial is given no timeout.
	DefaultDialTimeout = 5 * time.Second
	// helloResend is how often the CLIENT_HELLO and the CHALLENGE_RESP
	// are sent again while no answer comes.
	helloResend = 250 * time.Millisecond
	// inboxSize is how many received datagrams wait for Poll; more are
	// dropped and counted in ClientStats.Overflow.
	inboxSize = 4096
)

// Client errors.
var (
	// ErrClosed: the client's socket is closed.
	ErrClosed = errors.New("attack: client closed")
	// ErrNonceSpent: 65535 packets went out within one second of the
	// header clock, so the next would repeat a (ctime, seq) nonce under
	// the session key. Wait for the next second.
	ErrNonceSpent = errors.New("attack: every packet seq of this second is used; the next packet would reuse a nonce")
)

// A Client is a connection to a server that completed the real handshake
// and then sends whatever packets its caller builds, encrypted under the
// session key. It keeps its own packet seq, message seq and fragment id
// counters and fills each packet's ack fields from the server's packets
// it received (unless WithholdAcks), so the server's reliable traffic is
// acknowledged. A Client is not safe for concurrent use, except Close.
type Client struct {
	sock   *net.UDPConn
	server netip.AddrPort
	aead   *crypto.AEAD
	token  int64
	noAcks bool
	forge  func(ack protocol.Seq, bits uint32) (protocol.Seq, uint32)

	pktSeq, msgSeq, fragID protocol.Seq
	recv                   protocol.Window // the server's packets, for our ack fields
	ctime                  uint32          // header clock of the last packet sent
	ctimeSeq               protocol.Seq    // first packet seq sent in that second
	buf                    []byte

	in       chan []byte // datagrams read from the socket, for Poll
	overflow atomic.Uint64
	readErrs atomic.Uint64
	pending  []protocol.Message // received during the handshake
	stats    ClientStats
}

// ClientStats counts what a Client sent and received.
type ClientStats struct {
	// Datagrams, bytes and messages sent (replays included).
	DatagramsSent, BytesSent, MessagesSent uint64
	// Datagrams accepted from the server (tag checked, not duplicates)
	// and the messages they carried.
	DatagramsReceived, MessagesReceived uint64
	// Rejected counts datagrams from the server that failed a check.
	Rejected uint64
	// Overflow counts datagrams dropped because Poll was not called often
	// enough; ReadErrors counts failed reads (ICMP errors, mostly).
	Overflow, ReadErrors uint64
	// Disconnected is set once the server sent a DISCONNECT message.
	Disconnected bool
	// LastReceive is when the last datagram was accepted.
	LastReceive time.Time
}

// Dial opens a UDP socket to server and completes the handshake: it sends
// a CLIENT_HELLO of the reference's layout (again every 250 ms) until a
// SERVER_HELLO arrives, checks its signature against serverKey (or, when
// serverKey is nil, the key the server sends), derives the session key,
// and sends the CHALLENGE_RESP, alone in its packet, until the server
// answers with an encrypted packet: from then on the server counts the
// client as connected. It gives up after timeout (DefaultDialTimeout
// when 0) or when ctx is done.
func Dial(ctx context.Context, server netip.AddrPort, serverKey *conn.PublicKey, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sock, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, fmt.Errorf("attack: opening a socket to %s: %w", server, err)
	}
	c := &Client{
		sock:   sock,
		server: server,
		buf:    make([]byte, 0, protocol.HeaderSize+0xFFFF+protocol.TagSize),
		in:     make(chan []byte, inboxSize),
	}
	c.recv.Init(32)
	go c.read()
	if err := c.handshake(ctx, serverKey); err != nil {
		c.Close()
		return nil, fmt.Errorf("attack: handshake with %s: %w", server, err)
	}
	return c, nil
}

// read feeds the inbox until the socket is closed.
func (c *Client) read() {
	defer close(c.in)
	for {
		b := make([]byte, protocol.RecvBufferSize)
		n, err := c.sock.Read(b)
		switch {
		case errors.Is(err, net.ErrClosed):
			return
		case err != nil:
			c.readErrs.Add(1)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				time.Sleep(time.Millisecond) // not a busy loop on a lasting error
			}
			continue
		}
		select {
		case c.in <- b[:n]:
		default:
			c.overflow.Add(1)
		}
	}
}

// handshake runs the two round trips of Dial.
func (c *Client) handshake(ctx context.Context, serverKey *conn.PublicKey) error {
	if err := c.sayHello(ctx, serverKey); err != nil {
		return err
	}
	challenge := []protocol.Message{{Seq: c.NextMessageSeq(), Type: protocol.TypeChallengeResp,
		Body: protocol.AppendChallengeResponse(nil, c.token)}}
	send := func() error {
		d, err := c.build(challenge)
		if err != nil {
			return err
		}
		return c.write(d)
	}
	take := func(d []byte) bool {
		msgs, ok := c.open(d)
		c.pending = append(c.pending, msgs...)
		return ok
	}
	if err := c.repeat(ctx, send, take); err != nil {
		return fmt.Errorf("no answer to the CHALLENGE_RESP: %w", err)
	}
	c.stats.MessagesSent += 2
	return nil
}

// sayHello sends the CLIENT_HELLO (the same message, a new packet seq
// each time) until a genuine SERVER_HELLO gives the session key.
func (c *Client) sayHello(ctx context.Context, serverKey *conn.PublicKey) error {
	eph, err := conn.GenerateKey(nil)
	if err != nil {
		return err
	}
	der := eph.Public().DER()
	pad := make([]byte, protocol.ClientHelloPaddingLen(len(der), protocol.ProtocolVersion))
	if _, err := io.ReadFull(rand.Reader, pad); err != nil {
		return fmt.Errorf("reading hello padding: %w", err)
	}
	hello := Hello{Key: der, Padding: pad, MsgSeq: c.NextMessageSeq()}
	send := func() error {
		c.pktSeq = c.pktSeq.Next()
		hello.CTime, hello.Seq = c.clock(), c.pktSeq
		d, err := AppendHello(c.buf[:0], hello)
		if err != nil {
			return err
		}
		return c.write(d)
	}
	var why error // why the last SERVER_HELLO was refused
	take := func(d []byte) bool {
		why = c.serverHello(d, eph, serverKey)
		return why == nil
	}
	if err := c.repeat(ctx, send, take); err != nil {
		if why != nil {
			return fmt.Errorf("no valid SERVER_HELLO (the last one: %v): %w", why, err)
		}
		return fmt.Errorf("no SERVER_HELLO: %w", err)
	}
	return nil
}

// repeat calls send every helloResend until take accepts a datagram
// from the server, or ctx is done.
func (c *Client) repeat(ctx context.Context, send func() error, take func([]byte) bool) error {
	t := time.NewTicker(helloResend)
	defer t.Stop()
	if err := send(); err != nil {
		return err
	}
	for {
		select {
		case d, ok := <-c.in:
			if !ok {
				return ErrClosed
			}
			if take(d) {
				return nil
			}
		case <-t.C:
			if err := send(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// serverHello checks a datagram that should be the SERVER_HELLO and, if
// it is genuine, derives the session key.
func (c *Client) serverHello(d []byte, eph *conn.PrivateKey, serverKey *conn.PublicKey) error {
	h, err := protocol.ParseHeaderFrom(d, protocol.ToClient)
	if err != nil {
		return err
	}
	if h.Type != protocol.TypeServerHello {
		return fmt.Errorf("a %s packet before the SERVER_HELLO", h.Type)
	}
	end := protocol.HeaderSize + int(h.Length)
	if err := crypto.CheckCRC(d, end); err != nil {
		return err
	}
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, d[protocol.HeaderSize:end])
	m, ok := r.Next()
	if !ok || h.Count != 1 || m.Type != protocol.TypeServerHello {
		return fmt.Errorf("a SERVER_HELLO packet without one SERVER_HELLO message: %v", r.Err())
	}
	sh, err := protocol.ParseServerHello(m.Body) // a cookie reply fails here
	if err != nil {
		return err
	}
	if serverKey == nil {
		if serverKey, err = conn.ParsePublicKeyDER(sh.RootKey); err != nil {
			return fmt.Errorf("the server's root key: %w", err)
		}
	}
	if !serverKey.Verify(sh.Signed, sh.Signature) {
		return errors.New("the SERVER_HELLO's signature does not verify")
	}
	sp, err := protocol.ParseSignedPayload(sh.Signed)
	if err != nil {
		return err
	}
	key, err := crypto.SessionKey(eph, sp.PublicKey, sp.Salt)
	if err != nil {
		return err
	}
	if c.aead, err = crypto.NewAEAD(key); err != nil {
		return err
	}
	c.token = sp.Token
	c.accepted(h.Seq)
	return nil
}

// accepted records a packet of the server's for the ack fields.
func (c *Client) accepted(seq protocol.Seq) {
	c.recv.Insert(seq)
	c.stats.DatagramsReceived++
	c.stats.LastReceive = time.Now()
}

// clock returns the header clock: real Unix seconds, never going back.
func (c *Client) clock() uint32 {
	return max(uint32(time.Now().Unix()), c.ctime)
}

// build encodes and encrypts one packet carrying msgs, in c.buf.
func (c *Client) build(msgs []protocol.Message) ([]byte, error) {
	if c.aead == nil {
		return nil, errors.New("attack: no session key yet")
	}
	seq, ctime := c.pktSeq.Next(), c.clock()
	if ctime == c.ctime && seq == c.ctimeSeq {
		return nil, ErrNonceSpent
	}
	h := protocol.Header{
		Direction: protocol.ToServer, CTime: ctime, Seq: seq,
		Type: protocol.HeaderType(msgs), Count: uint8(len(msgs)),
	}
	if !c.noAcks {
		h.Ack, h.AckBits = c.recv.Current(), c.recv.AckBits()
	}
	if c.forge != nil {
		h.Ack, h.AckBits = c.forge(h.Ack, h.AckBits)
	}
	b, err := protocol.AppendPayload(c.buf[:protocol.HeaderSize], msgs)
	if err != nil {
		return nil, fmt.Errorf("attack: building a packet: %w", err)
	}
	n := len(b) - protocol.HeaderSize
	if n > 0xFFFF || n+protocol.HeaderSize+protocol.TagSize > cap(c.buf) {
		return nil, fmt.Errorf("attack: a payload of %d bytes overflows the length field", n)
	}
	h.Length = uint16(n)
	h.Put(b)
	sealed := c.aead.Seal(b[protocol.HeaderSize:protocol.HeaderSize], b[:protocol.HeaderSize], b[protocol.HeaderSize:])
	if ctime != c.ctime {
		c.ctime, c.ctimeSeq = ctime, seq
	}
	c.pktSeq = seq
	return b[:protocol.HeaderSize+len(sealed)], nil
}

func (c *Client) write(d []byte) error {
	if _, err := c.sock.Write(d); err != nil {
		return fmt.Errorf("attack: sending to %s: %w", c.server, err)
	}
	c.stats.DatagramsSent++
	c.stats.BytesSent += uint64(len(d))
	return nil
}

// Send builds one encrypted packet carrying exactly msgs (their seqs,
// types and bodies as given; at most 255 of them, in any size the length
// field allows), sends it and returns a copy of the datagram, which
// SendRaw can replay. The header's type is the first message's
// (KEEP_ALIVE for none); its ack fields are the client's receive window,
// or 0 under WithholdAcks.
func (c *Client) Send(msgs []protocol.Message) ([]byte, error) {
	d, err := c.build(msgs)
	if err != nil {
		return nil, err
	}
	if err := c.write(d); err != nil {
		return nil, err
	}
	c.stats.MessagesSent += uint64(len(msgs))
	return bytes.Clone(d), nil
}

// SendRaw sends b as it is: a replay of an earlier datagram, or anything
// else.
func (c *Client) SendRaw(b []byte) error { return c.write(b) }

// Disconnect sends a DISCONNECT message once, as a graceful close would,
// without waiting for the server's answer.
func (c *Client) Disconnect() error {
	_, err := c.Send([]protocol.Message{c.Message(protocol.TypeDisconnect, nil)})
	return err
}

// NextMessageSeq allocates the next message seq.
func (c *Client) NextMessageSeq() protocol.Seq {
	c.msgSeq = c.msgSeq.Next()
	return c.msgSeq
}

// NextFragmentID allocates the next fragment id.
func (c *Client) NextFragmentID() protocol.Seq {
	c.fragID = c.fragID.Next()
	return c.fragID
}

// Message returns a message of type typ with body and the next message
// seq.
func (c *Client) Message(typ protocol.PacketType, body []byte) protocol.Message {
	return protocol.Message{Seq: c.NextMessageSeq(), Type: typ, Body: body}
}

// WithholdAcks makes the packets built from now on acknowledge nothing
// (ack and ack_bits 0) when on, so the server's reliable traffic times out
// and is resent; off restores honest acks.
func (c *Client) WithholdAcks(on bool) { c.noAcks = on }

// ForgeAcks makes the packets built from now on carry the ack fields
// forge returns, given the honest ones (0 under WithholdAcks): acks of
// packets the server never sent, or everything at once. Nil restores
// honest acks.
func (c *Client) ForgeAcks(forge func(ack protocol.Seq, bits uint32) (protocol.Seq, uint32)) {
	c.forge = forge
}

// Poll returns the messages of every datagram the server sent that is
// waiting, without blocking. Datagrams are checked (header, tag,
// duplicates) and counted; those that fail are dropped. Message bodies
// belong to the caller.
func (c *Client) Poll() ([]protocol.Message, error) { return c.Receive(0) }

// Receive is Poll, but when nothing is waiting it waits up to wait for a
// datagram first. It returns ErrClosed once the client is closed.
func (c *Client) Receive(wait time.Duration) ([]protocol.Message, error) {
	msgs := c.pending
	c.pending = nil
	if len(msgs) == 0 && len(c.in) == 0 && wait > 0 {
		t := time.NewTimer(wait)
		select {
		case d, ok := <-c.in:
			t.Stop()
			if !ok {
				return nil, ErrClosed
			}
			m, _ := c.open(d)
			msgs = append(msgs, m...)
		case <-t.C:
		}
	}
	for {
		select {
		case d, ok := <-c.in:
			if !ok {
				return msgs, ErrClosed
			}
			m, _ := c.open(d)
			msgs = append(msgs, m...)
		default:
			return msgs, nil
		}
	}
}

// open checks and decrypts one datagram from the server in place and
// returns its messages; ok is false when it was rejected.
func (c *Client) open(d []byte) ([]protocol.Message, bool) {
	h, err := protocol.ParseHeaderFrom(d, protocol.ToClient)
	end := protocol.HeaderSize + int(h.Length)
	switch {
	case err != nil, h.Type.UsesCRC(), c.aead == nil, len(d) < end+protocol.TagSize,
		c.recv.Check(h.Seq) == protocol.Duplicate:
		c.stats.Rejected++
		return nil, false
	}
	payload, err := c.aead.Open(d[protocol.HeaderSize:protocol.HeaderSize], d[:protocol.HeaderSize], d[protocol.HeaderSize:end+protocol.TagSize])
	if err != nil || protocol.ValidatePayload(h.Type, h.Count, payload) != nil {
		c.stats.Rejected++
		return nil, false
	}
	c.accepted(h.Seq)
	msgs := make([]protocol.Message, 0, h.Count)
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, payload)
	for m, ok := r.Next(); ok; m, ok = r.Next() {
		if m.Type == protocol.TypeDisconnect {
			c.stats.Disconnected = true
		}
		msgs = append(msgs, m)
	}
	c.stats.MessagesReceived += uint64(len(msgs))
	return msgs, true
}

// Stats returns the counts so far.
func (c *Client) Stats() ClientStats {
	s := c.stats
	s.Overflow, s.ReadErrors = c.overflow.Load(), c.readErrs.Load()
	return s
}

// Token returns the session token the server issued.
func (c *Client) Token() int64 { return c.token }

// Server returns the server's address.
func (c *Client) Server() netip.AddrPort { return c.server }

// LocalAddr returns the client's own address.
func (c *Client) LocalAddr() netip.AddrPort {
	return c.sock.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close closes the socket, without telling the server, and waits for the
// reader to stop.
func (c *Client) Close() error {
	err := c.sock.Close()
	for range c.in {
	}
	return err
}
